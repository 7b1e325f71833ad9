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
from itertools import chain
from typing import TYPE_CHECKING, Any

from turnscope.store import StoreError, histograms, open_for_writing
from turnscope.store.inserts import insert
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
    from collections.abc import Iterable
    from pathlib import Path

    from turnscope.records import Call, CallContext, Turn

__all__ = ["LocalStore"]

logger = logging.getLogger("turnscope")

QUEUE_LIMIT = 10_000
BATCH_LIMIT = 500
BATCH_WAIT = 0.2
"""Seconds the writer waits to gather a batch."""
LOCK_RETRY_FIRST = 0.1
LOCK_RETRY_MAX = 2.0
"""Seconds between writes retried while another process holds the lock (doubling, capped),
on top of the connection's own busy timeout."""
_RECORD_ERRORS = (
    ValueError,  # UnicodeEncodeError included
    TypeError,
    OverflowError,
    sqlite3.InterfaceError,
    sqlite3.ProgrammingError,
    sqlite3.IntegrityError,
    sqlite3.DataError,
)
"""What one record's values can make a write raise: that record is dropped, not the store."""


_Record = tuple[Any, ...]
"""One record: ``(sql, values, sql, values, ...)``, per statement the values of all its rows
one after another in one flat tuple (``store.inserts``). Only two levels of tuples of plain
values, so Python's garbage collector stops tracking a queued record within its first two
passes (a pass sees a tuple before the tuples it holds, and untracks a tuple only once what
it holds is untracked: each level of nesting costs a pass). Records nested deeper outlived
those passes still tracked, reached the oldest generation, and made the collector walk the
whole process's heap (every object of the agent) every few thousand turns."""


