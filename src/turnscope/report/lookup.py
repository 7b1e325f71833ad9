"""``--call VALUE``: the one call a value names, or a clear refusal — never a guess.

A value is tried as each kind of name in turn, and the first kind it names any call by
decides: the call id itself; a session id; a LiveKit room name (the ``room`` the call was
recorded in, else a ``room`` the user put in the call's metadata); a prefix of call ids.
When that kind names several calls (a session or room reused, a short prefix), the error
lists them so the user can pick one by id.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from turnscope.report.filters import CALL_TIME
from turnscope.report.literal import visible
from turnscope.store import StoreError

if TYPE_CHECKING:
    import sqlite3

__all__ = ["LISTED_AT_MOST", "AmbiguousCall", "lookup_call", "room_column"]

LISTED_AT_MOST = 10
"""Calls an ambiguity error names one by one; the rest are counted."""


class AmbiguousCall(StoreError):
    """A value that names several calls of the same kind; the message lists them."""


def room_column(connection: sqlite3.Connection) -> str:
    """``calls.room`` where the store has it (migration 9), else ``NULL``: a store an older
    turnscope wrote is read as it is (reading never migrates)."""
    columns = {row[1] for row in connection.execute("PRAGMA table_info(calls)")}
    return "calls.room" if "room" in columns else "NULL"


def _kinds(connection: sqlite3.Connection) -> tuple[tuple[str, str], ...]:
    """(what the value is taken as, its SQL condition), in the order they are tried."""
    room = f"COALESCE({room_column(connection)}, json_extract(metadata, '$.room'))"
    return (
        ("call id", "call_id = :value"),
        ("session id", "session_id = :value"),
        ("room", f"{room} = :value"),
        ("call id prefix", "substr(call_id, 1, length(:value)) = :value"),
    )


def lookup_call(connection: sqlite3.Connection, value: str) -> dict[str, Any]:
    """The row of the one call ``value`` names (see the module's docstring for the order).

    Raises StoreError when it names none (an empty value names none: as a prefix it would
    match every call), AmbiguousCall when it names several of one kind.
    """
    if not value.strip():
        raise StoreError("--call is empty: give a call id, session id, room name or id prefix")
    for kind, condition in _kinds(connection):
        cursor = connection.execute(
            f"SELECT * FROM calls WHERE {condition} ORDER BY {CALL_TIME} LIMIT :limit",
            {"value": value, "limit": LISTED_AT_MOST + 1},
        )
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        if len(rows) == 1:
            return rows[0]
        if rows:
            (count,) = connection.execute(
                f"SELECT COUNT(*) FROM calls WHERE {condition}", {"value": value}
            ).fetchone()
            raise AmbiguousCall(_ambiguity(value, kind, rows, count))
    raise StoreError(
        f"no call {visible(value)!r} in the store (by call id, session id, room name or id prefix)"
    )


def _ambiguity(value: str, kind: str, rows: list[dict[str, Any]], count: int) -> str:
    listed = ", ".join(_named(row) for row in rows[:LISTED_AT_MOST])
    if count > LISTED_AT_MOST:
        listed += f" and {count - LISTED_AT_MOST} more"
    return (
        f"{visible(value)!r} is the {kind} of {count} calls: {listed}; give one call id with --call"
    )


def _named(row: dict[str, Any]) -> str:
    started = row.get("started_at") or row.get("recorded_at")
    when = datetime.fromtimestamp(started).strftime("%Y-%m-%d %H:%M:%S") if started else "–"
    return f"{visible(row['call_id'])} ({when})"
