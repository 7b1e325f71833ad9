"""turnscope: complete observability for LiveKit voice agents.

``instrument(session)`` records every conversation turn with its latency breakdown.

The public names load on first use (PEP 562): ``import turnscope.cli`` — every ``turnscope``
command — would otherwise bring in LiveKit, OpenTelemetry and numpy before it could print a
line, where a reading command needs none of them.
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOMES = {
    "configure": "turnscope.config",
    "Instrumentation": "turnscope.instrument",
    "instrument": "turnscope.instrument",
    "prewarm": "turnscope.pricing",
    **dict.fromkeys(
        (
            "Breakdown",
            "Call",
            "CallContext",
            "ComponentRequest",
            "ErrorRecord",
            "ToolRecord",
            "Turn",
        ),
        "turnscope.records",
    ),
}
"""Where each public name is defined."""


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'turnscope' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # found once; later lookups never come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Surface(ModuleType):
    """The package, where ``turnscope.instrument`` stays the function: importing the module
    ``turnscope.instrument`` makes Python set the package's attribute of that name to the
    module (which an eager ``from turnscope.instrument import instrument`` used to overwrite)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "instrument" and isinstance(value, ModuleType):
            value = value.instrument
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Surface
