"""Attaching to a session: quiet, idempotent, undoable, and never hurting the agent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
from livekit.agents import AgentSession

import turnscope
from tests.conftest import QUICK_SPEED, livekit_has
from turnscope import events
from turnscope.livekit.adapter import LiveKitAdapter
from turnscope.sinks.memory import MemorySink

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


DEPRECATION = "metrics_collected is deprecated"


def _notices(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(DEPRECATION)]


def test_our_registration_is_silent_while_a_users_still_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        session: AgentSession[None] = AgentSession()
        with caplog.at_level(logging.WARNING, logger="livekit.agents"):
            turnscope.instrument(session)
            ours = _notices(caplog)
            session.on("metrics_collected", lambda _: None)
            theirs = _notices(caplog)
        assert ours == []
        assert len(theirs) == 1

    asyncio.run(scenario())


def test_instrumenting_twice_returns_the_same_handle_and_records_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = MemorySink()

    handles: list[turnscope.Instrumentation] = []

    def attach_twice(session: AgentSession[Any]) -> None:
        first = turnscope.instrument(session, sinks=[sink])
        assert turnscope.instrument(session, sinks=[MemorySink()]) is first
        handles.append(first)

    from turnscope import simulate

    async def scenario() -> None:
        await simulate.run("tool_with_preamble", speed=QUICK_SPEED, on_session=attach_twice)
        await handles[0].aflush(timeout=10)

    asyncio.run(scenario())
    assert [t.index for t in sink.turns] == [1, 2]
    assert len(sink.calls) == 1


def test_detach_stops_recording() -> None:
    sink = MemorySink()
    handles: list[turnscope.Instrumentation] = []

    def attach_then_detach(session: AgentSession[Any]) -> None:
        handle = turnscope.instrument(session, sinks=[sink])
        handles.append(handle)
        handle.detach()

    from turnscope import simulate

    call = simulate.run("tool_with_preamble", speed=QUICK_SPEED, on_session=attach_then_detach)
    asyncio.run(call)
    assert sink.turns == []
    assert sink.calls == []
    assert handles[0].internal_errors == []


def test_a_handler_that_fails_never_raises_into_livekit() -> None:
    caught: list[BaseException] = []

    async def scenario() -> None:
        session: AgentSession[None] = AgentSession()

        def broken(_: events.Event) -> None:
            raise TypeError("a bug in turnscope")  # TypeError would propagate out of emit()

        LiveKitAdapter(session, broken, on_internal_error=caught.append).attach()
        from livekit.agents.voice.events import AgentStateChangedEvent

        session.emit(
            "agent_state_changed",
            AgentStateChangedEvent(old_state="initializing", new_state="listening"),
        )

    asyncio.run(scenario())
    assert [type(e) for e in caught] == [TypeError]


def test_update_changes_the_call_identity_for_sinks() -> None:
    sink = MemorySink()

    async def scenario() -> None:
        session: AgentSession[None] = AgentSession()
        handle = turnscope.instrument(
            session, session_id="room-1", tags=["a"], metadata={"env": "test"}, sinks=[sink]
        )
        handle.update(user_id="caller@example.com", metadata={"plan": "gold"})
        await handle.aflush(timeout=5)

    asyncio.run(scenario())
    first, updated = sink.contexts
    assert first.session_id == updated.session_id == "room-1"
    assert first.user_id is None
    assert updated.user_id == "caller@example.com"
    assert dict(updated.metadata) == {"env": "test", "plan": "gold"}
    assert updated.tags == ("a",)


def test_aflush_returns_within_its_timeout_against_a_hanging_sink() -> None:
    class Hanging(MemorySink):
        def flush(self, timeout: float) -> bool:
            import time

            time.sleep(timeout + 1)
            return True

    async def scenario() -> float:
        session: AgentSession[None] = AgentSession()
        handle = turnscope.instrument(session, sinks=[Hanging()])
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await handle.aflush(timeout=0.2) is False
        return loop.time() - started

    took = asyncio.run(scenario())
    assert took < 1.0


def test_inside_a_job_the_call_id_is_the_job_id_and_shutdown_flushes() -> None:
    import gc
    import warnings

    fake_job_context = _minimal_job_context
    if livekit_has("testing_fake_job_context"):
        from livekit.agents.testing import fake_job_context

    flushed: list[float] = []

    class Counting(MemorySink):
        def flush(self, timeout: float) -> bool:
            flushed.append(timeout)
            return True

    async def scenario() -> tuple[str, str]:
        with fake_job_context() as job:
            session: AgentSession[None] = AgentSession()
            handle = turnscope.instrument(session, sinks=[Counting()])
            for callback in job._shutdown_callbacks:
                await callback("job ended")
            return handle.context.call_id, job.job.id

    with warnings.catch_warnings():
        # LiveKit's fake job context leaves a temporary folder to the garbage collector
        warnings.simplefilter("ignore", ResourceWarning)
        call_id, job_id = asyncio.run(scenario())
        gc.collect()
    assert call_id == job_id
    assert len(flushed) == 1
    assert 4.0 < flushed[0] <= 5.0  # the shutdown flush has 5 s, less what draining took


def test_a_failing_part_of_the_set_up_is_left_out_once_and_the_rest_runs(
    tmp_path: Path,
    private_store: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An EMF file that cannot be opened: no EMF, one line with our frames only, the store
    still records. (Under the test suite the same error would fail the test: that guard is
    turned off here to see what an agent sees.)"""
    from turnscope import guard, simulate
    from turnscope.store import open_for_reading

    monkeypatch.setattr(guard, "_strict", False)
    monkeypatch.setenv("TURNSCOPE_EMF", str(tmp_path / "missing-folder" / "emf.log"))
    handles: list[turnscope.Instrumentation] = []

    async def scenario() -> None:
        def attach(session: AgentSession[Any]) -> None:
            handles.append(turnscope.instrument(session))
            handles.append(turnscope.instrument(AgentSession()))  # a second session: no new line

        await simulate.run("tool_with_preamble", speed=QUICK_SPEED, on_session=attach)
        assert await handles[0].aflush(timeout=10)

    with caplog.at_level(logging.WARNING, logger="turnscope"):
        asyncio.run(scenario())
    lines = [r.getMessage() for r in caplog.records if "internal error" in r.getMessage()]
    assert len(lines) == 1, lines
    assert "setting up CloudWatch EMF (FileNotFoundError" in lines[0]
    frames = [line for line in lines[0].splitlines() if line.lstrip().startswith("File ")]
    assert frames
    assert all("/turnscope/" in line for line in frames)  # trimmed to turnscope's frames
    turns = open_for_reading(private_store).execute("SELECT COUNT(*) FROM turns").fetchone()
    assert turns[0] == 2


