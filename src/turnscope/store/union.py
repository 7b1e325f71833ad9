"""Several stores read as one: shards of a CI run, files copied from several hosts.

An in-memory connection attaches each store read-only and defines temporary views named
like the store's tables (``calls``, ``turns``, ``components``, ``events``, ``histograms``,
``histogram_metrics``), each the union of that table across the files, so every query of the
reports runs unchanged. A column one file lacks (written by an older turnscope) reads NULL.
Histograms are combined only where every file keeps them with the same definition; a call
id found in two files (the same file twice, or a copy) is refused, since its turns would
count twice.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from turnscope.store import BUSY_TIMEOUT_MS, StoreError, open_for_reading

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["MAX_STORES", "open_union"]

MAX_STORES = 10
"""SQLite's default limit of attached databases."""

_TABLES = ("calls", "turns", "components", "events", "histograms", "histogram_metrics")


def open_union(paths: list[Path]) -> sqlite3.Connection:
    """One read-only connection over every store in ``paths`` (StoreError if one is not a
    turnscope store, or if they share a call)."""
    unique = list(dict.fromkeys(p.resolve() for p in paths))
    if len(unique) == 1:
        return open_for_reading(unique[0])
    if len(unique) > MAX_STORES:
        raise StoreError(f"at most {MAX_STORES} stores at once (got {len(unique)})")
    for path in unique:
        open_for_reading(path).close()  # the same clear refusal as one store
    connection = sqlite3.connect("file::memory:", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    names = [f"s{n}" for n in range(len(unique))]
    for name, path in zip(names, unique, strict=True):
        connection.execute(f"ATTACH DATABASE ? AS {name}", (f"file:{path}?mode=ro",))
    for table in _TABLES:
        _union_view(connection, table, names)
    # how many stores a histogram must be kept in to be used (store.histograms.kept)
    connection.execute(f"CREATE TEMP VIEW store_count AS SELECT {len(names)} AS n")
    duplicate = connection.execute(
        "SELECT call_id FROM calls GROUP BY call_id HAVING COUNT(*) > 1 LIMIT 1"
    ).fetchone()
    if duplicate is not None:
        raise StoreError(
            f"call {duplicate[0]!r} is in more than one of the stores (the same file twice, or "
            "a copy?): its turns would count twice"
        )
    return connection


def _union_view(connection: sqlite3.Connection, table: str, names: list[str]) -> None:
    columns_of = {
        name: [row[1] for row in connection.execute(f"PRAGMA {name}.table_info({table})")]
        for name in names
    }
    if not all(columns_of.values()):
        if table in ("calls", "turns", "components", "events"):
            raise StoreError(f"a store has no {table} table")
        return  # e.g. histograms: kept only where every store keeps them
    columns = list(dict.fromkeys(c for name in names for c in columns_of[name]))
    selects = [
        "SELECT "
        + ", ".join(c if c in columns_of[name] else f"NULL AS {c}" for c in columns)
        + f" FROM {name}.{table}"
        for name in names
    ]
    connection.execute(f"CREATE TEMP VIEW {table} AS {' UNION ALL '.join(selects)}")
