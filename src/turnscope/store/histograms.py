"""Per-metric histograms kept at write time, so percentiles over a whole store are instant.

Each metric of ``HISTOGRAMS`` keeps one row per 1 ms bucket: the bucket is the value in
thousandths of its unit rounded as the reports round (``ROUND(value * 1000)``), with the
count, the exact lowest and highest value in it and their sum. The writer adds a batch's
values in the transaction that writes them (``mark`` before, ``add_since`` after: one
statement per table, in which SQLite reads the new rows' values by the metrics' own SQL and
buckets them); pruning rebuilds them (``rebuild``). ``histogram_metrics`` records the SQL
each histogram was built with, and ``ensure`` (run when a writer opens the store) builds any
that is missing or was built with another definition — an old store gains them on its first
write, and a metric whose definition changes (e.g. one that leaves out suspect values) is
rebuilt once.

Why 1 ms buckets are exact at the reports' precision (integer ms): a linear-interpolated
percentile lies between two neighbouring values. When both are in one bucket, it rounds to
that bucket, as they do. When they are in different buckets, the lower is the highest value
of its bucket and the upper the lowest of the next non-empty one — both kept exactly — so
the interpolation is computed exactly as ``numpy.percentile`` does.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from turnscope.store.metrics import HISTOGRAMS

if TYPE_CHECKING:
    from turnscope.store.metrics import Metric

__all__ = [
    "Bucket",
    "Marks",
    "add_since",
    "buckets",
    "ensure",
    "kept",
    "lerp",
    "mark",
    "percentile",
    "rebuild",
]

_TABLES = ("turns", "components")
BUCKET = "CAST(ROUND(value * 1000) AS INTEGER)"
"""A value's bucket: thousandths of its unit, rounded half away from zero, as the reports
round (SQLite's ``ROUND``, so a bucket never depends on who computed it)."""
_ON_CONFLICT = """ON CONFLICT (metric, bucket) DO UPDATE SET
    count = count + excluded.count, low = MIN(low, excluded.low),
    high = MAX(high, excluded.high), total = total + excluded.total"""
_CHUNK = 50_000
"""Rows read at a time when rebuilding."""

Marks = dict[str, int]
"""The highest rowid of each table before a batch was written."""


def definition(metric: Metric) -> str:
    return f"{metric.table}|{metric.expression}|{metric.where}"


def _add_sql(metrics: list[Metric]) -> str:
    """Add each value of the table's rows with rowid in (?1, ?2] to its metric's histogram —
    by the same SQL the exact queries use, counted, bucketed and upserted by SQLite itself
    (its C code: the writer's thread holds Python's lock only to start it). Each metric is
    grouped on its own (sorting a few small sets, not one large one). ``WHERE true``: an
    upsert after a SELECT needs a WHERE clause (SQLite's parsing rule)."""
    table = metrics[0].table
    each = "\nUNION ALL\n".join(
        f"SELECT '{m.name}', {BUCKET} AS bucket, COUNT(*), MIN(value), MAX(value), SUM(value) "
        f"FROM (SELECT ({m.expression}) AS value FROM {table} "
        f"WHERE rowid > ?1 AND rowid <= ?2 AND ({m.where})) "
        "WHERE value IS NOT NULL GROUP BY bucket"
        for m in metrics
    )
    return f"""
INSERT INTO histograms (metric, bucket, count, low, high, total)
SELECT * FROM ({each})
WHERE true
{_ON_CONFLICT}"""


def _by_table(names: list[str] | None = None) -> dict[str, list[Metric]]:
    found: dict[str, list[Metric]] = {}
    for metric in HISTOGRAMS.values():
        if names is None or metric.name in names:
            found.setdefault(metric.table, []).append(metric)
    return found


def mark(connection: sqlite3.Connection) -> Marks:
    """Call inside the writing transaction, before the batch's inserts."""
    # The bare MAX(rowid) form: SQLite answers it from the end of the b-tree, not a scan.
    return {
        table: connection.execute(f"SELECT MAX(rowid) FROM {table}").fetchone()[0] or 0
        for table in _TABLES
    }


def add_since(connection: sqlite3.Connection, marks: Marks) -> None:
    """Add every value written after ``marks`` (same transaction) to its histogram."""
    now = mark(connection)
    for table, metrics in _by_table().items():
        if now[table] > marks[table]:
            _add_range(connection, metrics, marks[table], now[table])


def _add_range(
    connection: sqlite3.Connection, metrics: list[Metric], after: int, upto: int
) -> None:
    connection.execute(_add_sql(metrics), (after, upto))


def rebuild(connection: sqlite3.Connection, names: list[str] | None = None) -> None:
    """Build the histograms of ``names`` (default: all) from every row; the caller holds the
    transaction. Used after deleting calls and for metrics ``ensure`` finds missing."""
    chosen = list(HISTOGRAMS) if names is None else names
    marks = ", ".join("?" * len(chosen))
    connection.execute(f"DELETE FROM histograms WHERE metric IN ({marks})", chosen)
    end = mark(connection)
    for table, metrics in _by_table(chosen).items():
        for start in range(0, end[table], _CHUNK):
            _add_range(connection, metrics, start, min(start + _CHUNK, end[table]))
    connection.executemany(
        "INSERT OR REPLACE INTO histogram_metrics (metric, definition) VALUES (?, ?)",
        [(name, definition(HISTOGRAMS[name])) for name in chosen],
    )


def ensure(connection: sqlite3.Connection) -> None:
    """Build each histogram that is missing or stale (a writer opening the store)."""
    stale = [name for name in HISTOGRAMS if name not in kept(connection)]
    if not stale:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        stale = [name for name in HISTOGRAMS if name not in kept(connection)]
        if stale:
            rebuild(connection, stale)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def kept(connection: sqlite3.Connection) -> set[str]:
    """The metrics whose histogram is kept with today's definition — in every store, when the
    connection reads several (``store.union``); none in a store from before histograms."""
    try:
        rows = connection.execute(
            "SELECT metric, definition, COUNT(*) FROM histogram_metrics GROUP BY metric, definition"
        ).fetchall()
    except sqlite3.OperationalError:  # no such table: a store from before histograms
        return set()
    stores = _stores(connection)
    return {
        name
        for name, text, count in rows
        if name in HISTOGRAMS and text == definition(HISTOGRAMS[name]) and count == stores
    }


def _stores(connection: sqlite3.Connection) -> int:
    """How many stores the connection reads (``store.union`` says; else one)."""
    try:
        return int(connection.execute("SELECT n FROM store_count").fetchone()[0])
    except sqlite3.OperationalError:
        return 1


@dataclass(frozen=True)
class Bucket:
    bucket: int
    """The value in thousandths of its unit, rounded."""
    count: int
    low: float
    high: float
    total: float


def buckets(connection: sqlite3.Connection, names: list[str]) -> dict[str, list[Bucket]]:
    """Each metric's buckets in order (several stores' views add up)."""
    if not names:
        return {}
    marks = ", ".join("?" * len(names))
    found: dict[str, list[Bucket]] = {name: [] for name in names}
    rows = connection.execute(
        "SELECT metric, bucket, SUM(count), MIN(low), MAX(high), SUM(total) FROM histograms "
        f"WHERE metric IN ({marks}) GROUP BY metric, bucket ORDER BY metric, bucket",
        names,
    )
    for name, *fields in rows:
        if fields[1] > 0:
            found[name].append(Bucket(*fields))
    return {name: kept for name, kept in found.items() if kept}


def percentile(found: list[Bucket], q: float) -> tuple[float, bool]:
    """The q-th percentile (numpy's linear method) and whether it is exact; when not, the
    value is its bucket's (the reports' rounding of the exact value)."""
    total = sum(b.count for b in found)
    position = (total - 1) * (q / 100.0)
    below = math.floor(position)
    fraction = position - below
    low_bucket, low_first, low_last = _holding(found, below)
    held = found[low_bucket]
    if fraction == 0:
        if low_first:
            return held.low, True
        if low_last:
            return held.high, True
        return _inside(held)
    if not low_last:  # the next value is in the same bucket
        return _inside(held)
    a, b = held.high, found[low_bucket + 1].low
    return lerp(a, b, fraction), True


def _inside(held: Bucket) -> tuple[float, bool]:
    """A value strictly inside a bucket: exact when all its values are equal, else the
    bucket (what the reports' rounding of it shows)."""
    if held.low == held.high:
        return held.low, True
    return held.bucket / 1000, False


def _holding(found: list[Bucket], index: int) -> tuple[int, bool, bool]:
    """The bucket holding the index-th value (0-based), and whether it is its first/last."""
    seen = 0
    for n, bucket in enumerate(found):
        if index < seen + bucket.count:
            return n, index == seen, index == seen + bucket.count - 1
        seen += bucket.count
    raise IndexError(index)


def lerp(a: float, b: float, t: float) -> float:
    """numpy's ``_lerp``: the same floating-point steps, so the same result."""
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t
