"""The local store under faults: values it cannot hold, another process holding the lock,
paths it does not own, and a copied .db file — against real SQLite files and processes."""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from turnscope.records import CallContext
from turnscope.sinks.clean import clean
from turnscope.store import StoreError, open_for_reading, open_for_writing
from turnscope.store import writer as store_writer
from turnscope.store.writer import LocalStore

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache
    from turnscope.records import Turn

SPLIT_EMOJI = "hello \ud83d"
"""Half of an emoji: what a transcript holds when a stream splits 😀 across two chunks."""


def _turns(simulations: SimulationCache, count: int) -> list[Turn]:
    (first, *_) = simulations.recorded("basic").turns
    return [dataclasses.replace(first, index=n + 1) for n in range(count)]


def _stored(path: Path) -> list[tuple[int, str | None]]:
    db = open_for_reading(path)
    try:
        return db.execute("SELECT turn, user_text FROM turns ORDER BY turn").fetchall()
    finally:
        db.close()


def _start(store: LocalStore, call_id: str) -> None:
    store.start_call(CallContext(call_id=call_id, session_id=call_id))


@pytest.mark.parametrize(
    "poison",
    [
        pytest.param({"user_text": SPLIT_EMOJI}, id="lone-surrogate"),
        pytest.param({"agent_text": "ok \udfff tail"}, id="low-surrogate"),
        pytest.param({"discarded_attempts": 2**63}, id="integer-beyond-64-bits"),
        pytest.param({"discarded_attempts": -(2**64)}, id="negative-beyond-64-bits"),
    ],
)
def test_a_value_the_store_cannot_hold_loses_that_record_alone(
    tmp_path: Path,
    simulations: SimulationCache,
    poison: dict[str, object],
    caplog: pytest.LogCaptureFixture,
) -> None:
    turns = _turns(simulations, 4)
    turns[1] = dataclasses.replace(turns[1], **poison)  # type: ignore[arg-type]
    path = tmp_path / "s.db"
    store = LocalStore(path)
    _start(store, turns[0].call_id)
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        for turn in turns:
            store.on_turn(turn)
        assert store.flush(10)
    assert [n for n, _ in _stored(path)] == [1, 3, 4]
    assert store.rejected == 1
    assert store._thread.is_alive()
    store.on_turn(dataclasses.replace(turns[0], index=5))  # the writer still writes
    assert store.close(10)
    assert [n for n, _ in _stored(path)] == [1, 3, 4, 5]
    (line,) = [r.getMessage() for r in caplog.records if "refused a record" in r.getMessage()]
    assert "dropped alone" in line


def test_cleaned_records_keep_their_text_with_the_replacement_character(
    tmp_path: Path, simulations: SimulationCache
) -> None:
    turns = _turns(simulations, 2)
    turns[0] = dataclasses.replace(
        turns[0], user_text=SPLIT_EMOJI, discarded_attempts=2**70, e2e=float("nan")
    )
    path = tmp_path / "s.db"
    store = LocalStore(path)
    _start(store, turns[0].call_id)
    for turn in turns:
        store.on_turn(clean(turn))
    assert store.close(10)
    assert store.rejected == 0
    assert _stored(path)[0] == (1, "hello \ufffd")
    db = open_for_reading(path)
    row = db.execute("SELECT discarded_attempts, e2e FROM turns WHERE turn = 1").fetchone()
    assert row == (0, None)  # the count falls back to "none reported"; the latency is absent


