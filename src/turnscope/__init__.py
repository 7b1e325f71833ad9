"""turnscope: complete observability for LiveKit voice agents.

``instrument(session)`` records every conversation turn with its latency breakdown.
"""

from __future__ import annotations

from turnscope.config import configure
from turnscope.instrument import Instrumentation, instrument
from turnscope.pricing import prewarm
from turnscope.records import (
    Breakdown,
    Call,
    CallContext,
    ComponentRequest,
    ErrorRecord,
    ToolRecord,
    Turn,
)

__all__ = [
    "Breakdown",
    "Call",
    "CallContext",
    "ComponentRequest",
    "ErrorRecord",
    "Instrumentation",
    "ToolRecord",
    "Turn",
    "configure",
    "instrument",
    "prewarm",
]