def _record(*statements: tuple[str, Iterable[tuple[Any, ...]]]) -> _Record:
    found: list[Any] = []
    for sql, rows in statements:
        values = tuple(chain.from_iterable(rows))
        if values:
            found += (sql, values)
    return tuple(found)


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
        """Records that did not fit in the queue (the disk was too slow, or the store locked
        by another process for longer than the queue could hold)."""
        self.rejected = 0
        """Records the store refused (a value it cannot hold), each dropped alone."""
        self._lock_noted = False
        self._queue: queue.Queue[_Record | None] = queue.Queue(maxsize=QUEUE_LIMIT)
        self._sessions: dict[str, str] = {}
        self._disabled = False
        self._thread = threading.Thread(target=self._run, name="turnscope-store", daemon=True)
        self._thread.start()

    # -- the sink protocol (called on the agent's loop: enqueue only) ------------------------

    def start_call(self, context: CallContext) -> None:
        self._sessions[context.call_id] = context.session_id
        self._put(_record((CALL_START_SQL, [call_start_row(context)])))

    def update_call(self, context: CallContext) -> None:
        self.start_call(context)

    def on_turn(self, turn: Turn) -> None:
        capture = self.capture_content
        record: _Record = (TURN_SQL, turn_row(turn, capture_content=capture))
        if turn.requests or turn.tools:
            rows = component_rows(turn, capture_content=capture)
            record += (COMPONENT_SQL, tuple(chain.from_iterable(rows)))
        if turn.errors:
            rows = turn_error_rows(turn, capture_content=capture)
            record += (EVENT_SQL, tuple(chain.from_iterable(rows)))
        self._put(record)

    def on_call(self, call: Call) -> None:
        session_id = self._sessions.pop(call.call_id, call.call_id)
        self._put(
            _record((CALL_END_SQL, [call_end_row(call, session_id)]), (EVENT_SQL, event_rows(call)))
        )

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

    def _put(self, record: _Record) -> None:
        if self._disabled:
            return
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1:
                logger.warning(
                    "turnscope: the local store at %s cannot keep up; records are being dropped "
                    "(check the disk, or set TURNSCOPE_DB=off)",
                    self.path,
                )

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        writes = 0
        while True:
            batch, stop = self._gather()
            try:
                if batch and not self._disabled:
                    connection = self._deliver(connection, batch)
                    writes += 1
                    if connection is not None and writes % 20 == 1:
                        self._enforce_cap(connection)
                    if connection is not None and self._queue.empty():
                        _checkpoint(connection)
            except Exception as error:  # a bug here must not stop the thread: its batch goes
                self._reject(error, len(batch))
            finally:
                for _ in range(len(batch) + stop):
                    self._queue.task_done()
            if stop:
                break
        if connection is not None:
            _checkpoint(connection, "TRUNCATE")
            connection.close()

    def _gather(self) -> tuple[list[_Record], bool]:
        """The next batches to write (waiting ``BATCH_WAIT`` to gather more), and whether
        the writer was asked to stop."""
        first = self._queue.get()
        if first is None:
            return [], True
        batch = [first]
        deadline = time.monotonic() + BATCH_WAIT
        while len(batch) < BATCH_LIMIT:
            try:
                more = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if more is None:
                return batch, True
            batch.append(more)
        return batch, False

    def _deliver(
        self, connection: sqlite3.Connection | None, batch: list[_Record]
    ) -> sqlite3.Connection | None:
        """Write ``batch``; while another process holds the write lock, wait and retry (the
        queue is the backlog meanwhile: only what overflows it is lost, and counted)."""
        pending = batch
        delay = LOCK_RETRY_FIRST
        while pending and not self._disabled:
            try:
                if connection is None:
                    connection = open_for_writing(self.path)
                pending = self._write(connection, pending)
            except (OSError, sqlite3.Error, StoreError) as error:
                if not _busy(error):
                    if connection is not None:
                        connection.close()
                    self._disable(f"cannot write {self.path}: {error}")
                    return None
            if pending:
                self._note_locked()
                time.sleep(delay)
                delay = min(delay * 2, LOCK_RETRY_MAX)
        return connection

    def _write(self, connection: sqlite3.Connection, batch: list[_Record]) -> list[_Record]:
        """Write ``batch`` in one transaction; what is left when the store is locked. A
        record the store refuses (a value it cannot hold) is dropped alone, and counted."""
        try:
            _transaction(connection, batch)
            return []
        except sqlite3.OperationalError as error:
            if _busy(error):
                return batch
            raise
        except _RECORD_ERRORS as error:
            if len(batch) == 1:
                self._reject(error, 1)
                return []
        for index, item in enumerate(batch):
            try:
                _transaction(connection, [item])
            except sqlite3.OperationalError as error:
                if _busy(error):
                    return batch[index:]
                raise
            except _RECORD_ERRORS as error:
                self._reject(error, 1)
        return []

    def _reject(self, error: BaseException, records: int) -> None:
        self.rejected += records
        if self.rejected == records:
            logger.warning(
                "turnscope: the local store refused a record (%s: %s); it was dropped alone, "
                "the others are kept. Please report it.",
                type(error).__name__,
                error,
            )

    def _note_locked(self) -> None:
        if not self._lock_noted:
            self._lock_noted = True
            logger.warning(
                "turnscope: the local store at %s is locked by another process (a backup, a "
                "report?); retrying. Records wait meanwhile (up to %d batches).",
                self.path,
                QUEUE_LIMIT,
            )

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


def _transaction(connection: sqlite3.Connection, batch: list[_Record]) -> None:
    connection.execute("BEGIN IMMEDIATE")
    try:
        marks = histograms.mark(connection)
        insert(connection, (pair for record in batch for pair in _statements(record)))
        histograms.add_since(connection, marks)  # the same transaction: never half-counted
        connection.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")
        raise


def _statements(record: _Record) -> Iterable[tuple[str, tuple[Any, ...]]]:
    """A record's ``(sql, values)`` pairs."""
    return zip(record[::2], record[1::2], strict=True)


def _busy(error: BaseException) -> bool:
    """Whether ``error`` means another connection holds the lock (worth a retry)."""
    message = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and (
        "locked" in message or "busy" in message
    )


def _checkpoint(connection: sqlite3.Connection, mode: str = "PASSIVE") -> None:
    """Copy the write-ahead log into the .db file, so the file alone holds every record
    (a copied store, a CI artifact), not only the file with its ``-wal`` beside it."""
    with contextlib.suppress(sqlite3.Error):
        connection.execute(f"PRAGMA wal_checkpoint({mode})")