def test_under_the_test_suite_a_set_up_error_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from turnscope import guard

    monkeypatch.setenv("TURNSCOPE_EMF", str(tmp_path / "missing-folder" / "emf.log"))

    async def scenario() -> None:
        turnscope.instrument(AgentSession())

    with pytest.raises(FileNotFoundError):
        asyncio.run(scenario())
    assert [type(e) for e in guard.caught] == [FileNotFoundError]
    guard.caught.clear()  # seen: this test is about exactly that error


def test_bad_emf_dimensions_do_not_raise_into_the_entrypoint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from turnscope.export.emf import EMFSink

    monkeypatch.setenv("TURNSCOPE_EMF", "stdout")
    monkeypatch.setenv("TURNSCOPE_EMF_DIMENSIONS", "Agent,CallId")

    async def scenario() -> turnscope.Instrumentation:
        return turnscope.instrument(AgentSession())

    handle = asyncio.run(scenario())
    (emf,) = [s for s in handle._sinks if isinstance(s, EMFSink)]
    assert emf.dimensions == ("Agent",)


def test_a_tracer_provider_from_the_api_alone_flushes() -> None:
    """The no-op provider has no force_flush: delivering to it is all a flush can do."""
    from opentelemetry.trace import NoOpTracerProvider

    async def scenario() -> bool:
        handle = turnscope.instrument(AgentSession(), tracer_provider=NoOpTracerProvider())
        return await handle.aflush(timeout=5)

    assert asyncio.run(scenario()) is True


def test_instrumenting_again_with_other_arguments_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        session: AgentSession[None] = AgentSession()
        first = turnscope.instrument(session, session_id="room-1", sinks=[])
        assert turnscope.instrument(session, session_id="room-1", sinks=[]) is first  # same
        assert turnscope.instrument(session, session_id="room-2", sinks=[]) is first
        assert turnscope.instrument(session, session_id="room-3", sinks=[]) is first

    with caplog.at_level(logging.WARNING, logger="turnscope"):
        asyncio.run(scenario())
    lines = [r.getMessage() for r in caplog.records if r.name == "turnscope"]
    assert len(lines) == 1
    assert "instrument() was called again on the same session" in lines[0]
    assert "(session_id)" in lines[0]


def test_tracers_and_meters_carry_turnscopes_version(simulations: Any) -> None:
    from importlib.metadata import version

    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from turnscope.export.metrics import MetricsSink
    from turnscope.export.spans import SpanSink

    spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
    tracers = TracerProvider()
    tracers.add_span_processor(SimpleSpanProcessor(spans))
    span_sink = SpanSink(tracers)
    metrics_sink = MetricsSink(MeterProvider(metric_readers=[reader]))
    recorded = simulations.recorded("basic")
    span_sink.start_call(recorded.handle.context)
    for sink in (span_sink, metrics_sink):
        sink.on_turn(recorded.turns[0])
    assert span_sink.flush(5)
    ours = version("turnscope")
    scopes = {s.instrumentation_scope for s in spans.get_finished_spans()}
    assert {scope.version if scope else None for scope in scopes} == {ours}
    data = reader.get_metrics_data()
    assert data is not None
    versions = {m.scope.version for r in data.resource_metrics for m in r.scope_metrics}
    assert versions == {ours}


@contextlib.contextmanager
def _minimal_job_context() -> Iterator[Any]:
    """What turnscope reads of a job (its id, its shutdown callbacks), installed as LiveKit's
    current job context: livekit-agents < 1.6.0 has no ``livekit.agents.testing``."""
    from livekit.agents.job import _JobContextVar

    callbacks: list[Any] = []
    job = SimpleNamespace(
        job=SimpleNamespace(id="fake-job"),
        _shutdown_callbacks=callbacks,
        add_shutdown_callback=callbacks.append,
    )
    token = _JobContextVar.set(job)  # type: ignore[arg-type]  # the parts turnscope reads
    try:
        yield job
    finally:
        _JobContextVar.reset(token)
