"""Calls played faster (or slower) than real time, which budgets and comparisons must name.

``turnscope demo --speed 8`` and ``turnscope.simulate.run(speed=8)`` play a call on a faster
clock: every latency is 8 times shorter than the same call at real time. A budget checked
over such calls passes too easily, and a comparison of a sped-up side with a real-time one
measures the speed, not the agent. The store keeps every call as it was recorded, so the
readers find these calls by their metadata and say so beside the verdict:

- ``simulation_speed``: a number other than 1 in a call's metadata (what the demo writes,
  and what a test that records ``simulate.run`` calls at another speed should pass to
  ``instrument(metadata=...)``);
- ``speed`` in the metadata of a call tagged ``demo``: what older demos wrote.

A call whose metadata holds no such number is a real-time call (every live agent's call).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from turnscope.report.filters import CallFilter

if TYPE_CHECKING:
    import sqlite3

__all__ = ["SPEED_KEY", "describe", "listed", "note", "speed_of", "speeds_of"]

SPEED_KEY = "simulation_speed"
"""The metadata key naming how many times faster than real time a call was played."""

_SPEED = f"""
CASE WHEN json_valid(calls.metadata) THEN COALESCE(
    json_extract(calls.metadata, '$.{SPEED_KEY}'),
    CASE WHEN json_valid(calls.tags)
        AND EXISTS (SELECT 1 FROM json_each(calls.tags) WHERE value = 'demo')
    THEN json_extract(calls.metadata, '$.speed') END
) END"""


def speeds_of(
    connection: sqlite3.Connection, chosen: list[str] | None, filters: CallFilter | None = None
) -> dict[float, int]:
    """How many of the ``chosen`` calls (every call that passes ``filters`` when None) were
    played at each speed other than real time: ``{speed: calls}``, fastest first; empty when
    all were real time."""
    where, params = (filters or CallFilter()).where()
    if chosen is not None:
        if not chosen:
            return {}
        where = f"calls.call_id IN ({', '.join('?' * len(chosen))})"
        params = list(chosen)
    rows = connection.execute(
        f"SELECT speed, COUNT(*) FROM (SELECT {_SPEED} AS speed FROM calls WHERE {where}) "
        "WHERE typeof(speed) IN ('integer', 'real') AND speed > 0 AND speed != 1 "
        "GROUP BY speed ORDER BY speed DESC",
        params,
    ).fetchall()
    return {float(speed): int(count) for speed, count in rows}


def speed_of(call: dict[str, Any]) -> float | None:
    """One call's speed when it was not played at real time (the rule of ``speeds_of``, for
    a call already read: ``metadata`` a dict, ``tags`` a list); None for real time."""
    metadata = call.get("metadata")
    if not isinstance(metadata, dict):
        return None
    speed = metadata.get(SPEED_KEY)
    if speed is None and "demo" in (call.get("tags") or ()):
        speed = metadata.get("speed")
    if isinstance(speed, bool) or not isinstance(speed, int | float):
        return None
    if not (math.isfinite(speed) and speed > 0):  # SQLite reads no NaN or Infinity in JSON
        return None
    return None if speed == 1 else float(speed)


def listed(speeds: dict[float, int]) -> list[dict[str, float]]:
    """``{speed: calls}`` as ``--json`` gives it (``not_real_time``): ``[{speed, calls}]``."""
    return [{"speed": speed, "calls": calls} for speed, calls in speeds.items()]


def describe(speeds: dict[float, int]) -> str:
    """``2 at 8x, 1 at 4x`` (empty when ``speeds`` is)."""
    return ", ".join(f"{count} at {speed:g}x" for speed, count in speeds.items())


def note(speeds: dict[float, int], calls: int, judged: str) -> str:
    """The line a reading command prints under figures over ``calls`` calls of which
    ``speeds`` were not played at real time; ``judged``: what those figures are ("latency
    budgets over them", "these percentiles")."""
    count = sum(speeds.values())
    who = (
        "this call was"
        if count == calls == 1
        else f"{count} of these {calls} calls {'was' if count == 1 else 'were'}"
    )
    return (
        f"note: {who} not played at real time ({describe(speeds)}: `turnscope demo --speed`, "
        f"or a simulation): {'its' if count == 1 else 'their'} latencies are scaled by that "
        f"speed, so {judged} mean little"
    )
