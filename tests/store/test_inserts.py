"""The writer's fast inserts store exactly what one ``executemany`` per record stored: same
values, same types, same NULLs, same order — on real store files."""

from __future__ import annotations

import dataclasses
import random
import sqlite3
from typing import TYPE_CHECKING, Any

import pytest

from turnscope.records import CallContext
from turnscope.store import open_for_reading, open_for_writing
from turnscope.store.inserts import MAX_VARIABLES, MOST_VARIABLES, _variables, insert
from turnscope.store.rows import CALL_END_SQL, CALL_START_SQL, COMPONENT_SQL, EVENT_SQL, TURN_SQL
from turnscope.store.writer import LocalStore

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache

Statement = tuple[str, list[tuple[Any, ...]]]


def test_sqlite_stores_a_bound_nan_as_null_and_refuses_it_where_null_is() -> None:
    """What ``insert`` relies on to bind None cheaply, checked against this SQLite."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (r REAL, s TEXT, i INTEGER, required REAL NOT NULL)")
    db.execute("INSERT INTO t VALUES (?, ?, ?, 1)", (float("nan"),) * 3)
    assert db.execute("SELECT r, s, i, typeof(r), typeof(s), typeof(i) FROM t").fetchone() == (
        None, None, None, "null", "null", "null",
    )  # fmt: skip
    with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
        db.execute("INSERT INTO t VALUES (1, 'a', 1, ?)", (float("nan"),))


def _value(rng: random.Random, kind: str) -> Any:
    if kind == "INTEGER":
        return rng.choice([0, 1, -7, 2**62, rng.randrange(10**6)])
    if kind == "REAL":
        return rng.choice([0.0, -0.0, 1e-9, 0.1 + 0.2, 1796611750.1116297, rng.random(), 3])
    return rng.choice(["", "plain", "ünïcödé ✓", "x" * 5000, "quote ' \" ; -- ", "\n\t"])


def _columns(db: sqlite3.Connection, sql: str) -> list[tuple[str, bool]]:
    """Each column ``sql`` writes: its declared type and whether it takes NULL."""
    table = sql.split("INTO ")[1].split()[0]
    names = sql.split("(", 1)[1].split(")", 1)[0].split(",")
    declared = {n: (t, not nn) for _, n, t, nn, *_ in db.execute(f"PRAGMA table_info({table})")}
    return [declared[name.strip()] for name in names]


def _row(rng: random.Random, columns: list[tuple[str, bool]], *key: Any) -> tuple[Any, ...]:
    """``key`` then a random value per column: None (a third of the time where it may be),
    numbers, text long and short."""
    rest = [
        None if nullable and rng.random() < 0.35 else _value(rng, kind)
        for kind, nullable in columns[len(key) :]
    ]
    return (*key, *rest)


def _statements(db: sqlite3.Connection, seed: int) -> list[Statement]:
    """A batch as the writer gets it, one record's statements after another: calls started,
    updated and ended in any order, turns written twice (INSERT OR REPLACE), components and
    events in runs longer and shorter than one many-row statement."""
    rng = random.Random(seed)
    every = (CALL_START_SQL, CALL_END_SQL, TURN_SQL, COMPONENT_SQL, EVENT_SQL)
    columns = {sql: _columns(db, sql) for sql in every}
    found: list[Statement] = []
    for _ in range(rng.randrange(1, 150)):
        call = f"call-{rng.randrange(4)}"
        which = rng.random()
        if which < 0.2:
            sql = rng.choice([CALL_START_SQL, CALL_END_SQL])
            found.append((sql, [_row(rng, columns[sql], call, call)]))
            continue
        turn = rng.randrange(30)
        found.append((TURN_SQL, [_row(rng, columns[TURN_SQL], call, turn)]))
        for sql, most in ((COMPONENT_SQL, 6), (EVENT_SQL, 40)):
            found.append(
                (sql, [_row(rng, columns[sql], call, turn) for _ in range(rng.randrange(most))])
            )
    return found


def _flat(rows: list[tuple[Any, ...]]) -> list[Any]:
    """Rows as the writer queues them: their values one row after another."""
    return [value for row in rows for value in row]


def _dump(db: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table: db.execute(
            f"SELECT rowid, *, {', '.join(f'typeof({c})' for c in _names(db, table))} "
            f"FROM {table} ORDER BY rowid"
        ).fetchall()
        for table in ("calls", "turns", "components", "events")
    }


def _names(db: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


@pytest.mark.parametrize("seed", range(12))
def test_a_batch_is_stored_as_one_executemany_per_record_stores_it(
    tmp_path: Path, seed: int
) -> None:
    fast, plain = open_for_writing(tmp_path / "fast.db"), open_for_writing(tmp_path / "plain.db")
    statements = _statements(fast, seed)
    fast.execute("BEGIN")
    insert(fast, [(sql, _flat(rows)) for sql, rows in statements])
    fast.execute("COMMIT")
    plain.execute("BEGIN")
    for sql, rows in statements:
        plain.executemany(sql, rows)
    plain.execute("COMMIT")
    got, want = _dump(fast), _dump(plain)
    assert sum(map(len, want.values())) > 0
    for table in want:
        assert got[table] == want[table], table


@pytest.mark.parametrize("seed", range(6))
def test_calls_started_and_ended_in_one_batch_go_in_two_statements_storing_the_same(
    tmp_path: Path, seed: int
) -> None:
    """The usual batch: calls ending (some started in an earlier batch), others starting and
    ending. Their starts go in one statement and their ends in another, and store exactly
    what one executemany per record stores (same rows, same rowids) — also when an end
    inserts its call (its start was lost) before other calls start."""
    fast, plain = open_for_writing(tmp_path / "fast.db"), open_for_writing(tmp_path / "plain.db")
    rng = random.Random(seed)
    columns = {sql: _columns(fast, sql) for sql in (CALL_START_SQL, CALL_END_SQL)}
    earlier = [
        (CALL_START_SQL, [_row(rng, columns[CALL_START_SQL], f"old-{n}", "s")]) for n in range(3)
    ]
    batch: list[Statement] = [
        (CALL_END_SQL, [_row(rng, columns[CALL_END_SQL], f"old-{n}", "s")]) for n in range(3)
    ]
    for n in range(rng.randrange(2, 30)):
        for sql in (CALL_START_SQL, CALL_START_SQL, CALL_END_SQL)[rng.randrange(2) :]:
            batch.append((sql, [_row(rng, columns[sql], f"new-{n}", "s")]))
    rng.shuffle(batch[:3])
    lost = seed % 2 == 1  # a call whose start never reached the store: its end inserts it
    if lost:
        batch.insert(1, (CALL_END_SQL, [_row(rng, columns[CALL_END_SQL], "lost", "s")]))
    traced: list[str] = []
    fast.set_trace_callback(traced.append)
    for db, statements in ((fast, earlier), (fast, batch)):
        db.execute("BEGIN")
        insert(db, [(sql, _flat(rows)) for sql, rows in statements])
        db.execute("COMMIT")
    for statements in (earlier, batch):
        plain.execute("BEGIN")
        for sql, rows in statements:
            plain.executemany(sql, rows)
        plain.execute("COMMIT")
    assert _dump(fast) == _dump(plain)
    writes = [s for s in traced if s.startswith("INSERT INTO calls")]
    if not lost:  # else merging would insert "lost" after the new calls: runs in order
        assert len(writes) <= 3 + 2 * len(batch).bit_length()  # few power-of-two statements


@pytest.mark.parametrize("total", [1000, 1, 37])
def test_rows_fill_many_row_statements_within_sqlites_limit(tmp_path: Path, total: int) -> None:
    """A run of rows goes in a few statements (no row alone through executemany, which
    hands Python's lock back and forth per row), each within this SQLite's variable limit
    and of a few sizes only (each prepared once)."""
    db = open_for_writing(tmp_path / "s.db")
    width = EVENT_SQL.count("?")
    rows = [("c", n, float(n), "error", None, None, f"m{n}", 1, None) for n in range(total)]
    traced: list[str] = []
    db.set_trace_callback(traced.append)
    db.execute("BEGIN")
    insert(db, [(EVENT_SQL, _flat(rows[: total // 2])), (EVENT_SQL, _flat(rows[total // 2 :]))])
    db.execute("COMMIT")
    rows_of = [s.count("'error'") for s in traced if s.startswith("INSERT")]  # SQL as run
    limit = _variables(db)
    assert MAX_VARIABLES <= limit <= MOST_VARIABLES
    assert len(rows_of) <= total * width // limit + total.bit_length()
    assert all(rows * width <= limit for rows in rows_of)
    assert len(set(rows_of)) <= (limit // width).bit_length()
    assert sum(rows_of) == total
    stored = db.execute("SELECT turn, message, component IS NULL FROM events ORDER BY rowid")
    assert stored.fetchall() == [(n, f"m{n}", 1) for n in range(total)]


def test_a_bad_value_among_many_rows_loses_that_record_alone(
    tmp_path: Path, simulations: SimulationCache
) -> None:
    """The poisoned turn sits in a many-row statement: the batch fails, and the writer's
    record-by-record retry keeps every other turn."""
    (first, *_) = simulations.recorded("basic").turns
    turns = [dataclasses.replace(first, index=n + 1) for n in range(60)]
    turns[30] = dataclasses.replace(turns[30], discarded_attempts=2**63)
    path = tmp_path / "s.db"
    store = LocalStore(path)
    store.start_call(CallContext(call_id=first.call_id, session_id=first.call_id))
    for turn in turns:
        store.on_turn(turn)
    assert store.close(10)
    assert store.rejected == 1
    db = open_for_reading(path)
    stored = [n for (n,) in db.execute("SELECT turn FROM turns ORDER BY turn")]
    assert stored == [n + 1 for n in range(60) if n != 30]
