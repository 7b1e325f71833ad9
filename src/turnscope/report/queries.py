"""Reading the store: which calls, their turns, and the distribution of each metric."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from turnscope.report.filters import CALL_TIME, CallFilter
from turnscope.report.lookup import lookup_call
from turnscope.report.metrics import ALL_METRICS, METRICS
from turnscope.store import histograms

if TYPE_CHECKING:
    import sqlite3

    import numpy as np

__all__ = [
    "PERCENTILES",
    "Distribution",
    "Totals",
    "distributions",
    "events_of",
    "exact_distributions",
    "find_call",
    "histogram_distributions",
    "select_calls",
    "totals",
    "totals_of",
    "turns_of",
    "values_of",
    "with_greeting_checked",
    "with_written",
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


def find_call(connection: sqlite3.Connection, call: str) -> dict[str, Any]:
    """One call by id, session id, room name or unique id prefix (``report.lookup``);
    StoreError when nothing matches, AmbiguousCall when several calls do."""
    return _decoded(lookup_call(connection, call))


def select_calls(
    connection: sqlite3.Connection,
    *,
    call: str | None = None,
    last: int | None = None,
    filters: CallFilter | None = None,
) -> list[dict[str, Any]]:
    """The chosen calls, oldest first: one (``find_call``), else the last N that pass the
    filters (all of them without ``last``)."""
    if call is not None:
        return [find_call(connection, call)]
    where, params = (filters or CallFilter()).where()
    query = f"SELECT * FROM calls WHERE {where} ORDER BY {CALL_TIME} DESC"
    if last is not None:
        query += " LIMIT ?"
        params = [*params, last]
    rows = _rows(connection.execute(query, params))
    return [_decoded(r) for r in reversed(rows)]


@dataclass(frozen=True)
class Totals:
    """How many calls and turns a filter selects, and what they cost."""

    calls: int
    turns: int
    cost_usd: float | None
    """Summed over the priced calls; None when none was priced."""
    unpriced_calls: int


def totals_of(calls: list[dict[str, Any]]) -> Totals:
    """The same counts over calls already read."""
    priced = [c["cost_usd"] for c in calls if c.get("cost_usd") is not None]
    return Totals(
        len(calls),
        sum(c.get("turns") or 0 for c in calls),
        sum(priced) if priced else None,
        len(calls) - len(priced),
    )


def totals(connection: sqlite3.Connection, filters: CallFilter | None = None) -> Totals:
    """Counts over the calls table only: instant at any size."""
    where, params = (filters or CallFilter()).where()
    row = connection.execute(
        "SELECT COUNT(*), COALESCE(SUM(turns), 0), SUM(cost_usd), "
        f"SUM(cost_usd IS NULL) FROM calls WHERE {where}",
        params,
    ).fetchone()
    return Totals(int(row[0]), int(row[1]), row[2], int(row[3] or 0))


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    row.setdefault("room", None)  # a store written before migration 9
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
    failed = _failed_tools(connection, marks, call_ids)
    for row in rows:
        row["unpriced"] = json.loads(row.get("unpriced") or "[]")
        row["tools_failed"] = failed.get((row["call_id"], row["turn"]), 0)
        with_quality(row)
    return rows


def _failed_tools(
    connection: sqlite3.Connection, marks: str, call_ids: list[str]
) -> dict[tuple[str, int], int]:
    """Per (call, turn): its tool calls that ended in error. Each is also one of the turn's
    ``errors`` (component ``tool``), so a report shows it as ``tools×N (n failed)`` and
    leaves it out of the ``errors×`` flag: one failure, shown once."""
    return {
        (call_id, turn): count
        for call_id, turn, count in connection.execute(
            "SELECT call_id, turn, COUNT(*) FROM components WHERE kind = 'tool' "
            f"AND status = 'error' AND call_id IN ({marks}) GROUP BY call_id, turn",
            call_ids,
        )
    }


def with_written(
    connection: sqlite3.Connection, turns: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Add to each interrupted turn what its model wrote (``written``: the output of its
    kept LLM or realtime requests), to set against what was heard."""
    cut = [t for t in turns if t["interrupted"]]
    if not cut:
        return turns
    ids = sorted({t["call_id"] for t in cut})
    marks = ", ".join("?" * len(ids))
    written: dict[tuple[str, int], list[str]] = {}
    for call_id, turn, output in connection.execute(
        "SELECT call_id, turn, output FROM components WHERE kind IN ('llm', 'realtime') "
        f"AND discarded = 0 AND output IS NOT NULL AND call_id IN ({marks}) "
        "ORDER BY started_at",
        ids,
    ):
        written.setdefault((call_id, turn), []).append(output)
    for turn in cut:
        found = written.get((turn["call_id"], turn["turn"]))
        turn["written"] = " ".join(found) if found else None
    return turns


