"""Trends: per hour or day (local time), how many calls and turns, e2e p50/p95, cost, and
the error and interruption rates. A call belongs to the period it started in."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from turnscope.report.filters import CALL_TIME, CallFilter

if TYPE_CHECKING:
    import sqlite3

__all__ = ["PERIODS", "Period", "trend", "trend_of"]

PERIODS = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d"}
"""Each period and its label (strftime, local time)."""


@dataclass(frozen=True)
class Period:
    """One hour or day. Latencies in seconds, cost in USD, rates as fractions (0–1); None
    where nothing was measured (no e2e, no priced call, no turn, no reply heard)."""

    period: str
    calls: int
    turns: int
    e2e_p50: float | None
    e2e_p95: float | None
    cost_usd: float | None
    error_rate: float | None
    interruption_rate: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def trend(connection: sqlite3.Connection, filters: CallFilter | None, by: str) -> list[Period]:
    """The periods that have calls, oldest first."""
    where, params = (filters or CallFilter()).where()
    label = f"strftime('{PERIODS[by]}', {CALL_TIME}, 'unixepoch', 'localtime')"
    calls = connection.execute(
        f"SELECT {label} AS period, COUNT(*), SUM(cost_usd) FROM calls WHERE {where} "
        "GROUP BY period ORDER BY period",
        params,
    ).fetchall()
    turns: dict[str, list[tuple[Any, ...]]] = {}
    for row in connection.execute(
        f"SELECT {label}, turns.e2e, turns.errors > 0, turns.interrupted, "
        "turns.agent_started_at IS NOT NULL FROM turns JOIN calls USING (call_id) "
        f"WHERE {where}",
        params,
    ):
        turns.setdefault(row[0], []).append(row[1:])
    return [_period(name, count, cost, turns.get(name, [])) for name, count, cost in calls]


def _period(name: str, calls: int, cost: float | None, rows: list[tuple[Any, ...]]) -> Period:
    import numpy as np  # here, not at the top: reading commands start without it

    e2e = np.asarray([r[0] for r in rows if r[0] is not None], dtype=float)
    p50, p95 = (float(v) for v in np.percentile(e2e, [50, 95])) if e2e.size else (None, None)
    replies = [r for r in rows if r[3]]
    return Period(
        period=name,
        calls=calls,
        turns=len(rows),
        e2e_p50=p50,
        e2e_p95=p95,
        cost_usd=cost,
        error_rate=sum(r[1] for r in rows) / len(rows) if rows else None,
        interruption_rate=sum(r[2] for r in replies) / len(replies) if replies else None,
    )


def trend_of(calls: list[dict[str, Any]], turns: list[dict[str, Any]], by: str) -> list[Period]:
    """The same periods from calls and turns already read (the HTML report's chart)."""
    label_of = {c["call_id"]: _label(c.get("started_at") or c["recorded_at"], by) for c in calls}
    counts: dict[str, list[Any]] = {}
    for call in calls:
        entry = counts.setdefault(label_of[call["call_id"]], [0, None])
        entry[0] += 1
        if call.get("cost_usd") is not None:
            entry[1] = (entry[1] or 0.0) + call["cost_usd"]
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for t in turns:
        rows.setdefault(label_of[t["call_id"]], []).append(
            (t["e2e"], t["errors"] > 0, t["interrupted"], t["agent_started_at"] is not None)
        )
    return [
        _period(name, count, cost, rows.get(name, []))
        for name, (count, cost) in sorted(counts.items())
    ]


def _label(at: float, by: str) -> str:
    return datetime.fromtimestamp(at).strftime(PERIODS[by])
