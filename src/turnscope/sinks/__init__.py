"""Sinks: how finished records reach the places they go.

The ``Sink`` protocol every destination implements, the process-wide pipeline that prices
records and hands them to sinks off the agent's event loop (``pipeline``), and an in-memory
sink for tests and embedding (``memory``). The sinks themselves live where their job is:
``turnscope.export`` (spans, scores, metrics, EMF) and ``turnscope.store`` (the local store).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from turnscope.records import Call, CallContext, Turn

__all__ = ["Sink"]


class Sink(Protocol):
    """Receives one call's records. Methods are called on the agent's event loop, so they
    must only hand work over (enqueue), never block; ``flush`` may block and is run off it."""

    def start_call(self, context: CallContext) -> None: ...

    def update_call(self, context: CallContext) -> None: ...

    def on_turn(self, turn: Turn) -> None: ...

    def on_call(self, call: Call) -> None: ...

    def flush(self, timeout: float) -> bool:
        """Deliver everything handed over so far; False if it did not finish in time."""
        ...
