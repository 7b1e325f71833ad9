"""Latency budgets: ``p95(e2e)<=1.5s``, ``p50(llm_ttft)<=600ms``, ``max(other)<50ms``."""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from turnscope.report.metrics import METRICS

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Budget", "BudgetError", "BudgetResult", "evaluate", "parse_budget"]

_PATTERN = re.compile(
    r"^\s*(?P<stat>p\d{1,2}(?:\.\d+)?|max|min|mean)\s*\(\s*(?P<metric>[a-z][a-z0-9_]*)\s*\)\s*"
    r"(?P<op><=|<|>=|>)\s*(?P<limit>\d+(?:\.\d+)?)\s*(?P<unit>ms|s)?\s*$"
)
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
}


class BudgetError(ValueError):
    """A budget that cannot be read; the message says how to write one."""


@dataclass(frozen=True)
class Budget:
    text: str
    stat: str
    metric: str
    op: str
    limit: float
    """Seconds."""


@dataclass(frozen=True)
class BudgetResult:
    budget: Budget
    measured: float | None
    """Seconds; None when the selection has no value of the metric."""
    count: int

    @property
    def passed(self) -> bool:
        if self.measured is None:
            return False  # no data proves nothing: a CI gate must not pass on it
        return _OPS[self.budget.op](self.measured, self.budget.limit)


def parse_budget(text: str) -> Budget:
    match = _PATTERN.match(text)
    if match is None:
        raise BudgetError(
            f"cannot read budget {text!r}: write STAT(METRIC)OP LIMIT, e.g. 'p95(e2e)<=1.5s' "
            "(STAT: pNN, max, min or mean; OP: <=, <, >=, >; LIMIT in s or ms)"
        )
    metric = match["metric"]
    if metric not in METRICS:
        raise BudgetError(f"unknown metric {metric!r} in {text!r}; known: {', '.join(METRICS)}")
    stat = match["stat"]
    if stat.startswith("p") and not 0 < float(stat[1:]) < 100:
        raise BudgetError(f"percentile out of range in {text!r}")
    limit = float(match["limit"]) / (1000.0 if match["unit"] == "ms" else 1.0)
    return Budget(text=text.strip(), stat=stat, metric=metric, op=match["op"], limit=limit)


def evaluate(budget: Budget, values: list[float]) -> BudgetResult:
    if not values:
        return BudgetResult(budget, None, 0)
    data = np.asarray(values, dtype=float)
    if budget.stat == "max":
        measured = float(data.max())
    elif budget.stat == "min":
        measured = float(data.min())
    elif budget.stat == "mean":
        measured = float(data.mean())
    else:
        measured = float(np.percentile(data, float(budget.stat[1:])))
    return BudgetResult(budget, measured, int(data.size))
