"""The metrics reports and budgets speak of: defined beside the store, which keeps their
histograms (``turnscope.store.metrics``); re-exported here where reports read them."""

from __future__ import annotations

from turnscope.store.metrics import ALL_METRICS, COSTS, METRICS, RATES, Metric

__all__ = ["ALL_METRICS", "COSTS", "METRICS", "RATES", "Metric"]
