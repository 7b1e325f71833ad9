"""Budgets: ``p95(e2e)<=1.5s``, ``p50(llm_ttft)<=600ms``, ``p95(call_cost)<=$0.05``,
``error_rate<=2%``.

Every limit says its unit — ``s`` or ``ms`` for a latency, ``$`` for a cost, ``%`` for a
rate — because a bare number is ambiguous (reports show milliseconds, the store keeps
seconds): ``p95(e2e)<=1500`` is refused with the corrected expression suggested.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from turnscope.report.metrics import ALL_METRICS
from turnscope.report.numbers import unsigned_zero
from turnscope.report.suggest import METRIC_SYNONYMS, did_you_mean
from turnscope.store import histograms

if TYPE_CHECKING:
    from collections.abc import Callable

    from turnscope.report.metrics import Metric

__all__ = [
    "BUDGET_METRICS",
    "Budget",
    "BudgetError",
    "BudgetResult",
    "evaluate",
    "parse_budget",
    "shown_value",
]

BUDGET_METRICS: dict[str, Metric] = ALL_METRICS

_PATTERN = re.compile(
    r"^\s*(?:(?P<stat>p\d{1,2}(?:\.\d+)?|max|min|mean)\s*\(\s*(?P<metric>[a-z][a-z0-9_]*)\s*\)"
    r"|(?P<bare>[a-z][a-z0-9_]*))\s*"
    r"(?P<op><=|<|>=|>)\s*(?P<dollar>\$)?\s*(?P<limit>\d+(?:\.\d+)?)\s*"
    r"(?P<unit>ms|s|%|\$|usd)?\s*$",
    re.IGNORECASE,
)
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
}
_SCALE = {"s": 1.0, "ms": 1e-3, "$": 1.0, "usd": 1.0, "%": 1e-2}
_UNITS = {"s": ("s", "ms"), "$": ("$", "usd"), "%": ("%",)}
_KIND = {"s": "a latency: give its limit in s or ms", "$": "a cost: give its limit in $",
         "%": "a rate: give its limit in %"}  # fmt: skip


class BudgetError(ValueError):
    """A budget that cannot be read; the message says how to write one."""


@dataclass(frozen=True)
class Budget:
    text: str
    stat: str
    """``pNN``, ``max``, ``min`` or ``mean`` (a rate is always its mean)."""
    metric: str
    op: str
    limit: float
    """Seconds for a latency, USD for a cost, a fraction (0–1) for a rate."""
    unit: str = "s"
    """The metric's unit: ``s``, ``$`` or ``%``."""


@dataclass(frozen=True)
class BudgetResult:
    budget: Budget
    measured: float | None
    """In the budget's unit (seconds, USD, fraction); None when there is no value."""
    count: int

    @property
    def passed(self) -> bool:
        if self.measured is None:
            return False  # no data proves nothing: a CI gate must not pass on it
        return _OPS[self.budget.op](self.measured, self.budget.limit)


def parse_budget(text: str) -> Budget:
    """``STAT(METRIC) OP LIMIT UNIT`` (or ``RATE OP LIMIT%``); BudgetError says what is wrong
    and, for a missing unit, what to write instead."""
    match = _PATTERN.match(text)
    if match is None:
        raise BudgetError(
            f"cannot read budget {text!r}: write STAT(METRIC)OP LIMIT, e.g. 'p95(e2e)<=1.5s', "
            "'p95(call_cost)<=$0.05' or 'error_rate<=2%' (STAT: pNN, max, min or mean; "
            "OP: <=, <, >=, >; LIMIT in s or ms, $, or %)"
        )
    name = (match["metric"] or match["bare"]).lower()
    metric = BUDGET_METRICS.get(name)
    if metric is None:
        meant = did_you_mean(name, BUDGET_METRICS, METRIC_SYNONYMS)
        known = f"known: {', '.join(BUDGET_METRICS)}"
        raise BudgetError(
            f"unknown metric {name!r} in {text!r}; " + (f"{meant} ({known})" if meant else known)
        )
    stat = _stat(text, match["stat"], metric)
    unit = "$" if match["dollar"] else (match["unit"] or "").lower()
    if match["dollar"] and match["unit"] and match["unit"] not in ("$", "usd"):
        raise BudgetError(f"{text!r} has two units")
    if not unit:
        raise BudgetError(_missing_unit(text, match, metric))
    if unit not in _UNITS[metric.unit]:
        raise BudgetError(f"{name} in {text!r} is {_KIND[metric.unit]}, not {unit}")
    limit = float(match["limit"]) * _SCALE[unit]
    return Budget(text.strip(), stat, name, match["op"], limit, metric.unit)


def _stat(text: str, stat: str | None, metric: Metric) -> str:
    if metric.unit == "%":
        if stat not in (None, "mean"):
            raise BudgetError(f"{metric.name} is a rate: write it alone, e.g. '{metric.name}<=2%'")
        return "mean"
    if stat is None:
        raise BudgetError(
            f"{text!r} needs a statistic, e.g. 'p95({metric.name})' or 'max({metric.name})'"
        )
    stat = stat.lower()
    if stat.startswith("p") and not 0 < float(stat[1:]) < 100:
        raise BudgetError(f"percentile out of range in {text!r}")
    return stat


def _missing_unit(text: str, match: re.Match[str], metric: Metric) -> str:
    """The error for a bare limit, with the expression the user probably meant."""
    head = text[: match.start("limit")].rstrip().rstrip("$").rstrip()
    value = float(match["limit"])
    if metric.unit == "s":
        # A large bare number is most likely milliseconds (every report shows ms).
        seconds = value / 1000 if value >= 50 else value
        options = [f"{head}{seconds:g}s", f"{head}{seconds * 1000:g}ms"]
        return (
            f"budget {text.strip()!r} has no unit (the limit would be read as {value:g} s): "
            f"write {options[0]!r} or {options[1]!r}"
        )
    if metric.unit == "$":
        return f"budget {text.strip()!r} has no unit: write {head + '$' + match['limit']!r}"
    percent = value * 100 if value <= 1 else value
    return f"budget {text.strip()!r} has no unit: write {f'{head}{percent:g}%'!r}"


def evaluate(budget: Budget, values: list[float]) -> BudgetResult:
    if not values:
        return BudgetResult(budget, None, 0)
    if budget.stat == "max":
        measured = float(max(values))
    elif budget.stat == "min":
        measured = float(min(values))
    elif budget.stat == "mean":
        import numpy as np  # here, not at the top: reading commands start without it

        measured = float(np.asarray(values, dtype=float).mean())  # numpy's pairwise sum
    else:
        measured = percentile_of(values, float(budget.stat[1:]))
    return BudgetResult(budget, measured, len(values))


def percentile_of(values: list[float], q: float) -> float:
    """``numpy.percentile(values, q)`` (its default, linear method) to the last bit, in plain
    Python: a ``check`` need not load numpy (a third of a second) to read one percentile."""
    data = sorted(float(v) for v in values)
    position = (len(data) - 1) * (q / 100.0)
    if position >= len(data) - 1:
        return data[-1]
    below = math.floor(position)
    return histograms.lerp(data[below], data[below + 1], position - below)


def shown_value(value: float | None, unit: str) -> str:
    """A measured value as reports print it: ms, dollars or a percentage."""
    if value is None:
        return "no data"
    if unit == "$":
        return "$" + unsigned_zero(f"{value:.4f}" if value >= 0.01 else f"{value:.5f}")
    if unit == "%":
        return unsigned_zero(f"{value * 100:.1f}") + "%"
    return unsigned_zero(f"{value * 1000:.0f}") + " ms"
