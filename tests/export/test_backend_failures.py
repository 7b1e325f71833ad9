"""A backend that refuses, fails or hangs never hurts the agent or the records.

The hanging backend is tried on a live call (it is the one that could stall the agent's loop);
the refusing ones get a simulated call's records replayed into the sinks (what they refuse is
sent from the sinks' threads, whatever made the records)."""

from __future__ import annotations

import logging
import socket
import sys
import threading
from typing import TYPE_CHECKING, Any

import pytest

from tests.export.conftest import export_call, replay_call
from tests.otlp_receiver import OTLPReceiver

if TYPE_CHECKING:
    from tests.conftest import RecordedCall, SimulationCache
    from turnscope.records import Turn

SCENARIO = "tool_with_preamble"
SEED = 3
FLUSH_TIMEOUT = 2.0


def shape(turns: list[Turn]) -> list[tuple[Any, ...]]:
    """What a turn record says, apart from timings that vary between runs."""
    return [
        (
            t.index,
            t.source,
            t.outcome,
            t.user_text,
            t.agent_text,
            sorted(r.kind for r in t.requests),
            [tool.name for tool in t.tools],
            t.e2e is not None,
        )
        for t in turns
    ]


@pytest.fixture
def healthy(simulations: SimulationCache) -> RecordedCall:
    """The same call recorded with no backend at all."""
    return simulations.recorded(SCENARIO, seed=SEED)


@pytest.mark.parametrize(
    ("status", "hint"), [(401, "LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY"), (500, "HTTP 500")]
)
def test_a_refusing_backend_leaves_records_intact_and_says_so_once_per_export(
    healthy: RecordedCall, status: int, hint: str, caplog: pytest.LogCaptureFixture
) -> None:
    """One line for the traces and one for the scores, each naming its export and the URL it
    really used — never a line per batch."""
    receiver = OTLPReceiver(status=status).start()
    try:
        with caplog.at_level(logging.WARNING):
            failing = replay_call(receiver, healthy)
    finally:
        receiver.stop()
    assert shape(failing.records.turns) == shape(healthy.turns)  # every sink still got them
    assert receiver.requests  # it really was asked
    # (an earlier test's poster may still retry its own stopped receiver: only this backend's)
    ours = sorted(
        r.getMessage()
        for r in caplog.records
        if r.name == "turnscope" and receiver.url in r.getMessage()
    )
    assert [line.split(" export to ")[0] for line in ours] == [
        "turnscope: Langfuse scores",
        "turnscope: Langfuse traces",
    ], ours
    assert f"{receiver.url}/api/public/ingestion failed" in ours[0]
    assert f"{receiver.url}/api/public/otel/v1/traces failed" in ours[1]
    assert all(str(status) in line and hint in line for line in ours)
    assert not [r for r in caplog.records if r.name.startswith("opentelemetry")]
    assert "sk-lf-test-secret" not in caplog.text


def test_a_hanging_backend_costs_the_agent_nothing(
    healthy: RecordedCall, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_thread = threading.get_ident()
    on_loop: list[str] = []
    originals = {name: getattr(socket.socket, name) for name in ("connect", "sendall", "send")}

    def watched(name: str) -> Any:
        original = originals[name]

        def call(self: socket.socket, *args: Any, **kwargs: Any) -> Any:
            if (
                self.family in (socket.AF_INET, socket.AF_INET6)
                and threading.get_ident() == loop_thread
            ):
                on_loop.append(name)
            return original(self, *args, **kwargs)

        return call

    for name in originals:
        monkeypatch.setattr(socket.socket, name, watched(name))
    receiver = OTLPReceiver(hang=threading.Event()).start()
    try:
        hung = export_call(receiver, SCENARIO, seed=SEED, flush_timeout=FLUSH_TIMEOUT)
    finally:
        receiver.stop()
    assert shape(hung.records.turns) == shape(healthy.turns)
    assert receiver.requests
    assert hung.flushed is False
    assert hung.flushed_in < FLUSH_TIMEOUT + 0.5
    assert on_loop == []


def test_content_capture_off_sends_no_words(caplog: pytest.LogCaptureFixture) -> None:
    receiver = OTLPReceiver().start()
    try:
        exported = export_call(receiver, SCENARIO, env={"TURNSCOPE_CAPTURE_CONTENT": "false"})
    finally:
        receiver.stop()
    spans = exported.spans()
    assert any(s.name == "tool get_weather" for s in spans)
    words = [t.user_text for t in exported.records.turns if t.user_text] + [
        t.agent_text for t in exported.records.turns if t.agent_text
    ]
    for span in spans:
        for key in (
            "langfuse.observation.input",
            "langfuse.observation.output",
            "gen_ai.tool.call.arguments",
            "gen_ai.tool.call.result",
        ):
            assert key not in span.attributes, (span.name, key)
        text = repr(span.attributes)
        assert not any(w in text for w in words)
        assert "Tokyo" not in text  # the tool's argument and its result name the city


def test_livekit_tracing_and_ours_never_mix(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from livekit.agents import telemetry
    from livekit.agents.telemetry import traces
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    livekit_spans = InMemorySpanExporter()
    livekit_provider = TracerProvider()
    livekit_provider.add_span_processor(SimpleSpanProcessor(livekit_spans))
    monkeypatch.setattr(sys.modules["turnscope.instrument"], "_noted_livekit_tracing", False)
    original = traces.tracer._tracer_provider
    receiver = OTLPReceiver().start()
    try:
        telemetry.set_tracer_provider(livekit_provider)
        with caplog.at_level(logging.WARNING, logger="turnscope"):
            exported = export_call(receiver, SCENARIO, seed=SEED)
    finally:
        traces.tracer.set_provider(original)  # LiveKit's tracing off again for the other tests
        receiver.stop()
    ours = exported.spans()
    theirs = livekit_spans.get_finished_spans()
    assert ours
    assert theirs
    assert {s.scope for s in ours} == {"turnscope"}
    assert all(
        s.instrumentation_scope is None or s.instrumentation_scope.name != "turnscope"
        for s in theirs
    )
    assert {s.name for s in theirs} >= {"agent_session", "agent_turn"}
    assert not any(s.name.startswith("turn ") for s in theirs)
    notes = [r.getMessage() for r in caplog.records if "built-in tracing" in r.getMessage()]
    assert len(notes) == 1
