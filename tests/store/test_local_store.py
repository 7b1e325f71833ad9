"""The local store against real SQLite files."""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
import stat
from typing import TYPE_CHECKING

import pytest

from tests.conftest import store_call
from turnscope.records import CallContext
from turnscope.store import StoreError, open_for_reading, open_for_writing
from turnscope.store.writer import LocalStore

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache
    from turnscope.records import Turn


def test_a_call_lands_in_calls_turns_components_and_events(
    tmp_path: Path, simulations: SimulationCache
) -> None:
    recorded = simulations.recorded("errors")
    path = tmp_path / "s.db"
    store_call(path, recorded)

    db = open_for_reading(path)
    (call,) = db.execute("SELECT call_id, turns, close_reason FROM calls").fetchall()
    assert call == (recorded.call.call_id, 3, "user_initiated")
    rows = db.execute(
        "SELECT turn, outcome, e2e, endpointing, other FROM turns ORDER BY turn"
    ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [(1, "answered"), (2, "failed"), (3, "answered")]
    for (_, _, e2e, endpointing, other), turn in zip(rows, recorded.turns, strict=True):
        assert e2e == turn.e2e
        assert endpointing == (turn.breakdown.endpointing if turn.breakdown else None)
        assert other == (turn.breakdown.other if turn.breakdown else None)
    kinds = db.execute("SELECT kind, COUNT(*) FROM components GROUP BY kind").fetchall()
    expected = {
        k: sum(1 for t in recorded.turns for r in t.requests if r.kind == k)
        for k in ("stt", "llm", "tts")
    }
    assert dict(kinds) == {k: v for k, v in expected.items() if v}
    errors = db.execute(
        "SELECT turn, component, recoverable FROM events WHERE kind = 'error' ORDER BY at"
    ).fetchall()
    assert errors == [(1, "llm", 1), (2, "tts", 0)]
    costs = db.execute("SELECT cost_usd FROM turns ORDER BY turn").fetchall()
    assert [c[0] for c in costs] == [t.cost.total if t.cost else None for t in recorded.turns]
    (call_cost,) = db.execute("SELECT cost_usd, cost_by_model FROM calls").fetchall()
    assert recorded.call.cost is not None
    assert (recorded.call.cost.total or 0) > 0
    assert call_cost[0] == recorded.call.cost.total
    assert "api.openai.com/gpt-4o-mini" in call_cost[1]
    (user, agent) = db.execute("SELECT user_states, agent_states FROM calls").fetchone()
    assert json.loads(agent) == [[at, s] for at, s in recorded.call.agent_states]
    assert json.loads(user) == [[at, s] for at, s in recorded.call.user_states]
    assert len(recorded.call.agent_states) > 0
    assert len(recorded.call.user_states) > 0


def test_the_file_is_private_and_migrations_are_recorded(tmp_path: Path) -> None:
    path = tmp_path / "private" / "nested" / "s.db"
    open_for_writing(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    again = open_for_writing(path)  # reopening applies nothing twice
    versions = again.execute("SELECT version FROM schema_migrations").fetchall()
    from turnscope.store.migrations import MIGRATIONS

    assert versions == [(n,) for n in range(1, len(MIGRATIONS) + 1)]


def test_content_capture_off_keeps_words_out_of_the_store(
    tmp_path: Path, simulations: SimulationCache
) -> None:
    recorded = simulations.recorded("basic")
    path = tmp_path / "s.db"
    store_call(path, recorded, capture_content=False)

    db = open_for_reading(path)
    texts = db.execute("SELECT user_text, agent_text FROM turns").fetchall()
    assert texts
    assert all(t == (None, None) for t in texts)
    tools = db.execute("SELECT arguments, output FROM components WHERE kind = 'tool'").fetchall()
    assert tools == [(None, None)]
    raw = path.read_bytes()
    assert b"Paris" not in raw
    assert b"Acme" not in raw


def test_an_unwritable_path_logs_once_and_turns_the_store_off(
    tmp_path: Path, simulations: SimulationCache, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    recorded = simulations.recorded("tool_with_preamble")
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        store = LocalStore(blocker / "s.db")
        store.start_call(recorded.handle.context)
        store.flush(5)
        for turn in recorded.turns:
            store.on_turn(turn)
        store.on_call(recorded.call)
        store.close(5)
    lines = [r.getMessage() for r in caplog.records if "local store off" in r.getMessage()]
    assert len(lines) == 1
    assert "TURNSCOPE_DB" in lines[0]


def test_reading_a_missing_or_foreign_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no turnscope store"):
        open_for_reading(tmp_path / "missing.db")
    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE x (y)").connection.commit()
    with pytest.raises(StoreError, match="not a turnscope store"):
        open_for_reading(foreign)


def test_the_size_cap_prunes_the_oldest_calls(tmp_path: Path, simulations: SimulationCache) -> None:
    recorded = simulations.recorded("long", turns=6)
    path = tmp_path / "s.db"
    store = LocalStore(path, max_mb=0.05)  # 50 kB: a few calls at most
    for n in range(40):
        context = CallContext(call_id=f"call-{n:03}", session_id="s")
        store.start_call(context)
        for turn in recorded.turns:
            store.on_turn(_renumbered(turn, context.call_id))
        store.flush(10)
    store.close(10)
    db = open_for_reading(path)
    kept = [r[0] for r in db.execute("SELECT call_id FROM calls ORDER BY call_id")]
    assert 0 < len(kept) < 40
    assert kept[-1] == "call-039"  # the newest survive
    assert "call-000" not in kept


def _renumbered(turn: Turn, call_id: str) -> Turn:
    return dataclasses.replace(turn, call_id=call_id)
