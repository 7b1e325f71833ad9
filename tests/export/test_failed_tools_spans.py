"""A failed tool call as Langfuse receives it: its error once, on its tool span (not again on
the turn), counted in the summary's errors; the first greeting only when the agent spoke
first (newcomer6, findings 1 and 5)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from tests.export.conftest import replay_call
from tests.failed_tools import mixed_tools
from tests.otlp_receiver import OTLPReceiver
from turnscope.export.metrics import MetricsSink

if TYPE_CHECKING:
    from tests.conftest import RecordedCall, SimulationCache
    from tests.otlp_receiver import ReceivedSpan

LEVEL = "langfuse.observation.level"


@pytest.fixture(scope="module")
def exported(simulations: SimulationCache) -> dict[str, list[ReceivedSpan]]:
    calls = {
        "bad_tool_calls": simulations.recorded("bad_tool_calls"),
        "mixed_tools": mixed_tools(),
    }
    receiver = OTLPReceiver().start()
    spans = {}
    try:
        for name, recorded in calls.items():
            receiver.requests.clear()
            replay_call(receiver, recorded)
            spans[name] = receiver.spans()
    finally:
        receiver.stop()
    return spans


def _summary(spans: list[ReceivedSpan]) -> dict[str, object]:
    (span,) = [s for s in spans if s.name == "call summary"]
    return span.attributes


def test_each_failed_tool_is_flagged_once_on_its_tool_span(
    exported: dict[str, list[ReceivedSpan]],
) -> None:
    spans = exported["bad_tool_calls"]
    flagged = sorted(s.name for s in spans if s.attributes.get(LEVEL) in ("ERROR", "WARNING"))
    assert flagged == ["tool get_weather", "tool get_wether"]  # not the turns as well
    for span in (s for s in spans if s.name.startswith("tool ")):
        assert span.attributes[LEVEL] == "ERROR"
        assert span.status_code == 2
        assert span.attributes["voice.error.component"] == "tool"
        assert span.attributes["voice.error.recoverable"] is True
        assert span.attributes["error.type"] == span.name.removeprefix("tool ")
    (unknown,) = [s for s in spans if s.name == "tool get_wether"]
    assert "Unknown function: get_wether" in unknown.attributes["voice.error.message"]
    summary = _summary(spans)
    assert summary["voice.call.errors.tool"] == 2
    assert summary["voice.call.unrecoverable_errors"] == 0
    assert "voice.call.time_to_first_greeting" not in summary  # the caller spoke first


def test_the_tool_that_worked_stays_unflagged_and_the_greeting_is_timed(
    exported: dict[str, list[ReceivedSpan]],
) -> None:
    spans = exported["mixed_tools"]
    levels = {s.name: s.attributes.get(LEVEL) for s in spans if s.name.startswith("tool ")}
    assert levels == {"tool get_weather": None, "tool get_forecst": "ERROR"}
    assert not [s for s in spans if s.name.startswith("turn ") and s.attributes.get(LEVEL)]
    summary = _summary(spans)
    assert summary["voice.call.errors.tool"] == 1
    greeting = summary["voice.call.time_to_first_greeting"]
    assert isinstance(greeting, float)
    assert 0 < greeting < 1.0


def _tool_errors_counted(recorded: RecordedCall) -> dict[tuple[str, bool], int]:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    sink = MetricsSink(provider)
    for turn in recorded.turns:
        sink.on_turn(turn)
    sink.on_call(recorded.call)
    data = reader.get_metrics_data()
    provider.shutdown()
    assert data is not None
    points: list[Any] = [
        p
        for r in data.resource_metrics
        for s in r.scope_metrics
        for m in s.metrics
        if m.name == "voice.errors"
        for p in m.data.data_points
    ]
    return {
        (p.attributes["voice.component"], p.attributes["voice.recoverable"]): p.value
        for p in points
    }


def test_voice_errors_counts_each_failed_tool_once(simulations: SimulationCache) -> None:
    assert _tool_errors_counted(simulations.recorded("bad_tool_calls")) == {("tool", True): 2}
    assert _tool_errors_counted(mixed_tools()) == {("tool", True): 1}


def test_with_capture_off_a_failed_tools_output_stays_out(simulations: SimulationCache) -> None:
    """A failed tool's message is its output (it may hold the caller's words, e.g. the
    arguments it could not parse): with content capture off it is not sent, as the tool's
    own output is not; the error itself still is."""
    receiver = OTLPReceiver().start()
    try:
        replay_call(
            receiver,
            simulations.recorded("bad_tool_calls"),
            env={"TURNSCOPE_CAPTURE_CONTENT": "false"},
        )
        spans = receiver.spans()
    finally:
        receiver.stop()
    tools = [s for s in spans if s.name.startswith("tool ")]
    assert len(tools) == 2
    for span in tools:
        assert span.attributes[LEVEL] == "ERROR"
        assert span.attributes["voice.error.message"] == "(not captured: content capture is off)"
        said = " ".join(str(v) for v in span.attributes.values())
        assert "Unknown function" not in said
        assert "parsing arguments" not in said
