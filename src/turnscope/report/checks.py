"""Budgets over a store: from the histograms when every call is checked (instant at any
size), else from the chosen calls' values."""

from __future__ import annotations

from typing import TYPE_CHECKING

from turnscope.report.budgets import Budget, BudgetResult, evaluate
from turnscope.report.queries import values_of
from turnscope.store import histograms

if TYPE_CHECKING:
    import sqlite3

__all__ = ["check_store"]

_HALF_BUCKET = 0.0005
"""Half a 1 ms bucket: how far an inexact histogram percentile can be from the exact one."""


def check_store(
    connection: sqlite3.Connection, budgets: list[Budget], call_ids: list[str] | None
) -> list[BudgetResult]:
    """Each budget's result over the given calls (None: every call in the store)."""
    kept = histograms.kept(connection) if call_ids is None else set()
    results = []
    for budget in budgets:
        result = _from_histogram(connection, budget) if budget.metric in kept else None
        if result is None:
            result = evaluate(budget, values_of(connection, budget.metric, call_ids))
        results.append(result)
    return results


def _from_histogram(connection: sqlite3.Connection, budget: Budget) -> BudgetResult | None:
    """None when the histogram cannot decide (a percentile within half a bucket of the limit
    that it knows only to the bucket): the exact values decide then."""
    held = histograms.buckets(connection, [budget.metric]).get(budget.metric)
    if not held:
        return BudgetResult(budget, None, 0)
    count = sum(b.count for b in held)
    if budget.stat == "max":
        return BudgetResult(budget, held[-1].high, count)
    if budget.stat == "min":
        return BudgetResult(budget, held[0].low, count)
    if budget.stat == "mean":
        return BudgetResult(budget, sum(b.total for b in held) / count, count)
    value, exact = histograms.percentile(held, float(budget.stat[1:]))
    if not exact and abs(value - budget.limit) <= _HALF_BUCKET:
        return None
    return BudgetResult(budget, value, count)
