"""Simulated calls exported to a real OTLP/HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import os
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pytest

import turnscope
from tests.conftest import LoopStalls
from tests.otlp_receiver import OTLPReceiver, ReceivedSpan
from turnscope import simulate
from turnscope.instrument import default_sinks
from turnscope.sinks.memory import MemorySink

if TYPE_CHECKING:
    from collections.abc import Iterator

    from livekit.agents import AgentSession

    from tests.conftest import RecordedCall, SimulationCache

PUBLIC, SECRET = "pk-lf-test-public", "sk-lf-test-secret"
IDENTITY: dict[str, Any] = {
    "session_id": "room-42",
    "user_id": "caller@example.com",
    "trace_name": "Voice call",
    "tags": ["voice_agent", "test"],
    "metadata": {"room_name": "room-42", "deployment_env": "ci"},
    "prompt_name": "voice-agent",
    "prompt_version": 3,
}


@contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


@dataclass
class Exported:
    receiver: OTLPReceiver
    simulation: simulate.SimulationResult
    records: MemorySink
    handle: turnscope.Instrumentation
    flushed_in: float
    flushed: bool
    stalls: LoopStalls = field(default_factory=LoopStalls)
    """When the agent's loop stood still during the call (a busy machine): what a
    wall-clock measurement across that moment grew by."""

    def spans(self) -> list[ReceivedSpan]:
        return self.receiver.spans()


def export_call(
    receiver: OTLPReceiver,
    scenario: str = "basic",
    *,
    env: dict[str, str] | None = None,
    seed: int = 0,
    flush_timeout: float = 10.0,
    on_session: Any = None,
    extra_sinks: list[Any] | None = None,
    room: str | None = None,
) -> Exported:
    """Run a simulated call with turnscope configured from the environment for Langfuse at
    the receiver, plus an in-memory copy of the records."""
    settings = _langfuse_at(receiver, env)
    records = MemorySink()
    handles: list[turnscope.Instrumentation] = []

    stalls = LoopStalls()
    watching: list[asyncio.Task[None]] = []

    def attach(session: AgentSession[Any]) -> None:
        if on_session is not None:
            on_session(session)
        sinks = [*default_sinks(), records, *(extra_sinks or [])]
        handles.append(turnscope.instrument(session, sinks=sinks, **IDENTITY))
        watching.append(asyncio.get_running_loop().create_task(stalls.watch()))

    async def scenario_run() -> tuple[simulate.SimulationResult, float, bool]:
        try:
            result = await simulate.run(scenario, speed=4, seed=seed, on_session=attach, room=room)
        finally:
            for task in watching:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        loop = asyncio.get_running_loop()
        started = loop.time()
        flushed = await handles[0].aflush(timeout=flush_timeout)
        return result, loop.time() - started, flushed

    with environment(**settings):
        simulation, took, flushed = asyncio.run(scenario_run())
    return Exported(receiver, simulation, records, handles[0], took, flushed, stalls)


def _langfuse_at(receiver: OTLPReceiver, env: dict[str, str] | None) -> dict[str, str]:
    """The environment of an agent exporting to Langfuse at ``receiver``, store off."""
    return {
        "LANGFUSE_PUBLIC_KEY": PUBLIC,
        "LANGFUSE_SECRET_KEY": SECRET,
        "LANGFUSE_BASE_URL": receiver.url,
        "TURNSCOPE_DB": "off",
        **(env or {}),
    }


def replay_call(
    receiver: OTLPReceiver,
    recorded: RecordedCall,
    *,
    env: dict[str, str] | None = None,
    flush_timeout: float = 10.0,
    extra_sinks: list[Any] | None = None,
) -> Exported:
    """What ``export_call`` does, with the records of a call the session already simulated
    handed to the sinks as the recorder hands them over (each turn, then the call; each one
    delivered before the next comes, as in a live call, where turns are seconds apart): for
    a test of the set-up and the backend, which never reach into the live session, this costs
    a few milliseconds instead of a whole call. Configured from the same environment, with
    the same sinks (``default_sinks()``), pipeline, pricing and identity."""
    from livekit.agents import AgentSession

    from turnscope.sinks.pipeline import pipeline

    settings = _langfuse_at(receiver, env)
    records = MemorySink()

    async def replay() -> tuple[turnscope.Instrumentation, float, bool]:
        sinks = [*default_sinks(), records, *(extra_sinks or [])]
        handle = turnscope.instrument(AgentSession(), sinks=sinks, **IDENTITY)
        call_id = handle.context.call_id
        for turn in recorded.turns:
            handle._emit_turn(replace(turn, call_id=call_id))
            assert pipeline().drain(10)
        handle._emit_call(replace(recorded.call, call_id=call_id))
        loop = asyncio.get_running_loop()
        started = loop.time()
        flushed = await handle.aflush(timeout=flush_timeout)
        took = loop.time() - started
        handle.detach()  # the call is over: a later test's update() must not reach it
        return handle, took, flushed

    with environment(**settings):
        handle, took, flushed = asyncio.run(replay())
    return Exported(receiver, recorded.simulation, records, handle, took, flushed, recorded.stalls)


def export_each(simulations: SimulationCache, *scenarios: str) -> dict[str, list[ReceivedSpan]]:
    """The spans of each scenario's call (the session's simulation of it, replayed into the
    sinks: ``replay_call``), each exported to the receiver on its own."""
    receiver = OTLPReceiver().start()
    spans = {}
    try:
        for name in scenarios:
            receiver.requests.clear()
            replay_call(receiver, simulations.recorded(name))
            spans[name] = receiver.spans()
    finally:
        receiver.stop()
    return spans


@pytest.fixture(scope="session")
def langfuse_call() -> Iterator[Exported]:
    receiver = OTLPReceiver().start()
    yield export_call(receiver)
    receiver.stop()


@pytest.fixture(scope="session")
def call_mode_call(simulations: SimulationCache) -> Iterator[Exported]:
    """The same call as ``langfuse_call``'s scenario, replayed with one trace per call."""
    receiver = OTLPReceiver().start()
    yield replay_call(receiver, simulations.recorded("basic"), env={"TURNSCOPE_TRACE_PER": "call"})
    receiver.stop()


@pytest.fixture(autouse=True)
def fresh_failure_notes() -> None:
    """Failure lines are once per process; each test starts as a new process would."""
    from turnscope.export import exporters

    exporters._explained.clear()
    return


def close_meter_providers() -> None:
    """Shut down the process's shared meter providers while their receiver still answers,
    so none exports once more at interpreter exit to a receiver already gone."""
    from turnscope.export import metrics

    with metrics._lock:
        providers = list(metrics._shared.values())
        metrics._shared.clear()
    for provider in providers:
        shutdown = getattr(provider, "shutdown", None)
        if callable(shutdown):
            shutdown()
