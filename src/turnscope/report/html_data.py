"""What the HTML report shows, read from the store as plain JSON-ready data.

The page draws everything from this one object, so the Python side never writes a word of
a call into markup: transcripts, messages and ids travel only as JSON strings.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING, Any

from turnscope.report.metrics import METRICS
from turnscope.report.queries import (
    distributions,
    events_of,
    turns_of,
    values_of,
    with_greeting_checked,
    with_written,
)
from turnscope.report.speeds import note, speed_of
from turnscope.report.text import E2E_NOTE, heard_text_label
from turnscope.report.trend import trend_of
from turnscope.store.migrations import BREAKDOWN_COLUMNS

if TYPE_CHECKING:
    import sqlite3

__all__ = ["gather"]

_MAX_BINS = 40


def gather(
    connection: sqlite3.Connection, calls: list[dict[str, Any]], generated_at: float
) -> dict[str, Any]:
    """Every chosen call with its turns and events, plus the distributions over all of them.

    ``calls`` come oldest first (``select_calls``); the page shows them newest first, as
    ``turnscope calls`` and its own overview table do."""
    call_ids = [c["call_id"] for c in calls]
    turns = with_written(connection, turns_of(connection, call_ids))
    events = events_of(connection, call_ids, ("error", "false_interruption"))
    calls = with_greeting_checked(calls, turns)
    return {
        "generated_at": generated_at,
        "note": E2E_NOTE,
        "parts": list(BREAKDOWN_COLUMNS),
        "calls": [
            _call(
                call,
                [t for t in turns if t["call_id"] == call["call_id"]],
                [e for e in events if e["call_id"] == call["call_id"]],
            )
            for call in reversed(calls)
        ],
        "speed_note": _speed_note(calls),
        "distributions": _distributions(connection, call_ids),
        "cost": _cost(calls),
        "trend": _trend(calls, turns),
    }


def _speed_note(calls: list[dict[str, Any]]) -> str | None:
    """The terminal report's note (``report.speeds.note``) when some of ``calls`` were not
    played at real time; None when all were."""
    speeds = Counter(speed for speed in map(speed_of, calls) if speed is not None)
    sped_up = dict(sorted(speeds.items(), reverse=True))  # fastest first, as speeds_of
    if not sped_up:
        return None
    return note(sped_up, len(calls), "these histograms, percentiles and trend")


def _trend(calls: list[dict[str, Any]], turns: list[dict[str, Any]]) -> dict[str, Any]:
    """Per day when the calls span more than two days, else per hour."""
    times = [c.get("started_at") or c["recorded_at"] for c in calls]
    by = "day" if times and max(times) - min(times) > 2 * 86400 else "hour"
    return {
        "by": by,
        "periods": [
            {k: (_num(v) if isinstance(v, float) else v) for k, v in p.as_dict().items()}
            for p in trend_of(calls, turns, by)
        ],
    }


def _num(value: Any, digits: int | None = None) -> float | None:
    """A finite number, else None; rounded to ``digits`` only where the page shows it no
    finer than that. A value the page shows as whole ms or dollars goes unrounded: rounded
    twice (here, then in the page) it could show 178 ms where the terminal shows 177."""
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    return number if digits is None else round(number, digits)


def _call(
    call: dict[str, Any], turns: list[dict[str, Any]], events: list[dict[str, Any]]
) -> dict[str, Any]:
    origin = call.get("started_at") or (turns[0]["started_at"] if turns else 0.0)
    duration = (
        call["ended_at"] - call["started_at"]
        if call.get("ended_at") and call.get("started_at")
        else None
    )
    return {
        "call_id": call["call_id"],
        "session_id": call["session_id"],
        "room": call.get("room"),
        "user_id": call.get("user_id"),
        "started_at": _num(call.get("started_at")),  # to the second the terminal shows
        "duration": _num(duration),
        "close_reason": call.get("close_reason"),
        "cost_usd": _num(call.get("cost_usd")),
        "cost_idle_stt": _num(call.get("cost_idle_stt")),
        "cost_by_component": call.get("cost_by_component") or {},
        "cost_by_model": call.get("cost_by_model") or {},
        "unpriced": call.get("unpriced") or [],
        "summary": call.get("summary"),
        "suspect": call.get("suspect") or [],
        "unknown": call.get("unknown") or {},
        "stt_repeated_reports": call.get("stt_repeated_reports") or 0,
        "tags": call.get("tags") or [],
        "speed": speed_of(call),
        "errors": sum((call.get("summary") or {}).get("errors_by_component", {}).values())
        if call.get("summary")
        else sum(t["errors"] for t in turns),
        "interruptions": sum(1 for t in turns if t["interrupted"]),
        "e2e_p50": _num(_summary(call, "e2e_p50")),
        "e2e_p95": _num(_summary(call, "e2e_p95")),
        "e2e_max": _num(_summary(call, "e2e_max")),
        "turns": [_turn(t, origin) for t in turns],
        "events": [_event(e, origin) for e in events],
    }


def _summary(call: dict[str, Any], key: str) -> Any:
    return (call.get("summary") or {}).get(key)


def _text_is(turn: dict[str, Any]) -> str | None:
    """For an interrupted reply, whether its text is what was heard or what was written
    (``heard_text_label``); None for a reply that played whole."""
    if not turn["interrupted"]:
        return None
    return heard_text_label(turn["agent_text"], turn.get("written")).removeprefix("; ") or None


def _turn(turn: dict[str, Any], origin: float) -> dict[str, Any]:
    return {
        "turn": turn["turn"],
        "at": _num(turn["started_at"] - origin, 3),
        "source": turn["source"],
        "outcome": turn["outcome"],
        "interrupted": bool(turn["interrupted"]),
        "heard": _num(turn.get("heard_seconds")),
        "preemptive": bool(turn["preemptive"]),
        "discarded": turn["discarded_attempts"],
        "tools": turn["tools"],
        "tools_failed": turn.get("tools_failed") or 0,
        "errors": turn["errors"],
        "e2e": _num(turn["e2e"]),
        **{part: _num(turn[part]) for part in BREAKDOWN_COLUMNS},
        "user": turn["user_text"],
        "agent": turn["agent_text"],
        "cost": _num(turn.get("cost_usd")),
        "unpriced": bool(turn.get("unpriced")),
        # only when there is one: a 1,000-turn call's page stays under 1 MB
        **_present(
            agent_is=_text_is(turn), suspect=turn.get("suspect"), unknown=turn.get("unknown")
        ),
    }


def _present(**values: Any) -> dict[str, Any]:
    """The values that are not None or empty (the page reads a missing one as none)."""
    return {key: value for key, value in values.items() if value}


def _event(event: dict[str, Any], origin: float) -> dict[str, Any]:
    return {
        "kind": event["kind"],
        "turn": event["turn"],
        "at": _num(event["at"] - origin, 3),
        "component": event["component"],
        "detail": event["detail"],
        "message": event["message"],
        "recoverable": None if event["recoverable"] is None else bool(event["recoverable"]),
    }


def _distributions(connection: sqlite3.Connection, call_ids: list[str]) -> list[dict[str, Any]]:
    """Per metric: its percentiles (the terminal report's numbers) and a histogram, in ms."""
    import numpy as np  # here, not at the top: reading commands start without it

    found = distributions(connection, call_ids)
    shown = []
    for name, metric in METRICS.items():
        dist = found.get(name)
        if dist is None:
            continue
        values = np.asarray(values_of(connection, name, call_ids), dtype=float) * 1000
        bins = int(min(_MAX_BINS, max(5, math.ceil(2 * math.sqrt(values.size)))))
        counts, edges = np.histogram(values, bins=bins)
        shown.append(
            {
                "metric": name,
                "label": metric.label,
                "count": dist.count,
                **{f"p{p}": _num(v * 1000) for p, v in dist.percentiles.items()},
                "max": _num(dist.maximum * 1000),
                "edges": [_num(e, 9) for e in edges.tolist()],  # even µs-wide bins differ
                "counts": counts.tolist(),
            }
        )
    return shown


def _cost(calls: list[dict[str, Any]]) -> dict[str, Any]:
    """Cost over the chosen calls, by component and by model; what could not be priced."""
    by_component: dict[str, float] = {}
    by_model: dict[str, float] = {}
    unpriced: set[str] = set()
    for call in calls:
        for key, value in (call.get("cost_by_component") or {}).items():
            by_component[key] = by_component.get(key, 0.0) + value
        for key, value in (call.get("cost_by_model") or {}).items():
            by_model[key] = by_model.get(key, 0.0) + value
        unpriced.update(call.get("unpriced") or [])
    priced = [c["cost_usd"] for c in calls if c.get("cost_usd") is not None]
    return {
        "total": _num(sum(priced)) if priced else None,
        "by_component": {k: _num(v) for k, v in sorted(by_component.items())},
        "by_model": {k: _num(v) for k, v in sorted(by_model.items(), key=lambda kv: -kv[1])},
        "unpriced": sorted(unpriced),
    }
