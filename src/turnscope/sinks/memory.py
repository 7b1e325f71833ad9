"""A sink that keeps records in memory: for tests, benchmarks and embedding."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from turnscope.records import Call, CallContext, Turn

__all__ = ["MemorySink"]


@dataclass
class MemorySink:
    contexts: list[CallContext] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    def start_call(self, context: CallContext) -> None:
        self.contexts.append(context)

    def update_call(self, context: CallContext) -> None:
        self.contexts.append(context)

    def on_turn(self, turn: Turn) -> None:
        self.turns.append(turn)

    def on_call(self, call: Call) -> None:
        self.calls.append(call)

    def flush(self, timeout: float) -> bool:
        return True