def with_greeting_checked(
    calls: list[dict[str, Any]], turns: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The calls with ``summary.time_to_first_greeting`` null where their first turn shows
    the user spoke first. Recorders since this check already store null there; calls
    stored before it held the first audio of any reply (e.g. after a barge-in)."""
    first: dict[str, dict[str, Any]] = {}
    for turn in turns:
        known = first.get(turn["call_id"])
        if known is None or turn["turn"] < known["turn"]:
            first[turn["call_id"]] = turn
    for call in calls:
        summary, opened = call.get("summary"), first.get(call["call_id"])
        if not summary or opened is None or summary.get("time_to_first_greeting") is None:
            continue
        if opened.get("user_started_at") is not None or opened.get("source") == "user":
            call["summary"] = {**summary, "time_to_first_greeting": None}
    return calls


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
    """Percentiles of every metric over the given calls (None: every call in the store,
    from the histograms the store keeps, exact at the reports' precision)."""
    found: dict[str, Distribution] = {}
    names = list(METRICS)
    if call_ids is None:
        found = histogram_distributions(connection, names)
        names = [n for n in names if n not in histograms.kept(connection)]
    found.update(exact_distributions(connection, call_ids, names))
    return {name: found[name] for name in METRICS if name in found}


def histogram_distributions(
    connection: sqlite3.Connection, names: list[str]
) -> dict[str, Distribution]:
    """Every call's distribution of the kept metrics among ``names``, from the histograms.

    A percentile is exact, or (when the two values it lies between share a 1 ms bucket) the
    bucket: what the reports show either way. ``maximum`` is exact; ``mean`` is the sum
    over the count."""
    kept = [n for n in names if n in histograms.kept(connection)]
    found = {}
    for name, held in histograms.buckets(connection, kept).items():
        count = sum(b.count for b in held)
        found[name] = Distribution(
            metric=name,
            count=count,
            percentiles={p: histograms.percentile(held, p)[0] for p in PERCENTILES},
            maximum=held[-1].high,
            mean=sum(b.total for b in held) / count,
        )
    return found


def exact_distributions(
    connection: sqlite3.Connection, call_ids: list[str] | None, names: list[str]
) -> dict[str, Distribution]:
    """Percentiles of the given metrics from every value (numpy), over the given calls."""
    if not names:
        return {}
    import numpy as np  # here, not at the top: reading commands start without it

    by_table: dict[str, list[str]] = {}
    for name in names:
        by_table.setdefault(ALL_METRICS[name].table, []).append(name)
    found: dict[str, Distribution] = {}
    for table, chosen in by_table.items():
        columns = ", ".join(
            f"CASE WHEN {ALL_METRICS[n].where} THEN {ALL_METRICS[n].expression} END" for n in chosen
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
        for i, name in enumerate(chosen):
            column = values[:, i]
            column = column[~np.isnan(column)]
            if column.size:
                found[name] = _distribution(name, column)
    return found


def _distribution(name: str, values: np.ndarray[Any, np.dtype[np.float64]]) -> Distribution:
    import numpy as np  # here, not at the top: reading commands start without it

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
    """Every value of one metric (any of ``ALL_METRICS``) over the given calls."""
    m = ALL_METRICS[metric]
    query = f"SELECT {m.expression} FROM {m.table} WHERE {m.where} AND {m.expression} IS NOT NULL"
    params: list[str] = []
    if call_ids is not None:
        query += f" AND call_id IN ({', '.join('?' * len(call_ids))})"
        params = call_ids
    return [float(r[0]) for r in connection.execute(query, params)]
