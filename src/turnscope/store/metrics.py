"""The metrics reports and budgets speak of, and where each one lives.

Turn metrics are columns of ``turns`` (one value per turn); request metrics come from
``components`` (one value per LLM, TTS or realtime-model request). ``METRICS`` are latencies
in seconds; ``RATES`` are a 0/1 value per turn whose mean is a share (error rate,
interruption rate). The store keeps a histogram of each (``turnscope.store.histograms``), so
the SQL here is the one definition both the histograms and the exact queries use.
"""

from __future__ import annotations

from dataclasses import dataclass

from turnscope.store.migrations import BREAKDOWN_COLUMNS

__all__ = ["ALL_METRICS", "COSTS", "HISTOGRAMS", "METRICS", "RATES", "Metric"]


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    table: str
    expression: str
    """SQL over the table's columns."""
    where: str = "1"
    unit: str = "s"
    """``s`` (seconds) or ``%`` (a 0/1 value per row; its mean is the rate)."""


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("e2e", "e2e (response latency)", "turns", "e2e"),
        *(
            Metric(c, c.replace("_", " "), "turns", c)
            for c in BREAKDOWN_COLUMNS
            if c != "preemptive_overlap"
        ),
        Metric(
            "preemptive_overlap",
            "preemptive overlap",
            "turns",
            "preemptive_overlap",
            "preemptive = 1",
        ),
        Metric("total_latency", "total latency (EOU+TTFT+TTFB)", "turns", "total_latency"),
        Metric("transcription_delay", "transcription delay", "turns", "transcription_delay"),
        Metric(
            "llm_ttft",
            "LLM time to first token",
            "components",
            "ttft",
            "kind = 'llm' AND discarded = 0",
        ),
        Metric(
            "llm_duration",
            "LLM request duration",
            "components",
            "duration",
            "kind = 'llm' AND discarded = 0",
        ),
        Metric(
            "tts_ttfb",
            "TTS time to first byte",
            "components",
            "ttfb",
            "kind = 'tts' AND discarded = 0",
        ),
        Metric(
            "tts_duration",
            "TTS request duration",
            "components",
            "duration",
            "kind = 'tts' AND discarded = 0",
        ),
        Metric(
            "realtime_ttft",
            "realtime time to first output",
            "components",
            "ttft",
            "kind = 'realtime'",
        ),
        Metric(
            "realtime_duration",
            "realtime response duration",
            "components",
            "duration",
            "kind = 'realtime'",
        ),
        Metric("tool_duration", "tool duration", "components", "duration", "kind = 'tool'"),
    )
}

RATES: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("error_rate", "turns with an error", "turns", "errors > 0", unit="%"),
        Metric(
            "interruption_rate",
            "replies interrupted",
            "turns",
            "interrupted",
            "agent_started_at IS NOT NULL",
            unit="%",
        ),
    )
}
"""Shares of turns, as 0/1 per turn: error rate over every turn, interruption rate over the
replies the user heard start (as ``CallSummary.interruption_rate``)."""

HISTOGRAMS: dict[str, Metric] = {**METRICS, **RATES}
"""Every metric the store keeps a histogram of."""

COSTS: dict[str, Metric] = {
    "call_cost": Metric("call_cost", "cost per call (USD)", "calls", "cost_usd", unit="$"),
}
"""Cost per call in USD, from the calls the pricing could price (an unpriced call has none)."""

ALL_METRICS: dict[str, Metric] = {**METRICS, **COSTS, **RATES}
"""Every metric by name: what budgets, ``compare`` and the queries accept."""
