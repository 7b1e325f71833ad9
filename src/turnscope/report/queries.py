"""Reading the store: which calls, their turns, and the distribution of each metric."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from turnscope.report.metrics import METRICS
from turnscope.store import StoreError

if TYPE_CHECKING:
    import sqlite3

__all__ = [
    "PERCENTILES",
    "Distribution",
    "distributions",
    "events_of",
    "select_calls",
    "turns_of",
]

PERCENTILES = (50, 90, 95, 99)


@dataclass(frozen=True)
class Distribution:
    metric: str
    count: int
    percentiles: dict[int, float]
    maximum: float
    mean: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            **{f"p{p}": v for p, v in self.percentiles.items()},
            "max": self.maximum,
            "mean": self.mean,
        }


def _rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def select_calls(
    connection: sqlite3.Connection, *, call: str | None = None, last: int | None = None
) -> list[dict[str, Any]]:
    """The chosen calls, oldest first: one by id (or unique id prefix), else the last N."""
    if call is not None:
        rows = _rows(connection.execute("SELECT * FROM calls WHERE call_id LIKE ? || '%'", (call,)))
        if not rows:
            raise StoreError(f"no call {call!r} in the store")
        if len(rows) > 1:
            raise StoreError(f"{call!r} matches {len(rows)} calls; give more of its id")
        return [_decoded(rows[0])]
    query = "SELECT * FROM calls ORDER BY COALESCE(started_at, recorded_at) DESC"
    params: tuple[Any, ...] = ()
    if last is not None:
        query += " LIMIT ?"
        params = (last,)
    rows = _rows(connection.execute(query, params))
    return [_decoded(r) for r in reversed(rows)]


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    row["tags"] = json.loads(row.get("tags") or "[]")
    row["metadata"] = json.loads(row.get("metadata") or "{}")
    for field in ("cost_by_component", "cost_by_model"):
        row[field] = json.loads(row.get(field) or "{}")
    row["unpriced"] = json.loads(row.get("unpriced") or "[]")
    row["summary"] = json.loads(row["summary"]) if row.get("summary") else None
    return with_quality(row)


def with_quality(row: dict[str, Any]) -> dict[str, Any]:
    """A row with its data-quality columns decoded (``suspect``: a list of
    ``{field, reason, value}``; ``unknown``: ``{field: reason}``) and every field ``unknown``
    names set to None: a count the store had to keep as 0 is not shown as one."""
    row["suspect"] = json.loads(row.get("suspect") or "[]")
    row["unknown"] = json.loads(row.get("unknown") or "{}")
    for field in row["unknown"]:
        if field in row:
            row[field] = None
    return row


def turns_of(connection: sqlite3.Connection, call_ids: list[str]) -> list[dict[str, Any]]:
    if not call_ids:
        return []
    marks = ", ".join("?" * len(call_ids))
    rows = _rows(
        connection.execute(
            f"SELECT * FROM turns WHERE call_id IN ({marks}) ORDER BY started_at, turn", call_ids
        )
    )
    for row in rows:
        row["unpriced"] = json.loads(row.get("unpriced") or "[]")
        with_quality(row)
    return rows


def events_of(
    connection: sqlite3.Connection, call_ids: list[str], kinds: tuple[str, ...]
) -> list[dict[str, Any]]:
    """The calls' events of the given kinds (errors, state changes, ...), in time order."""
    if not call_ids or not kinds:
        return []
    calls = ", ".join("?" * len(call_ids))
    wanted = ", ".join("?" * len(kinds))
    return _rows(
        connection.execute(
            f"SELECT * FROM events WHERE call_id IN ({calls}) AND kind IN ({wanted}) ORDER BY at",
            [*call_ids, *kinds],
        )
    )


def distributions(
    connection: sqlite3.Connection, call_ids: list[str] | None
) -> dict[str, Distribution]:
    """Percentiles of every metric over the given calls (None: every call in the store)."""
    by_table: dict[str, list[str]] = {}
    for metric in METRICS.values():
        by_table.setdefault(metric.table, []).append(metric.name)
    found: dict[str, Distribution] = {}
    for table, names in by_table.items():
        columns = ", ".join(
            f"CASE WHEN {METRICS[n].where} THEN {METRICS[n].expression} END" for n in names
        )
        query = f"SELECT {columns} FROM {table}"
        params: list[str] = []
        if call_ids is not None:
            if not call_ids:
                continue
            query += f" WHERE call_id IN ({', '.join('?' * len(call_ids))})"
            params = call_ids
        values = np.array(connection.execute(query, params).fetchall(), dtype=float)
        if values.size == 0:
            continue
        for i, name in enumerate(names):
            column = values[:, i]
            column = column[~np.isnan(column)]
            if column.size:
                found[name] = _distribution(name, column)
    return found


def _distribution(name: str, values: np.ndarray[Any, np.dtype[np.float64]]) -> Distribution:
    points = np.percentile(values, PERCENTILES)
    return Distribution(
        metric=name,
        count=int(values.size),
        percentiles={p: float(v) for p, v in zip(PERCENTILES, points, strict=True)},
        maximum=float(values.max()),
        mean=float(values.mean()),
    )


def values_of(
    connection: sqlite3.Connection, metric: str, call_ids: list[str] | None
) -> list[float]:
    """Every value of one metric over the given calls."""
    m = METRICS[metric]
    query = f"SELECT {m.expression} FROM {m.table} WHERE {m.where} AND {m.expression} IS NOT NULL"
    params: list[str] = []
    if call_ids is not None:
        query += f" AND call_id IN ({', '.join('?' * len(call_ids))})"
        params = call_ids
    return [float(r[0]) for r in connection.execute(query, params)]
