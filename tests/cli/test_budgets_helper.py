"""The pytest helper users gate their CI with, on records and on stores."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from turnscope.report.budgets import BudgetError
from turnscope.testing import assert_budgets, check_budgets

if TYPE_CHECKING:
    from tests.conftest import SimulationCache


def test_budgets_over_simulated_turns(simulations: SimulationCache) -> None:
    turns = simulations.recorded("basic").turns
    e2e = sorted(t.e2e for t in turns if t.e2e is not None)
    results = assert_budgets(
        [f"max(e2e)<={e2e[-1] * 1000 + 1:.0f}ms", "p50(other)<30ms"], turns=turns
    )
    assert [r.count for r in results] == [3, 3]
    with pytest.raises(AssertionError, match=r"max\(e2e\)<=1ms: measured \d+ ms over 3 values"):
        assert_budgets(["max(e2e)<=1ms"], turns=turns)


def test_a_metric_without_data_fails_rather_than_passes(simulations: SimulationCache) -> None:
    turns = [t for t in simulations.recorded("basic").turns if t.source == "say"]
    (result,) = check_budgets(["p95(e2e)<=10s"], turns=turns)
    assert result.measured is None
    assert not result.passed


def test_malformed_budgets_raise(simulations: SimulationCache) -> None:
    with pytest.raises(BudgetError):
        check_budgets(["fast please"], turns=simulations.recorded("basic").turns)
