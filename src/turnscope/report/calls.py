"""The call list: one entry per call, newest first, sortable, from the calls table.

Each call's e2e p50/p95/max, errors and interruptions come from the call summary the
recorder stored when the call closed (SQLite reads the JSON itself, so sorting 25,000 calls
takes milliseconds); only the listed calls' turns are read, for the worst turn's number,
the agents, and the figures of calls still open (no summary yet).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from turnscope.report.filters import CALL_TIME, CallFilter
from turnscope.report.lookup import room_column
from turnscope.report.speeds import speed_of

if TYPE_CHECKING:
    import sqlite3

__all__ = ["SORTS", "CallLine", "list_calls"]

SORTS = {
    "time": CALL_TIME,
    "e2e": "json_extract(summary, '$.e2e_p95')",
    "cost": "cost_usd",
    "errors": "errors",
    "turns": "turns",
}
"""Each ``--sort`` key and what it orders by, largest (newest) first."""

_SELECT = f"""
SELECT call_id, session_id, {{room}} AS room, user_id, tags, metadata, {CALL_TIME} AS at,
    started_at,
    ended_at, turns,
    cost_usd, unpriced, summary IS NOT NULL AS closed,
    json_extract(summary, '$.e2e_p50') AS e2e_p50, json_extract(summary, '$.e2e_p95') AS e2e_p95,
    json_extract(summary, '$.e2e_max') AS e2e_max,
    (SELECT SUM(value) FROM json_each(summary, '$.errors_by_component')) AS errors,
    json_extract(summary, '$.interruptions') AS interruptions
FROM calls
"""
"""The list's columns; ``{room}`` is ``room_column()`` (a store before migration 9 has none)."""


@dataclass
class CallLine:
    """One call as the list shows it. Times are Unix seconds, latencies seconds, cost USD."""

    call_id: str
    session_id: str
    room: str | None
    """The LiveKit room's name; None without a room, or recorded before turnscope kept it."""
    user_id: str | None
    tags: list[str]
    started_at: float
    duration: float | None
    agents: list[str]
    turns: int
    e2e_p50: float | None
    e2e_p95: float | None
    e2e_max: float | None
    worst_turn: int | None
    """The turn with the largest e2e."""
    cost_usd: float | None
    unpriced: bool
    errors: int | None
    interruptions: int | None
    closed: bool
    """False while the call is open (its figures come from the turns stored so far)."""
    speed: float | None = None
    """How many times faster than real time the call was played (``report.speeds``); None
    for real time."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_calls(
    connection: sqlite3.Connection,
    filters: CallFilter | None = None,
    *,
    sort: str = "time",
    limit: int | None = 20,
) -> list[CallLine]:
    """The calls that pass ``filters``, largest ``sort`` key first (then newest)."""
    where, params = (filters or CallFilter()).where()
    select = _SELECT.replace("{room}", room_column(connection))
    query = f"{select} WHERE {where} ORDER BY {SORTS[sort]} DESC NULLS LAST, at DESC"
    if limit is not None:
        query += " LIMIT ?"
        params = [*params, limit]
    cursor = connection.execute(query, params)
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    turns = _turns(connection, [r["call_id"] for r in rows])
    return [_line(row, turns.get(row["call_id"], [])) for row in rows]


def _turns(connection: sqlite3.Connection, call_ids: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    found: dict[str, list[tuple[Any, ...]]] = {}
    if not call_ids:
        return found
    marks = ", ".join("?" * len(call_ids))
    for row in connection.execute(
        "SELECT call_id, turn, e2e, agent_name, errors, interrupted, cost_usd FROM turns "
        f"WHERE call_id IN ({marks}) ORDER BY turn",
        call_ids,
    ):
        found.setdefault(row[0], []).append(row[1:])
    return found


def _metadata(text: str | None) -> Any:
    try:
        return json.loads(text or "{}")
    except ValueError:  # not ours to judge here: the call is listed, its speed unknown
        return None


def _stored_cost(turns: list[tuple[Any, ...]]) -> float | None:
    """An open call's cost so far: its stored turns' priced costs (as ``report`` shows
    them); None when none is priced yet."""
    priced = [t[5] for t in turns if t[5] is not None]
    return sum(priced) if priced else None


def _line(row: dict[str, Any], turns: list[tuple[Any, ...]]) -> CallLine:
    e2e = [(t[1], t[0]) for t in turns if t[1] is not None]
    worst = max(e2e)[1] if e2e else None
    tags = json.loads(row["tags"] or "[]")
    line = CallLine(
        call_id=row["call_id"],
        session_id=row["session_id"],
        room=row["room"],
        user_id=row["user_id"],
        tags=tags,
        started_at=row["at"],
        duration=(row["ended_at"] - row["started_at"])
        if row["ended_at"] is not None and row["started_at"] is not None
        else None,
        agents=sorted({t[2] for t in turns if t[2]}),
        turns=row["turns"] if row["closed"] else len(turns),
        e2e_p50=row["e2e_p50"],
        e2e_p95=row["e2e_p95"],
        e2e_max=row["e2e_max"],
        worst_turn=worst,
        cost_usd=row["cost_usd"] if row["closed"] else _stored_cost(turns),
        unpriced=bool(row["unpriced"]),
        errors=row["errors"] if row["closed"] else sum(t[3] for t in turns),
        interruptions=row["interruptions"] if row["closed"] else sum(t[4] for t in turns),
        closed=bool(row["closed"]),
        speed=speed_of({"metadata": _metadata(row["metadata"]), "tags": tags}),
    )
    if not line.closed and e2e:  # open call: the turns stored so far
        import numpy as np  # here, not at the top: reading commands start without it

        values = np.asarray([v for v, _ in e2e], dtype=float)
        line.e2e_p50, line.e2e_p95 = (float(v) for v in np.percentile(values, [50, 95]))
        line.e2e_max = float(values.max())
    if line.closed and row["errors"] is None:
        line.errors = 0
    return line
