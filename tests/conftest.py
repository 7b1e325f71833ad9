"""Shared fixtures: simulated calls are expensive, so each one runs once per test session."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from turnscope import simulate

TEST_SPEED = 4.0
"""Simulated calls in tests run four times faster than real time (one test runs at 1x)."""


class SimulationCache:
    """Runs each distinct simulation once and hands the same result to every test."""

    def __init__(self) -> None:
        self._results: dict[tuple[Any, ...], simulate.SimulationResult] = {}

    def get(self, scenario: str, **options: Any) -> simulate.SimulationResult:
        options.setdefault("speed", TEST_SPEED)
        key = (scenario, *sorted(options.items()))
        if key not in self._results:
            self._results[key] = asyncio.run(simulate.run(scenario, **options))
        return self._results[key]


@pytest.fixture(scope="session")
def simulations() -> SimulationCache:
    return SimulationCache()
