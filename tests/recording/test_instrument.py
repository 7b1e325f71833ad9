"""Attaching to a session: quiet, idempotent, undoable, and never hurting the agent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from livekit.agents import AgentSession

import turnscope
from tests.conftest import livekit_has
from turnscope import events
from turnscope.livekit.adapter import LiveKitAdapter
from turnscope.sinks.memory import MemorySink

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pytest


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
        await simulate.run("tool_with_preamble", speed=4, on_session=attach_twice)
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

    asyncio.run(simulate.run("tool_with_preamble", speed=4, on_session=attach_then_detach))
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
