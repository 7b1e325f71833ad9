"""A batch's rows into SQLite in few statements, with as little Python per row as it takes.

The writer's thread shares Python's lock (the GIL) with the agent's threads, so what counts
is the time it holds it per row. Three things keep that short, none of them changing a stored
value or the order rows are written in within a table:

- **Rows of one statement are grouped** across the batch (in their order within each table;
  a table's statements keep their order between them, e.g. a call's start and end).
- **Many rows per statement**: ``INSERT ... VALUES (...), (...), ...``, each statement filled
  with at most ``MAX_VARIABLES`` values (SQLite's lowest limit on any build). SQLite runs the
  statement in its C code with the GIL released, once for many rows, where ``executemany``
  hands the GIL back and forth for each row — and waits for it each time another thread is
  busy. What does not fill a statement goes through ``executemany``.
- **None is bound as NaN**, which SQLite stores as NULL: CPython's sqlite3 binds ``None``
  through its adapter lookup (failed attribute lookups, several times the cost of binding a
  float), and NULLs are a third of the values of a turn's rows. The stored value is the same
  NULL under the same constraints (NaN into a NOT NULL column fails as None does); tests in
  ``tests/store/test_inserts.py`` pin it against SQLite.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from itertools import chain, islice
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = ["MAX_VARIABLES", "insert"]

MAX_VARIABLES = 999
"""Values bound per statement: SQLITE_MAX_VARIABLE_NUMBER's default before SQLite 3.32."""

_NAN = float("nan")


@dataclass(frozen=True)
class _Plan:
    width: int
    """Values per row."""
    per_statement: int
    """Rows per many-row statement."""
    many: str
    """The statement with ``per_statement`` rows of values."""


_plans: dict[str, _Plan | None] = {}


def insert(connection: sqlite3.Connection, statements: Iterable[tuple[str, Sequence[Any]]]) -> None:
    """Run every ``(sql, values)`` (``sql`` an ``INSERT ... VALUES (?, ...)``, optionally with
    an ``ON CONFLICT`` clause; ``values`` its rows' values one row after another) as
    ``executemany(sql, rows)`` would, in the caller's transaction. Raises what binding or
    SQLite raise for a bad value, and sqlite3.ProgrammingError when the values are not whole
    rows; the caller then retries record by record."""
    for sql, parts in _grouped(statements):
        plan = _plan(sql)
        width = plan.width if plan is not None else sql.count("?")
        count = sum(map(len, parts))
        if not width or count % width:
            raise sqlite3.ProgrammingError(f"{count} values are not rows of {width}")
        values = chain.from_iterable(parts)
        if plan is not None:
            step = plan.per_statement * width
            for _ in range(count // step):
                connection.execute(
                    plan.many, [_NAN if v is None else v for v in islice(values, step)]
                )
            count %= step
        if count:
            rest = [_NAN if v is None else v for v in values]
            connection.executemany(sql, [rest[i : i + width] for i in range(0, count, width)])


def _grouped(
    statements: Iterable[tuple[str, Sequence[Any]]],
) -> list[tuple[str, list[Sequence[Any]]]]:
    """The values of each statement together (as the sequences they came in: no copy), in
    order within each table: a table's rows go in one run per change of statement, so its
    statements keep their order between them."""
    runs: list[tuple[str, list[Sequence[Any]]]] = []
    current: dict[str, tuple[str, list[Sequence[Any]]]] = {}
    for sql, values in statements:
        table = _table(sql)
        run = current.get(table)
        if run is None or run[0] != sql:
            run = current[table] = (sql, [])
            runs.append(run)
        run[1].append(values)
    return runs


def _table(sql: str) -> str:
    """The table an ``INSERT ... INTO table`` writes ('' when it cannot tell: one run)."""
    table = _tables.get(sql)
    if table is None:
        words = sql.split("INTO", 1)
        table = words[1].split(None, 1)[0] if len(words) == 2 and words[1].strip() else ""
        _tables[sql] = table
    return table


_tables: dict[str, str] = {}


def _plan(sql: str) -> _Plan | None:
    """How to write ``sql``'s rows many at a time; None when it has no plain ``VALUES (?, ...)``
    list (then each row goes through ``executemany``)."""
    if sql in _plans:
        return _plans[sql]
    head, values, tail = sql.partition("VALUES (")
    marks, close, rest = tail.partition(")")
    width = marks.count("?")
    plan = None
    if values and close and width and not marks.replace("?", "").strip(", \n"):
        per = max(1, MAX_VARIABLES // width)
        plan = _Plan(width, per, f"{head}{values}{'), ('.join([marks] * per)}{close}{rest}")
    _plans[sql] = plan
    return plan
