"""A batch's rows into SQLite in few statements, with as little Python per row as it takes.

The writer's thread shares Python's lock (the GIL) with the agent's threads, so what counts
is the time it holds it per row. Three things keep that short, none of them changing a stored
value or the order rows are written in within a table:

- **Rows of one statement are grouped** across the batch (in their order within each table;
  a table's statements keep their order between them — or, for upserts such as a call's
  start and end, are grouped by statement when that stores exactly the same: ``_merged``).
- **Many rows per statement**: ``INSERT ... VALUES (...), (...), ...``, a run of rows in a
  few statements of power-of-two sizes (each prepared once, then cached), each within
  SQLite's limit of bound values. SQLite runs a statement in its C code with the GIL
  released, once for many rows, where ``executemany`` hands the GIL back and forth for each
  row — and each time waits to get it back while another thread runs Python (up to the
  interpreter's switch interval, 5 ms): the fewer statements a batch, the less waiting.
- **None is bound as NaN**, which SQLite stores as NULL: CPython's sqlite3 binds ``None``
  through its adapter lookup (failed attribute lookups, several times the cost of binding a
  float), and NULLs are a third of the values of a turn's rows. The stored value is the same
  NULL under the same constraints (NaN into a NOT NULL column fails as None does); tests in
  ``tests/store/test_inserts.py`` pin it against SQLite.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from itertools import chain, islice, permutations
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = ["MAX_VARIABLES", "MOST_VARIABLES", "insert"]

MAX_VARIABLES = 999
"""Values bound per statement where Python cannot ask SQLite its limit (before 3.11):
SQLITE_MAX_VARIABLE_NUMBER's default before SQLite 3.32, its lowest on any build."""
MOST_VARIABLES = 32_766
"""Values bound per statement at most: SQLite's default limit since 3.32."""

_NAN = float("nan")


@dataclass(frozen=True)
class _Plan:
    width: int
    """Values per row."""
    head: str
    """The statement up to its first row of values."""
    marks: str
    """One row's ``?, ?, ...``."""
    tail: str
    """What follows the last row (``)`` and any ``ON CONFLICT`` clause)."""

    def many(self, rows: int) -> str:
        """The statement with ``rows`` rows of values."""
        return f"{self.head}{'), ('.join([self.marks] * rows)}{self.tail}"


_plans: dict[str, _Plan | None] = {}


