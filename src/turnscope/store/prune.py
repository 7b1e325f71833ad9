"""Deleting old calls (``turnscope prune`` and the size cap), and their values from the
histograms (rebuilt from what remains, in the same transaction)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from turnscope.store import histograms

if TYPE_CHECKING:
    import sqlite3

__all__ = ["delete_calls", "prune_older_than"]


def delete_calls(connection: sqlite3.Connection, select_ids: str, params: tuple[Any, ...]) -> int:
    """Delete the calls the query selects, with their turns, components and events."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        ids = [row[0] for row in connection.execute(select_ids, params).fetchall()]
        for table in ("components", "events", "turns", "calls"):
            connection.executemany(f"DELETE FROM {table} WHERE call_id = ?", [(i,) for i in ids])
        if ids:
            histograms.rebuild(connection)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return len(ids)


def prune_older_than(connection: sqlite3.Connection, seconds: float) -> int:
    """Delete calls recorded more than ``seconds`` ago; returns how many."""
    cutoff = time.time() - seconds
    removed = delete_calls(
        connection,
        "SELECT call_id FROM calls WHERE COALESCE(ended_at, recorded_at) < ?",
        (cutoff,),
    )
    connection.execute("VACUUM")
    return removed
