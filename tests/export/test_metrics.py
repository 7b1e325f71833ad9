"""OpenTelemetry metrics and CloudWatch EMF, against a simulated call's truth and the store."""

from __future__ import annotations

import asyncio
import io
import json
from typing import TYPE_CHECKING, Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

import turnscope
from tests.conftest import LoopStalls, store_call
from tests.export.conftest import close_meter_providers, replay_call
from tests.otlp_receiver import OTLPReceiver
from turnscope import simulate
from turnscope.export.emf import DIMENSIONS, EMFSink
from turnscope.sinks.memory import MemorySink
from turnscope.store import open_for_reading

if TYPE_CHECKING:
    from pathlib import Path

    from livekit.agents import AgentSession

    from tests.conftest import SimulationCache


def _points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    data = reader.get_metrics_data()
    assert data is not None
    found: dict[str, list[Any]] = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found


STALLS = LoopStalls()
"""When the metered call's loop stood still (a busy machine): LiveKit's TTFT is wall time."""


@pytest.fixture(scope="module")
def metered() -> tuple[InMemoryMetricReader, simulate.SimulationResult, MemorySink]:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    records = MemorySink()
    handles: list[turnscope.Instrumentation] = []
    watching: list[asyncio.Task[None]] = []

    def attach(session: AgentSession[Any]) -> None:
        handles.append(turnscope.instrument(session, meter_provider=provider, sinks=None))
        handles[0]._sinks.append(records)
        watching.append(asyncio.get_running_loop().create_task(STALLS.watch()))

    async def run() -> simulate.SimulationResult:
        result = await simulate.run("basic", speed=4, on_session=attach)
        watching[0].cancel()
        await handles[0].aflush(timeout=10)
        return result

    return reader, asyncio.run(run()), records


def test_latency_histograms_match_the_truth(
    metered: tuple[InMemoryMetricReader, simulate.SimulationResult, MemorySink],
) -> None:
    reader, simulation, records = metered
    points = _points(reader)
    (e2e,) = points["voice.e2e"]
    truth = [
        simulation.truth.response_latency(p)
        for p in simulation.truth.playbacks
        if simulation.truth.answered_utterance(p) is not None
    ]
    assert e2e.count == len(truth) == 3
    assert e2e.sum == pytest.approx(sum(t for t in truth if t is not None), abs=0.015)
    assert list(e2e.explicit_bounds)[:3] == [0.05, 0.1, 0.2]
    parts = {p.attributes["voice.part"]: p for p in points["voice.breakdown"]}
    assert parts["endpointing"].count == 3
    assert parts["other"].sum == pytest.approx(
        sum(t.breakdown.other for t in records.turns if t.breakdown)
    )
    (ttft,) = points["voice.llm.ttft"]
    assert ttft.count == len(simulation.truth.llm_requests)
    assert ttft.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    stalled = sum(late for _, late in STALLS.late)  # none on a quiet machine
    assert ttft.sum == pytest.approx(
        sum(r.injected_ttft for r in simulation.truth.llm_requests), abs=0.05 + stalled
    )
    (ttfb,) = points["voice.tts.ttfb"]
    assert ttfb.count == len(simulation.truth.tts_requests)


def test_counters_match_the_records(
    metered: tuple[InMemoryMetricReader, simulate.SimulationResult, MemorySink],
) -> None:
    reader, _, records = metered
    points = _points(reader)
    tokens = {p.attributes["voice.token_type"]: p.value for p in points["voice.llm.tokens"]}
    llm = [r for t in records.turns for r in t.requests if r.kind == "llm"]
    assert tokens["output"] == sum(r.completion_tokens for r in llm)
    assert sum(tokens.values()) == sum(r.prompt_tokens + r.completion_tokens for r in llm)
    (chars,) = points["voice.tts.characters"]
    assert chars.value == sum(
        r.characters for t in records.turns for r in t.requests if r.kind == "tts"
    )
    cost = sum(p.value for p in points["voice.cost"])
    (call,) = records.calls
    assert call.cost is not None
    assert cost == pytest.approx(call.cost.total)
    turns = {p.attributes["voice.outcome"]: p.value for p in points["voice.turns"]}
    assert turns == {"answered": 4}
    assert all("session.id" not in p.attributes for values in points.values() for p in values)


def test_metrics_reach_a_configured_otlp_endpoint(simulations: SimulationCache) -> None:
    collector = OTLPReceiver().start()
    try:
        replay_call(
            collector,
            simulations.recorded("tool_with_preamble"),
            env={"LANGFUSE_PUBLIC_KEY": "", "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url},
        )
    finally:
        close_meter_providers()  # its last export while the collector still answers
        collector.stop()
    names = {
        metric.name
        for request in collector.metrics
        for resource in request.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    assert {"voice.e2e", "voice.llm.ttft", "voice.tts.ttfb", "voice.turns"} <= names


def _check_emf(line: dict[str, Any]) -> None:
    """The EMF specification's required structure."""
    aws = line["_aws"]
    assert isinstance(aws["Timestamp"], int)
    assert aws["Timestamp"] > 1_600_000_000_000
    (directive,) = aws["CloudWatchMetrics"]
    assert isinstance(directive["Namespace"], str)
    assert 1 <= len(directive["Namespace"]) <= 255
    for dimension_set in directive["Dimensions"]:
        assert 1 <= len(dimension_set) <= 30
        for key in dimension_set:
            assert isinstance(line[key], str)  # every dimension is a top-level string member
    assert 1 <= len(directive["Metrics"]) <= 100
    for metric in directive["Metrics"]:
        assert isinstance(line[metric["Name"]], (int, float))  # and its value is a number
        assert metric["Unit"] in ("Seconds", "Count", "None")


def test_emf_lines_follow_the_spec_and_agree_with_the_store(
    tmp_path: Path, simulations: SimulationCache
) -> None:
    recorded = simulations.recorded("basic")
    stream = io.StringIO()
    sink = EMFSink(stream, namespace="Acme/Voice", dimensions=("Agent", "Environment"))
    sink.start_call(recorded.handle.context)
    for turn in recorded.turns:
        sink.on_turn(turn)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == len(recorded.turns)
    for line in lines:
        _check_emf(line)
        assert line["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Agent", "Environment"]]
        assert "SessionId" in line
        assert "SessionId" not in line["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]
    path = tmp_path / "s.db"
    store_call(path, recorded)
    stored = dict(open_for_reading(path).execute("SELECT turn, e2e FROM turns").fetchall())
    for line in lines:
        if "E2ELatency" in line:
            assert line["E2ELatency"] == stored[line["TurnIndex"]]
    with pytest.raises(ValueError, match="must be among"):
        EMFSink(io.StringIO(), dimensions=("SessionId",))
    assert "SessionId" not in DIMENSIONS