def insert(connection: sqlite3.Connection, statements: Iterable[tuple[str, Sequence[Any]]]) -> None:
    """Run every ``(sql, values)`` (``sql`` an ``INSERT ... VALUES (?, ...)``, optionally with
    an ``ON CONFLICT`` clause; ``values`` its rows' values one row after another) as
    ``executemany(sql, rows)`` would, in the caller's transaction. Raises what binding or
    SQLite raise for a bad value, and sqlite3.ProgrammingError when the values are not whole
    rows; the caller then retries record by record."""
    limit = _variables(connection)
    for sql, parts in _grouped(statements, connection):
        plan = _plan(sql)
        width = plan.width if plan is not None else sql.count("?")
        count = sum(map(len, parts))
        if not width or count % width:
            raise sqlite3.ProgrammingError(f"{count} values are not rows of {width}")
        values = chain.from_iterable(parts)
        if plan is None:
            flat = [_NAN if v is None else v for v in values]
            connection.executemany(sql, [flat[i : i + width] for i in range(0, count, width)])
            continue
        for rows in _sizes(count // width, max(1, limit // width)):
            connection.execute(
                _statement(plan, rows),
                [_NAN if v is None else v for v in islice(values, rows * width)],
            )


def _sizes(rows: int, most: int) -> list[int]:
    """Rows per statement for ``rows`` rows: powers of two, as many of the largest that fits
    ``most`` as there are, then the rest by its binary digits — a few sizes of statement,
    each prepared once and kept in the connection's statement cache."""
    largest = 1 << (most.bit_length() - 1)
    sizes = [largest] * (rows // largest)
    rest = rows % largest
    while rest:
        size = 1 << (rest.bit_length() - 1)
        sizes.append(size)
        rest -= size
    return sizes


def _variables(connection: sqlite3.Connection) -> int:
    """Values one statement may bind on this connection (its SQLite's limit, at most
    ``MOST_VARIABLES``); ``MAX_VARIABLES`` where Python cannot ask (before 3.11)."""
    getlimit = getattr(connection, "getlimit", None)
    if getlimit is None:
        return MAX_VARIABLES
    return min(int(getlimit(_LIMIT_VARIABLE_NUMBER)), MOST_VARIABLES)


_LIMIT_VARIABLE_NUMBER = 9
"""``sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER`` (Python 3.11+; SQLite's own constant)."""


_statements: dict[tuple[str, int], str] = {}


def _statement(plan: _Plan, rows: int) -> str:
    key = (plan.head, rows)
    text = _statements.get(key)
    if text is None:
        text = _statements[key] = plan.many(rows)
    return text


def _grouped(
    statements: Iterable[tuple[str, Sequence[Any]]], connection: sqlite3.Connection
) -> list[tuple[str, list[Sequence[Any]]]]:
    """The values of each statement together (as the sequences they came in: no copy), in
    order within each table: a table's rows go in one run per change of statement, so its
    statements keep their order between them — or, for a table written only by upserts
    (``ON CONFLICT``, e.g. a call's start and end), one run per statement when that keeps
    each row's key in its order (``_merged``)."""
    runs: list[tuple[str, list[Sequence[Any]]]] = []
    current: dict[str, tuple[str, list[Sequence[Any]]]] = {}
    for sql, values in statements:
        table = _table(sql)
        run = current.get(table)
        if run is None or run[0] != sql:
            run = current[table] = (sql, [])
            runs.append(run)
        run[1].append(values)
    if len(runs) > len(current):
        runs = _merged(runs, connection)
    return runs


def _merged(
    runs: list[tuple[str, list[Sequence[Any]]]], connection: sqlite3.Connection
) -> list[tuple[str, list[Sequence[Any]]]]:
    """Each upsert-only table's runs as one run per statement (its statements in the first
    order that works; there are two: a call's start and end), when that stores exactly what
    the runs in order store: every key (a row's first column: the call id) still meets its
    statements in the order it did (two upserts of one key run in their order; upserts of
    different keys touch different rows), and the keys new to the table are still inserted
    in the order they were (the same rowids). A table's runs stay as they are otherwise."""
    by_table: dict[str, list[tuple[str, list[Sequence[Any]]]]] = {}
    for run in runs:
        by_table.setdefault(_table(run[0]), []).append(run)
    merged: dict[str, list[tuple[str, list[Sequence[Any]]]]] = {}
    for table, mine in by_table.items():
        if len({sql for sql, _ in mine}) > 3 or not all("ON CONFLICT" in sql for sql, _ in mine):
            continue
        for sqls in permutations(dict.fromkeys(sql for sql, _ in mine)):
            order = {sql: n for n, sql in enumerate(sqls)}
            if _keys_in_order(mine, order) and _inserts_in_order(connection, table, mine, order):
                joined: dict[str, tuple[str, list[Sequence[Any]]]] = {s: (s, []) for s in sqls}
                for sql, parts in mine:
                    joined[sql][1].extend(parts)
                merged[table] = list(joined.values())
                break
    found: list[tuple[str, list[Sequence[Any]]]] = []
    for run in runs:
        table = _table(run[0])
        if table not in merged:
            found.append(run)
        elif merged[table]:
            found += merged.pop(table)
            merged[table] = []
    return found


def _keys_in_order(runs: list[tuple[str, list[Sequence[Any]]]], order: dict[str, int]) -> bool:
    """Whether every row's key meets the statements in ``order`` (a key written by the
    second statement is never written by the first after it)."""
    last: dict[Any, int] = {}
    for sql, parts in runs:
        rank, width = order[sql], sql.count("?")
        for values in parts:
            for key in values[::width]:
                if last.get(key, rank) > rank:
                    return False
                last[key] = rank
    return True


def _inserts_in_order(
    connection: sqlite3.Connection,
    table: str,
    runs: list[tuple[str, list[Sequence[Any]]]],
    order: dict[str, int],
) -> bool:
    """Whether the keys the runs insert (those not in ``table`` yet) come first under the
    statements in ``order``, in the order they came: then merging the runs inserts them in
    the same order. Asks the table only about keys first met under a later statement (a
    call's end whose start was written before): a handful a batch."""
    first: dict[Any, int] = {}
    for sql, parts in runs:
        rank, width = order[sql], sql.count("?")
        for values in parts:
            for key in values[::width]:
                first.setdefault(key, rank)
    late = [key for key, rank in first.items() if rank]
    if not late:
        return True
    if len(late) > MAX_VARIABLES:
        return False
    column = runs[0][0].split("(", 1)[1].split(",", 1)[0].strip()
    marks = ", ".join("?" * len(late))
    known = {
        row[0]
        for row in connection.execute(
            f"SELECT {column} FROM {table} WHERE {column} IN ({marks})", late
        )
    }
    new = [rank for key, rank in first.items() if key not in known]
    return new == sorted(new)


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
        plan = _Plan(width, f"{head}{values}", marks, f"{close}{rest}")
    _plans[sql] = plan
    return plan
