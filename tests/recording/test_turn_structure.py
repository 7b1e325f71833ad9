"""Turns that match what the caller heard (issue 18): the reply that answered, a reply that
never played, tool calls LiveKit could not run, and the waits the breakdown names. Each is a
real AgentSession (turnscope.simulate) checked against the simulation's own truth."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.conftest import livekit_has
from tests.recording.test_turns_match_truth import E2E_TOLERANCE, OTHER_LIMIT, stalled_in
from turnscope.simulate.agent import BOOKING_REFERENCE
from turnscope.simulate.tts import RETRY_TIMEOUT

if TYPE_CHECKING:
    from tests.conftest import RecordedCall, SimulationCache
    from turnscope import Turn


@pytest.fixture(scope="module")
def tool_speaks(simulations: SimulationCache) -> RecordedCall:
    return simulations.recorded("tool_speaks")


@pytest.fixture(scope="module")
def slow_callback(simulations: SimulationCache) -> RecordedCall:
    return simulations.recorded("slow_callback")


@pytest.fixture(scope="module")
def bad_tool_calls(simulations: SimulationCache) -> RecordedCall:
    return simulations.recorded("bad_tool_calls")


def _by_speech(turns: list[Turn], speech_id: str | None) -> Turn:
    (turn,) = [t for t in turns if t.speech_id == speech_id]
    return turn


# -- 1. the answer comes from another speech ---------------------------------------------


def test_a_tool_that_speaks_answers_the_users_turn(tool_speaks: RecordedCall) -> None:
    turns = tool_speaks.turns
    asked = [t for t in turns if t.source == "user"]
    answers = [_by_speech(turns, t.answered_by) for t in asked]
    # say() from a tool, generate_reply() from a tool, a new agent's greeting after a handoff
    assert [(a.source, a.agent_text) for a in answers] == [
        ("say", BOOKING_REFERENCE),
        ("generate_reply", "We are open from nine to five."),
        ("generate_reply", "Hello, this is billing. How can I help?"),
    ]
    assert answers[2].agent_name == "billing_agent"
    assert all(t.outcome == "answered" and t.agent_text is None for t in asked)
    # the answering speeches keep their own turns, without an e2e: the wait counts once
    assert all(a.e2e is None and a.answered_by is None for a in answers)


def test_e2e_runs_to_the_first_audio_of_the_answer(tool_speaks: RecordedCall) -> None:
    truth = tool_speaks.simulation.truth
    turns = tool_speaks.turns
    for turn in [t for t in turns if t.source == "user"]:
        answer = _by_speech(turns, turn.answered_by)
        assert answer.agent_started_at is not None
        playback = truth.playback_starting_at(answer.agent_started_at)
        assert playback is not None
        waited = truth.response_latency(playback)
        assert waited is not None
        # the loop's measured stalls, as in test_turns_match_truth (none on a quiet machine)
        stalled = tool_speaks.stalls.during(
            answer.agent_started_at - waited, answer.agent_started_at
        )
        assert turn.e2e == pytest.approx(waited, abs=E2E_TOLERANCE + stalled)
        parts = turn.breakdown
        assert parts is not None
        assert abs(parts.other) <= OTHER_LIMIT + stalled, f"turn {turn.index}: {parts.other:.4f}"
        assert parts.preemptive_overlap == 0


def test_the_tool_steps_of_an_answer_from_a_tool_cover_the_tool(
    tool_speaks: RecordedCall,
) -> None:
    turns = tool_speaks.turns
    say_turn = turns[0]
    (llm,) = [r for r in say_turn.requests if r.kind == "llm"]
    (tool,) = say_turn.tools
    parts = say_turn.breakdown
    assert parts is not None
    assert parts.tool_steps is not None
    assert llm.started_at + parts.tool_steps >= tool.started_at
    assert parts.llm_first_token is None  # say() asks no model: its audio is the TTS's


# -- 2. a reply that never played ----------------------------------------------------------


def test_a_reply_cancelled_before_its_first_audio_is_superseded(
    slow_callback: RecordedCall,
) -> None:
    first, second = slow_callback.turns
    assert (first.outcome, first.interrupted, first.heard_seconds) == ("superseded", False, None)
    assert first.agent_started_at is None
    assert first.e2e is None
    assert second.outcome == "answered"
    summary = slow_callback.call.summary
    assert summary is not None
    assert (summary.interruptions, summary.interruption_rate) == (0, 0.0)


def test_interruption_rate_counts_replies_that_played(simulations: SimulationCache) -> None:
    summary = simulations.recorded("bargein").call.summary
    assert summary is not None
    assert summary.interruptions == 1
    assert summary.interruption_rate == pytest.approx(1 / 3)


# -- 6. a wait nobody named ----------------------------------------------------------------


def test_the_wait_for_the_previous_turns_callback_is_its_own_part(
    slow_callback: RecordedCall,
) -> None:
    truth = slow_callback.simulation.truth
    (hook,) = [c for c in truth.callbacks if c.seconds > 0]
    assert hook.ended_at is not None
    second = slow_callback.turns[1]
    parts = second.breakdown
    assert parts is not None
    assert second.user_stopped_at is not None
    committed = second.user_stopped_at + (parts.endpointing or 0.0)
    stalled = stalled_in(slow_callback, second)  # none on a quiet machine
    assert parts.previous_turn_wait == pytest.approx(
        hook.ended_at - committed, abs=OTHER_LIMIT + stalled
    )
    assert (parts.previous_turn_wait or 0.0) > 0.1  # most of the first turn's slow callback
    assert abs(parts.other) <= OTHER_LIMIT + stalled


# -- 3. tool calls LiveKit could not run ---------------------------------------------------


def test_a_call_livekit_could_not_run_is_a_tool_with_its_error(
    bad_tool_calls: RecordedCall,
) -> None:
    unknown, unparsable = bad_tool_calls.turns
    ((wrong_name,), (wrong_args,)) = unknown.tools, unparsable.tools
    assert (wrong_name.name, wrong_name.status) == ("get_wether", "error")
    assert wrong_name.output is not None
    assert "Unknown function: get_wether" in wrong_name.output
    assert (wrong_args.name, wrong_args.arguments, wrong_args.status) == (
        "get_weather",
        "not json",
        "error",
    )
    assert wrong_args.output is not None
    if livekit_has("tool_output_names_parse_errors"):
        assert "Error parsing arguments" in wrong_args.output
    else:  # LiveKit < 1.6.0 gives the model a generic tool output
        assert wrong_args.output == "An internal error occurred"
    for turn, tool in ((unknown, wrong_name), (unparsable, wrong_args)):
        asking = min((r for r in turn.requests if r.kind == "llm"), key=lambda r: r.started_at)
        assert asking.output is not None
        assert tool.name in asking.output
        assert asking.started_at <= tool.started_at <= (tool.ended_at or 0) <= turn.ended_at


# -- 4. preemptive overlap without an LLM request ------------------------------------------


def test_preemptive_overlap_without_an_llm_request(simulations: SimulationCache) -> None:
    recorded = simulations.recorded("preemptive_canned")
    turns = recorded.turns
    assert not [r for t in turns for r in t.requests if r.kind == "llm"]
    for turn in turns:
        parts = turn.breakdown
        assert parts is not None
        assert parts.preemptive_overlap < -0.02  # the reply began before the commit
        assert turn.preemptive
        stalled = stalled_in(recorded, turn)  # none on a quiet machine
        assert abs(parts.other) <= OTHER_LIMIT + stalled, f"turn {turn.index}: {parts.other:.4f}"


# -- 5. a retried synthesis --------------------------------------------------------------


def test_time_lost_to_a_retried_synthesis_is_its_own_part(simulations: SimulationCache) -> None:
    recorded = simulations.recorded("tts_retry")
    (turn,) = recorded.turns
    (error,) = turn.errors
    assert (error.component, error.recoverable) == ("tts", True)
    parts = turn.breakdown
    assert parts is not None
    assert parts.tts_retry is not None
    timed_out = RETRY_TIMEOUT / recorded.simulation.speed
    stalled = stalled_in(recorded, turn)  # none on a quiet machine
    assert parts.tts_retry == pytest.approx(timed_out, abs=OTHER_LIMIT + stalled)
    first_tts = turn.first_request("tts")
    assert first_tts is not None
    assert first_tts.ttfb is not None
    assert parts.tts_first_byte is not None
    if livekit_has("tts_honours_non_retryable"):
        # the request's TTFB spans the failed attempt and the retry; before 1.6.5 LiveKit's
        # chunked-stream retry loop timed it otherwise (35 ms apart on 1.5.3, not yet
        # explained), so the split is checked against e2e's `other` only there
        assert parts.tts_first_byte + parts.tts_retry == pytest.approx(first_tts.ttfb, abs=0.005)
    if livekit_has("llm_node_ttfs"):  # before it, no first-sentence time: no aggregation part
        assert parts.sentence_aggregation is not None
        assert parts.sentence_aggregation < timed_out  # the wait is not labelled aggregation
    assert abs(parts.other) <= OTHER_LIMIT + stalled
