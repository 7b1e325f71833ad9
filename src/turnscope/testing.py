"""Gate your CI on latency: budgets over recorded or simulated calls, for pytest.

    from turnscope.testing import assert_budgets

    def test_latency_budgets():
        assert_budgets(["p95(e2e)<=1.5s", "p50(llm_ttft)<=600ms"], db="ci.db")

``turns=`` takes records instead of a store — e.g. what a ``MemorySink`` collected while
``turnscope.simulate`` ran your agent.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from turnscope.config import resolve_db_path
from turnscope.report.budgets import BudgetResult, evaluate, parse_budget, shown_value
from turnscope.report.queries import select_calls, values_of
from turnscope.store import migrate, open_for_reading
from turnscope.store.rows import COMPONENT_SQL, TURN_SQL, component_rows, turn_row

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Sequence

    from turnscope.records import Turn

__all__ = ["assert_budgets", "check_budgets"]


def _in_memory(turns: Sequence[Turn]) -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:", isolation_level=None)
    migrate(connection)
    connection.executemany(TURN_SQL, [turn_row(t, capture_content=False) for t in turns])
    rows = [row for t in turns for row in component_rows(t, capture_content=False)]
    connection.executemany(COMPONENT_SQL, rows)
    return connection


def check_budgets(
    budgets: Iterable[str],
    *,
    db: str | os.PathLike[str] | None = None,
    turns: Sequence[Turn] | None = None,
    last: int | None = None,
) -> list[BudgetResult]:
    """Evaluate budgets over ``turns``, or over the store (``db``, else ``TURNSCOPE_DB``);
    ``last`` limits the store to its last N calls. Raises BudgetError on a malformed one."""
    parsed = [parse_budget(text) for text in budgets]
    if turns is not None:
        connection = _in_memory(turns)
        chosen = None
    else:
        connection = open_for_reading(resolve_db_path(db))
        chosen = (
            None if last is None else [c["call_id"] for c in select_calls(connection, last=last)]
        )
    try:
        return [evaluate(b, values_of(connection, b.metric, chosen)) for b in parsed]
    finally:
        connection.close()


def assert_budgets(
    budgets: Iterable[str],
    *,
    db: str | os.PathLike[str] | None = None,
    turns: Sequence[Turn] | None = None,
    last: int | None = None,
) -> list[BudgetResult]:
    """Like ``check_budgets``, but fails the test (AssertionError) listing every exceeded
    budget with its measured value."""
    results = check_budgets(budgets, db=db, turns=turns, last=last)
    failed = [r for r in results if not r.passed]
    if failed:
        lines = [
            f"{r.budget.text}: measured "
            + shown_value(r.measured, r.budget.unit)
            + f" over {r.count} values"
            for r in failed
        ]
        raise AssertionError("latency budgets exceeded:\n  " + "\n  ".join(lines))
    return results
