"""The latency metrics reports and budgets speak of, and where each one lives.

Turn metrics are columns of ``turns`` (one value per turn); request metrics come from
``components`` (one value per LLM, TTS or realtime-model request). All are seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from turnscope.store.migrations import BREAKDOWN_COLUMNS

__all__ = ["METRICS", "Metric"]


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    table: str
    expression: str
    """SQL over the table's columns."""
    where: str = "1"


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