class _LockHolder:
    """Another process holding the store's write lock until told to let go."""

    def __init__(self, path: Path) -> None:
        code = (
            "import sqlite3, sys\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE')\n"
            "print('held', flush=True)\n"
            "sys.stdin.readline()\n"
            "c.execute('COMMIT')\n"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "held"

    def release(self) -> None:
        self.process.communicate("\n", timeout=30)
        assert self.process.returncode == 0


def _wait_until_locked_out(store: LocalStore) -> None:
    import time

    deadline = time.monotonic() + 30
    while not store._lock_noted:
        assert time.monotonic() < deadline, "the writer never met the lock"
        time.sleep(0.02)


def test_a_lock_held_past_the_busy_timeout_delays_records_never_loses_them(
    tmp_path: Path,
    simulations: SimulationCache,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr("turnscope.store.BUSY_TIMEOUT_MS", 200)  # the lock outlives it
    path = tmp_path / "s.db"
    open_for_writing(path).close()
    turns = _turns(simulations, 10)
    holder = _LockHolder(path)
    store = LocalStore(path)
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        _start(store, turns[0].call_id)
        for turn in turns:
            store.on_turn(turn)
        _wait_until_locked_out(store)
        assert not store.flush(0.5)  # still waiting for the lock, not given up
        holder.release()
        assert store.close(30)
    assert [n for n, _ in _stored(path)] == list(range(1, 11))
    assert (store.dropped, store.rejected) == (0, 0)
    assert not store._disabled
    locked = [r for r in caplog.records if "locked by another process" in r.getMessage()]
    assert len(locked) == 1
    assert not [r for r in caplog.records if "local store off" in r.getMessage()]


def test_while_locked_only_what_overflows_the_backlog_is_lost_and_counted(
    tmp_path: Path, simulations: SimulationCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("turnscope.store.BUSY_TIMEOUT_MS", 200)
    monkeypatch.setattr(store_writer, "QUEUE_LIMIT", 3)
    path = tmp_path / "s.db"
    open_for_writing(path).close()
    turns = _turns(simulations, 11)
    holder = _LockHolder(path)
    store = LocalStore(path)
    _start(store, turns[0].call_id)  # the writer takes it, then waits for the lock
    _wait_until_locked_out(store)
    for turn in turns:
        store.on_turn(turn)
    holder.release()
    assert store.close(30)
    assert [n for n, _ in _stored(path)] == [1, 2, 3]  # the backlog: three batches
    assert store.dropped == 8


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _refused(path: Path, caplog: pytest.LogCaptureFixture, *, says: str) -> None:
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        store = LocalStore(path)
        store.start_call(CallContext(call_id="c", session_id="c"))
        store.flush(10)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "turnscope"]
    assert says in line
    assert "\n" not in line
    assert store._disabled


def test_a_folder_given_as_the_store_keeps_its_mode(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "existing"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    _refused(folder, caplog, says="is a folder")
    assert _mode(folder) == 0o755
    assert list(folder.iterdir()) == []


def test_a_file_that_is_not_sqlite_is_neither_touched_nor_chmodded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("LANGFUSE_SECRET_KEY=sk-lf-123\n")
    os.chmod(dotenv, 0o644)
    _refused(dotenv, caplog, says="is not a SQLite file")
    assert _mode(dotenv) == 0o644
    assert dotenv.read_text() == "LANGFUSE_SECRET_KEY=sk-lf-123\n"
    assert "sk-lf-123" not in caplog.text


_MIGRATIONS_TABLE = "schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL)"


def _database(path: Path, *tables: str) -> Path:
    """A SQLite file holding ``tables`` (``name (columns)``), committed."""
    db = sqlite3.connect(path)
    try:
        for table in tables:
            db.execute(f"CREATE TABLE {table}")
        db.commit()
    finally:
        db.close()
    return path


def test_another_programs_database_is_refused_and_keeps_its_mode(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    theirs = _database(tmp_path / "app.db", "users (name TEXT)")
    os.chmod(theirs, 0o664)
    _refused(theirs, caplog, says="another program's SQLite database")
    assert _mode(theirs) == 0o664
    tables = sqlite3.connect(theirs).execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == [("users",)]


def test_an_existing_store_is_written_and_keeps_the_mode_its_owner_chose(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    open_for_writing(path).close()
    assert _mode(path) == 0o600  # created by turnscope: private
    os.chmod(path, 0o640)  # the owner shares it with a group
    open_for_writing(path).close()
    assert _mode(path) == 0o640
    with pytest.raises(StoreError, match="is a folder"):
        open_for_writing(tmp_path)


def test_the_db_file_alone_holds_every_record_once_flushed(
    tmp_path: Path, simulations: SimulationCache
) -> None:
    turns = _turns(simulations, 5)
    path = tmp_path / "live.db"
    store = LocalStore(path)
    _start(store, turns[0].call_id)
    for turn in turns:
        store.on_turn(turn)
    assert store.flush(10)  # the agent still runs: the writer's connection is open
    copy = tmp_path / "artifact" / "copied.db"
    copy.parent.mkdir()
    shutil.copyfile(path, copy)  # the .db alone, as a CI artifact would be
    assert [n for n, _ in _stored(copy)] == [1, 2, 3, 4, 5]
    store.on_turn(dataclasses.replace(turns[0], index=6))
    assert store.close(10)
    shutil.copyfile(path, copy)
    assert [n for n, _ in _stored(copy)] == [1, 2, 3, 4, 5, 6]
    assert (
        not path.with_name("live.db-wal").exists()
        or path.with_name("live.db-wal").stat().st_size == 0
    )


def test_a_store_another_process_is_creating_is_not_taken_for_a_foreign_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Four agent processes starting at once: the first has made the migrations' table and
    not yet committed its first migration when another opens the file. That one must wait
    and write, not turn its store off as "another program's database" (it lost a quarter of
    the calls once in CI)."""
    # where the first process stands when the second one looks
    path = _database(tmp_path / "shared.db", _MIGRATIONS_TABLE)
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        store = LocalStore(path)
        store.start_call(CallContext(call_id="c", session_id="c"))
        assert store.close(timeout=10)
    assert not store._disabled
    assert not [r for r in caplog.records if r.name == "turnscope"]
    assert open_for_reading(path).execute("SELECT call_id FROM calls").fetchall() == [("c",)]


def test_a_foreign_database_with_a_migrations_table_is_still_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    theirs = _database(tmp_path / "app.db", _MIGRATIONS_TABLE, "users (name TEXT)")
    _refused(theirs, caplog, says="another program's SQLite database")
