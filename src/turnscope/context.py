"""Who and what a call is: the identity every sink stamps on what it writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["CallContext", "MetadataValue"]

MetadataValue = str | int | float | bool


@dataclass(frozen=True)
class CallContext:
    call_id: str
    """Unique per call: the LiveKit job id when there is one, else a random id."""
    session_id: str
    """Groups the call's traces (the Langfuse session); defaults to ``call_id``."""
    user_id: str | None = None
    trace_name: str | None = None
    tags: tuple[str, ...] = ()
    metadata: Mapping[str, MetadataValue] = field(default_factory=dict)
    prompt_name: str | None = None
    """A Langfuse prompt the LLM generations are linked to."""
    prompt_version: int | None = None
