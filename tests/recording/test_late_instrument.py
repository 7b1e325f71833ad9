"""instrument() called after session.start() (issue 18, item 7): one clear warning, the call
marked as joined late, and only turns that began after it recorded — each of them right."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import pytest

import turnscope
from tests.conftest import TEST_SPEED
from tests.recording.test_turns_match_truth import E2E_TOLERANCE
from turnscope import simulate
from turnscope.sinks.memory import MemorySink

if TYPE_CHECKING:
    from livekit.agents import AgentSession
    from livekit.agents.voice.events import EventTypes


async def _join(event: EventTypes, **options: Any) -> tuple[simulate.SimulationResult, MemorySink]:
    """The basic call, instrumented the first time the session emits ``event``."""
    sink = MemorySink()
    handles: list[turnscope.Instrumentation] = []

    def on_session(session: AgentSession[Any]) -> None:
        def join(payload: Any) -> None:
            if event == "user_state_changed" and payload.new_state != "speaking":
                return
            if not handles:
                handles.append(turnscope.instrument(session, sinks=[sink]))

        session.on(event, join)

    result = await simulate.run("basic", on_session=on_session, speed=TEST_SPEED, **options)
    await handles[0].aflush(timeout=10)
    return result, sink


def _check_turns_match_the_truth(result: simulate.SimulationResult, sink: MemorySink) -> None:
    truth = result.truth
    for turn in sink.turns:
        assert turn.source == "user"
        assert turn.outcome == "answered"
        assert turn.agent_text
        assert turn.agent_started_at is not None
        playback = truth.playback_starting_at(turn.agent_started_at)
        assert playback is not None
        assert turn.e2e == pytest.approx(truth.response_latency(playback), abs=E2E_TOLERANCE)
        assert [r.kind for r in turn.requests].count("llm") >= 1


def test_instrumenting_during_the_greeting_records_from_then_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        result, sink = asyncio.run(_join("speech_created"))
    late = [r for r in caplog.records if "after session.start()" in r.getMessage()]
    assert len(late) == 1
    (call,) = sink.calls
    assert call.joined_late
    # the greeting was under way when turnscope joined: left out, not recorded wrong
    assert [t.user_text for t in sink.turns] == result.scenario.transcripts
    _check_turns_match_the_truth(result, sink)
    assert call.started_at >= result.truth.session_started_at
    assert call.summary is not None
    assert call.summary.turns == 3


def test_instrumenting_while_the_caller_speaks_leaves_that_turn_out() -> None:
    result, sink = asyncio.run(_join("user_state_changed"))
    (call,) = sink.calls
    assert call.joined_late
    assert [t.user_text for t in sink.turns] == result.scenario.transcripts[1:]
    _check_turns_match_the_truth(result, sink)
    assert call.late_events > 0  # what belonged to the turn under way, counted


def test_instrumenting_before_start_is_not_late(simulations: Any) -> None:
    assert not simulations.recorded("basic").call.joined_late
