"""LocalStore: records into the local SQLite store, written by a background thread.

The agent's event loop only enqueues (bounded; what does not fit is counted and logged once).
A thread writes in batches, one transaction each. A path that cannot be written logs one line
and turns the store off; the agent never notices.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from turnscope.store import histograms, open_for_writing
from turnscope.store.prune import delete_calls
from turnscope.store.rows import (
    CALL_END_SQL,
    CALL_START_SQL,
    COMPONENT_SQL,
    EVENT_SQL,
    TURN_SQL,
    call_end_row,
    call_start_row,
    component_rows,
    event_rows,
    turn_error_rows,
    turn_row,
)

if TYPE_CHECKING:
    from pathlib import Path

    from turnscope.context import CallContext
    from turnscope.records import Call, Turn

__all__ = ["LocalStore"]

logger = logging.getLogger("turnscope")

QUEUE_LIMIT = 10_000
BATCH_LIMIT = 500
BATCH_WAIT = 0.2
"""Seconds the writer waits to gather a batch."""


@dataclass
class _Batch:
    statements: list[tuple[str, list[tuple[Any, ...]]]] = field(default_factory=list)

    def add(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self.statements.append((sql, rows))


_shared: dict[tuple[str, bool], LocalStore] = {}
_shared_lock = threading.Lock()


class LocalStore:
    """A sink that writes calls' records to the store at ``path``.

    One instance (one writer thread) serves every session of the process that writes the
    same file: see ``LocalStore.shared``.
    """

    @classmethod
    def shared(cls, path: Path, *, capture_content: bool, max_mb: float) -> LocalStore:
        key = (str(path.resolve()), capture_content)
        with _shared_lock:
            store = _shared.get(key)
            if store is None or not store._thread.is_alive():
                store = _shared[key] = cls(path, capture_content=capture_content, max_mb=max_mb)
            return store

    def __init__(self, path: Path, *, capture_content: bool = True, max_mb: float = 500.0) -> None:
        self.path = path
        self.capture_content = capture_content
        self.max_bytes = int(max_mb * 1024 * 1024)
        self.dropped = 0
        """Records that did not fit in the queue (the backend was too slow)."""
        self._queue: queue.Queue[_Batch | None] = queue.Queue(maxsize=QUEUE_LIMIT)
        self._sessions: dict[str, str] = {}
        self._disabled = False
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="turnscope-store", daemon=True)
        self._thread.start()

    # -- the sink protocol (called on the agent's loop: enqueue only) ------------------------

    def start_call(self, context: CallContext) -> None:
        self._sessions[context.call_id] = context.session_id
        self._put(_single(CALL_START_SQL, call_start_row(context)))

    def update_call(self, context: CallContext) -> None:
        self.start_call(context)

    def on_turn(self, turn: Turn) -> None:
        batch = _Batch()
        batch.add(TURN_SQL, [turn_row(turn, capture_content=self.capture_content)])
        batch.add(COMPONENT_SQL, component_rows(turn, capture_content=self.capture_content))
        batch.add(EVENT_SQL, turn_error_rows(turn))
        self._put(batch)

    def on_call(self, call: Call) -> None:
        session_id = self._sessions.pop(call.call_id, call.call_id)
        batch = _single(CALL_END_SQL, call_end_row(call, session_id))
        batch.add(EVENT_SQL, event_rows(call))
        self._put(batch)

    def flush(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.01)
        return self._queue.unfinished_tasks == 0

    def close(self, timeout: float = 5.0) -> bool:
        """Write what is queued, then stop the writer thread."""
        done = self.flush(timeout)
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            return False
        self._thread.join(timeout)
        return done

    # -- the writer thread ---------------------------------------------------------------------

    def _put(self, batch: _Batch) -> None:
        if self._disabled:
            return
        try:
            self._queue.put_nowait(batch)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1:
                logger.warning(
                    "turnscope: the local store at %s cannot keep up; records are being dropped "
                    "(check the disk, or set TURNSCOPE_DB=off)",
                    self.path,
                )

    def _run(self) -> None:
        connection = self._open()
        writes = 0
        while True:
            item = self._queue.get()
            if item is None:
                self._queue.task_done()
                break
            batch = [item]
            stop = False
            deadline = time.monotonic() + BATCH_WAIT
            while len(batch) < BATCH_LIMIT:
                try:
                    more = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    self._queue.task_done()
                    break
                batch.append(more)
            if connection is not None:
                connection = self._write(connection, batch)
                writes += 1
                if connection is not None and writes % 20 == 1:
                    self._enforce_cap(connection)
            for _ in batch:
                self._queue.task_done()
            if stop:
                break
        if connection is not None:
            connection.close()

    def _open(self) -> sqlite3.Connection | None:
        try:
            return open_for_writing(self.path)
        except (OSError, sqlite3.Error) as error:
            self._disable(f"cannot open {self.path}: {error}")
            return None

    def _write(
        self, connection: sqlite3.Connection, batch: list[_Batch]
    ) -> sqlite3.Connection | None:
        try:
            connection.execute("BEGIN IMMEDIATE")
            marks = histograms.mark(connection)
            for item in batch:
                for sql, rows in item.statements:
                    connection.executemany(sql, rows)
            histograms.add_since(connection, marks)  # the same transaction: never half-counted
            connection.execute("COMMIT")
            return connection
        except (OSError, sqlite3.Error) as error:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
            connection.close()
            self._disable(f"cannot write {self.path}: {error}")
            return None

    def _disable(self, why: str) -> None:
        self._disabled = True
        logger.warning(
            "turnscope: local store off (%s). Point TURNSCOPE_DB at a writable file, or set "
            "TURNSCOPE_DB=off.",
            why,
        )

    def _enforce_cap(self, connection: sqlite3.Connection) -> None:
        """Beyond the size cap, delete the oldest calls until the store is back under 90%."""
        try:
            pages = connection.execute("PRAGMA page_count").fetchone()[0]
            size = connection.execute("PRAGMA page_size").fetchone()[0]
            free = connection.execute("PRAGMA freelist_count").fetchone()[0]
            used = (pages - free) * size
            if used <= self.max_bytes:
                return
            calls = connection.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
            excess = used - int(self.max_bytes * 0.9)
            share = min(1.0, excess / used)
            oldest = max(1, int(calls * share))
            delete_calls(
                connection, "SELECT call_id FROM calls ORDER BY recorded_at LIMIT ?", (oldest,)
            )
            logger.info(
                "turnscope: store above %d MB; pruned the %d oldest calls",
                self.max_bytes >> 20,
                oldest,
            )
        except sqlite3.Error:
            return


def _single(sql: str, row: tuple[Any, ...]) -> _Batch:
    batch = _Batch()
    batch.add(sql, [row])
    return batch
