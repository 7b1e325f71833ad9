"""Migrations on real store files an older turnscope wrote."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from typing import TYPE_CHECKING

import pytest

from tests.conftest import store_call
from turnscope.store import open_for_reading, open_for_writing
from turnscope.store.rows import states_json
from turnscope.store.writer import LocalStore

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache
    from turnscope.records import Call


def _as_written_before_migration_10(path: Path, calls: list[Call]) -> None:
    """Turn a store into what turnscope wrote before migration 10: each state change an
    ``events`` row (written after the call's errors, in the call's order), no state columns."""
    raw = sqlite3.connect(path)
    for call in calls:
        for kind, states in (("user_state", call.user_states), ("agent_state", call.agent_states)):
            raw.executemany(
                "INSERT INTO events (call_id, turn, at, kind, component, detail, message, "
                "recoverable, request_id) VALUES (?, NULL, ?, ?, NULL, ?, NULL, NULL, NULL)",
                [(call.call_id, at, kind, state) for at, state in states],
            )
    raw.execute("ALTER TABLE calls DROP COLUMN user_states")
    raw.execute("ALTER TABLE calls DROP COLUMN agent_states")
    raw.execute("DELETE FROM schema_migrations WHERE version = 10")
    raw.commit()
    raw.close()


def _events(path: Path) -> list[tuple[object, ...]]:
    """The store's events as they are (a plain read-only connection: no upgrade)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT * FROM events ORDER BY rowid").fetchall()
    finally:
        db.close()


@pytest.mark.parametrize("opened", ["writing", "reading"])
def test_an_older_stores_state_changes_move_into_their_calls_exactly(
    tmp_path: Path, simulations: SimulationCache, opened: str
) -> None:
    """Opening an older store (to write, or to read: reading upgrades it) moves every state
    change into its call's row — same times to the last bit, same order, the same text a new
    write stores — and deletes those events; errors, false interruptions and handoffs stay
    events."""
    recorded = [simulations.recorded(s) for s in ("falseint", "handoff", "errors")]
    path = tmp_path / "old.db"
    for one in recorded:
        store_call(path, one)
    kept = _events(path)
    assert {row[3] for row in kept} >= {"error", "false_interruption", "handoff"}
    calls = [one.call for one in recorded]
    _as_written_before_migration_10(path, calls)
    moved = sum(len(c.user_states) + len(c.agent_states) for c in calls)
    assert len(_events(path)) == len(kept) + moved > len(kept)

    if opened == "writing":
        open_for_writing(path).close()
    db = open_for_reading(path)
    for call in calls:
        user, agent = db.execute(
            "SELECT user_states, agent_states FROM calls WHERE call_id = ?", (call.call_id,)
        ).fetchone()
        assert (user, agent) == (states_json(call.user_states), states_json(call.agent_states))
        assert json.loads(agent) == [[at, state] for at, state in call.agent_states]
        assert len(call.agent_states) > 0
    assert _events(path) == kept


def test_a_call_without_state_changes_stores_null_not_an_empty_list(
    tmp_path: Path, simulations: SimulationCache
) -> None:
    """No state change recorded reads NULL, as in a moved store's calls that had none."""
    recorded = simulations.recorded("basic")
    path = tmp_path / "s.db"
    store = LocalStore(path)
    store.start_call(recorded.handle.context)
    store.on_call(dataclasses.replace(recorded.call, user_states=(), agent_states=()))
    assert store.close(10)
    db = open_for_reading(path)
    assert db.execute("SELECT user_states, agent_states FROM calls").fetchone() == (None, None)
