"""Stores built from simulated calls under contexts of the test's choosing."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from turnscope.records import CallContext
from turnscope.store.writer import LocalStore

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import RecordedCall
    from turnscope.records import Turn


def store_as(
    path: Path,
    recorded: RecordedCall,
    call_id: str,
    *,
    shift: float = 0.0,
    turns: list[Turn] | None = None,
    **context: Any,
) -> None:
    """Write ``recorded`` as call ``call_id`` (its times moved by ``shift`` seconds, its
    turns replaced by ``turns`` when given), with the given context fields."""
    store = LocalStore(path)
    context.setdefault("session_id", call_id)
    store.start_call(CallContext(call_id=call_id, **context))
    for turn in turns if turns is not None else recorded.turns:
        store.on_turn(_moved(turn, call_id, shift))
    call = recorded.call
    store.on_call(
        dataclasses.replace(
            call,
            call_id=call_id,
            started_at=call.started_at + shift,
            ended_at=call.ended_at + shift,
        )
    )
    assert store.close(timeout=10)


def _moved(turn: Turn, call_id: str, shift: float) -> Turn:
    return dataclasses.replace(
        turn,
        call_id=call_id,
        started_at=turn.started_at + shift,
        ended_at=turn.ended_at + shift,
    )
