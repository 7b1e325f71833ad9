"""Which calls a reading command looks at: the filters every one of them shares.

``--since``/``--until`` (an absolute local date or time, or an age such as ``2h`` or ``7d``),
``--user``, ``--session``, ``--agent`` (any of the values given) and ``--tag`` (every tag
given) become one SQL condition over the ``calls`` table, so ``calls``, ``report``,
``check``, ``compare`` and ``--html`` choose calls the same way.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["CALL_TIME", "CallFilter", "FilterError", "parse_age", "parse_when"]

CALL_TIME = "COALESCE(calls.started_at, calls.recorded_at)"
"""When a call happened: its start, else (still open, or closed without one) when it was
first recorded. Unix seconds."""

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class FilterError(ValueError):
    """A filter that cannot be read; the message says how to write it."""


def parse_age(text: str) -> float:
    """``30d``, ``12h``, ``2w``, ``90s``, ``15m`` → seconds; FilterError otherwise."""
    match = _AGE.match(text)
    if match is None:
        raise FilterError(f"cannot read age {text!r}: use a number and s, m, h, d or w (e.g. 30d)")
    return float(match[1]) * _UNIT_SECONDS[match[2]]


def parse_when(text: str, now: float | None = None) -> float:
    """An age before ``now`` (``2h``, ``7d``) or a local date/time (``2026-11-26``,
    ``2026-11-26 14:30``, ISO 8601 with an offset) → Unix seconds."""
    if _AGE.match(text):
        return (time.time() if now is None else now) - parse_age(text)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise FilterError(
            f"cannot read time {text!r}: give an age (2h, 7d) or a local date or time "
            "(2026-11-26, '2026-11-26 14:30')"
        ) from None
    return moment.timestamp()  # a naive time is local time, as the reports show it


@dataclass(frozen=True)
class CallFilter:
    """The calls to read. Empty: every call."""

    since: float | None = None
    """Unix seconds; calls that happened at or after it."""
    until: float | None = None
    """Unix seconds; calls that happened before it."""
    users: tuple[str, ...] = ()
    sessions: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return any(
            (self.since is not None, self.until is not None, self.users, self.sessions,
             self.tags, self.agents)
        )  # fmt: skip

    def where(self) -> tuple[str, list[Any]]:
        """An SQL condition over ``calls`` and its parameters (``1`` when empty)."""
        parts: list[str] = []
        params: list[Any] = []
        if self.since is not None:
            parts.append(f"{CALL_TIME} >= ?")
            params.append(self.since)
        if self.until is not None:
            parts.append(f"{CALL_TIME} < ?")
            params.append(self.until)
        for column, values in (("calls.user_id", self.users), ("calls.session_id", self.sessions)):
            if values:
                parts.append(f"{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        for tag in self.tags:
            parts.append("EXISTS (SELECT 1 FROM json_each(calls.tags) WHERE value = ?)")
            params.append(tag)
        if self.agents:
            marks = ", ".join("?" * len(self.agents))
            parts.append(
                "EXISTS (SELECT 1 FROM turns WHERE turns.call_id = calls.call_id "
                f"AND turns.agent_name IN ({marks}))"
            )
            params.extend(self.agents)
        return (" AND ".join(parts) or "1"), params

    def describe(self) -> str:
        """The filter in words, for headers (empty when there is none)."""
        said = []
        if self.since is not None:
            said.append(f"since {_local(self.since)}")
        if self.until is not None:
            said.append(f"until {_local(self.until)}")
        for label, values in (("user", self.users), ("session", self.sessions),
                              ("tag", self.tags), ("agent", self.agents)):  # fmt: skip
            if values:
                said.append(
                    f"{label} {' or '.join(values) if label != 'tag' else ' and '.join(values)}"
                )
        return ", ".join(said)


def _local(at: float) -> str:
    return datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M")
