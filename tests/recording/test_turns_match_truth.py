"""For every scenario, the recorded turns agree with the simulation's independent truth."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import livekit_has
from turnscope import simulate
from turnscope.simulate.agent import weather_report

if TYPE_CHECKING:
    from tests.conftest import RecordedCall, SimulationCache
    from turnscope import Turn

OPTIONS: dict[str, dict[str, Any]] = {"long": {"turns": 6}}

# (source, outcome) of each expected turn, in order
EXPECTED: dict[str, list[tuple[str, str]]] = {
    "basic": [("say", "answered")] + [("user", "answered")] * 3,
    "tool_with_preamble": [("user", "answered")] * 2,
    "bargein": [("user", "interrupted"), ("user", "answered"), ("user", "answered")],
    "falseint": [("user", "answered")] * 2,
    "errors": [("user", "answered"), ("user", "failed"), ("user", "answered")],
    "retries": [("user", "answered")] * 2,
    "cut_off_stream": [("user", "interrupted"), ("user", "answered"), ("user", "answered")],
    "preemptive": [("user", "answered")] * 2,
    "queued_say": [("user", "answered"), ("say", "answered"), ("user", "answered")],
    "no_reply": [("user", "answered"), ("none", "no_reply"), ("user", "answered")],
    "away": [("user", "answered")] * 2,
    "long": [("user", "answered")] * 6,
    "realtime": [("user", "answered")] * 3,
    "handoff": [("user", "answered"), ("generate_reply", "answered")] + [("user", "answered")] * 2,
    "text": [("user", "answered")] * 3,
    "tool_speaks": [("user", "answered"), ("say", "answered")]
    + [("user", "answered"), ("generate_reply", "answered")] * 2,
    "slow_callback": [("user", "superseded"), ("user", "answered")],
    "bad_tool_calls": [("user", "answered")] * 2,
    "preemptive_canned": [("user", "answered")] * 2,
    "tts_retry": [("user", "answered")],
}


@pytest.fixture(params=sorted(simulate.SCENARIOS))
def recorded(request: pytest.FixtureRequest, simulations: SimulationCache) -> RecordedCall:
    name: str = request.param
    return simulations.recorded(name, **OPTIONS.get(name, {}))


def test_every_scenario_was_recorded_without_internal_errors(recorded: RecordedCall) -> None:
    assert recorded.handle.internal_errors == []
    assert recorded.call.turns == len(recorded.turns)
    assert recorded.call.close_reason == "user_initiated"
    assert [t.index for t in recorded.turns] == list(range(1, len(recorded.turns) + 1))


def test_right_turns_with_the_right_outcomes(recorded: RecordedCall) -> None:
    expected = EXPECTED[recorded.simulation.scenario.name]
    assert [(t.source, t.outcome) for t in recorded.turns] == expected


def first_heard(turn: Turn, turns: list[Turn]) -> float | None:
    """When the caller first heard the reply to a turn: its own audio, or the audio of the
    speech that answered it (a tool's say or generate_reply, a new agent's greeting)."""
    if turn.answered_by is None:
        return turn.agent_started_at
    (answer,) = [t for t in turns if t.speech_id == turn.answered_by]
    return answer.agent_started_at


E2E_TOLERANCE = 0.015
"""e2e is LiveKit's wall-clock measurement: it dates the caller's end of speech with its own
clock inside its VAD handler (less silence and the VAD's delay, which the simulated VAD
reports exactly). On an idle machine it agrees with the truth within ~1 ms; with both cores
saturated the OS can preempt the agent for a scheduler slice inside that handler, which
shifts the date by up to ~10 ms — and by a whole stall when the loop stood still longer (a
saturated machine; measured in the same run by ``LoopStalls``, nothing on a quiet one)."""


def test_e2e_matches_the_truth(recorded: RecordedCall) -> None:
    truth = recorded.simulation.truth
    turns = recorded.turns
    timed = [t for t in turns if t.e2e is not None]
    answered = [t for t in turns if t.source == "user" and first_heard(t, turns) is not None]
    assert len(timed) == len([t for t in answered if t.input_modality == "audio"])
    for turn in timed:
        heard = first_heard(turn, turns)
        assert heard is not None
        playback = truth.playback_starting_at(heard)
        assert playback is not None
        waited = truth.response_latency(playback)
        assert waited is not None
        stalled = recorded.stalls.during(heard - waited, heard)
        assert turn.e2e == pytest.approx(waited, abs=E2E_TOLERANCE + stalled)


def test_user_text_is_what_the_caller_said(recorded: RecordedCall) -> None:
    scenario = recorded.simulation.scenario
    said = " ".join(recorded.turns[i].user_text or "" for i in range(len(recorded.turns)))
    for transcript in scenario.transcripts:
        assert transcript in said


def _turn_of_prompt(turns: list[Turn], prompt: str, text: str) -> Turn:
    for turn in turns if prompt else ():
        if turn.user_text and prompt in turn.user_text:
            return turn
        if any(tool.output == prompt for tool in turn.tools):
            return turn
    # a reply nobody asked for in words (a new agent's greeting, a generate_reply a tool
    # asked for with instructions): the turn that said it
    (said,) = [t for t in turns if t.source == "generate_reply" and text in (t.agent_text or "")]
    return said


def test_every_llm_request_is_in_the_turn_that_asked_it(recorded: RecordedCall) -> None:
    truth = recorded.simulation.truth
    placed = {
        r.request_id: t for t in recorded.turns for r in t.requests if r.kind in ("llm", "realtime")
    }
    # a request cancelled before it streamed anything (a superseded reply's) LiveKit never
    # reports: nothing was generated, nothing is billed
    served = [r for r in truth.llm_requests if not r.failed and r.first_chunk_at is not None]
    assert set(placed) == {r.request_id for r in served}
    for request in served:
        asked = _turn_of_prompt(recorded.turns, request.prompt_key, request.text)
        assert placed[request.request_id] is asked


def test_every_tts_request_is_in_the_turn_that_spoke_it(recorded: RecordedCall) -> None:
    truth = recorded.simulation.truth
    tts = [(r, t) for t in recorded.turns for r in t.requests if r.kind == "tts"]
    placed = {r.request_id: t for r, t in tts if r.request_id}
    synthesized = [r for r in truth.tts_requests if not r.failed]
    assert set(placed) <= {r.request_id for r in synthesized}
    discarded = {r.request_id for t in recorded.turns for r in t.requests if r.discarded}
    for request in synthesized:
        if request.request_id in discarded and not livekit_has("preemptive_tts_option"):
            continue  # LiveKit < 1.5.4 also synthesizes a preemptive attempt, never played
        if request.request_id in placed:
            spoken = placed[request.request_id].agent_text or ""
            assert request.text.strip() in spoken
    # LiveKit names a synthesis by its first audio frame: one cancelled before any audio (a
    # barge-in, sooner or later depending on load) is reported with no id. It still counts,
    # in the turn that asked for it: matched to the truth by its text's length.
    anonymous = sorted((r.characters, t.index) for r, t in tts if not r.request_id)
    unnamed = [r for r in synthesized if r.request_id not in placed]
    assert all(r.cancelled and r.ttfb is None for r, _ in tts if not r.request_id)
    assert sorted(c for c, _ in anonymous) == sorted(len(r.text) for r in unnamed)
    turns = {t.index: t for t in recorded.turns}
    for request in unnamed:
        assert any(
            c == len(request.text) and request.text.strip() in (turns[i].agent_text or "")
            for c, i in anonymous
        )


def test_every_utterance_stt_audio_is_in_its_turn(recorded: RecordedCall) -> None:
    truth = recorded.simulation.truth
    if recorded.simulation.scenario.mode != "pipeline":  # the model hears the caller itself
        assert not [r for t in recorded.turns for r in t.requests if r.kind == "stt"]
        return
    if recorded.simulation.scenario.name == "preemptive" and not livekit_has(
        "user_turn_starts_at_first_segment"
    ):
        # LiveKit < 1.5.9 starts a user turn spoken in two segments at its last one, so the
        # first segment's audio lies outside the turn: it still counts in the call
        assert recorded.call.stt_audio == pytest.approx(
            sum(u.audio_seconds for u in truth.stt_usage)
        )
        return
    for utterance in truth.speech():
        (turn,) = [t for t in recorded.turns if t.user_text and utterance.transcript in t.user_text]
        stt = sum(r.audio_duration for r in turn.requests if r.kind == "stt")
        words = [u for u in truth.speech() if u.transcript in (turn.user_text or "")]
        assert stt == pytest.approx(sum(u.duration or 0 for u in words), abs=0.025 * len(words))
    assert recorded.call.stt_audio == pytest.approx(sum(u.audio_seconds for u in truth.stt_usage))


def test_tools_are_inside_their_turn(recorded: RecordedCall) -> None:
    truth = recorded.simulation.truth
    tools = [(tool, t) for t in recorded.turns for tool in t.tools]
    # every call the model made is a tool of its turn, those LiveKit could not run too
    asked = [name for r in truth.llm_requests if not r.failed for name in r.tool_calls]
    assert sorted(tool.name for tool, _ in tools) == sorted(asked)
    executed = [tool for tool, _ in tools if tool.name in {c.name for c in truth.tool_calls}]
    assert len(executed) == len(truth.tool_calls)
    for tool, turn in tools:
        assert turn.started_at <= tool.started_at <= (tool.ended_at or 0) <= turn.ended_at
        if tool.name != "get_weather" or tool.status == "error":
            continue  # (a call LiveKit could not run: see test_turn_structure.py)
        (ran,) = [
            c for c in truth.tool_calls if tool.arguments == f'{{"city": "{c.arguments["city"]}"}}'
        ]
        assert tool.output == weather_report(ran.arguments["city"])
        assert tool.status == "done"
        assert turn.started_at <= tool.started_at <= (tool.ended_at or 0) <= turn.ended_at
        assert ran.arguments["city"] in (turn.user_text or "")


def test_breakdown_explains_e2e_within_30ms(recorded: RecordedCall) -> None:
    for turn in recorded.turns:
        if turn.e2e is None:
            assert turn.breakdown is None
            continue
        parts = turn.breakdown
        assert parts is not None
        assert parts.explained() + parts.other == pytest.approx(turn.e2e)
        if turn.preemptive:
            assert parts.preemptive_overlap < 0
        else:
            assert parts.preemptive_overlap == 0
        assert abs(parts.other) <= OTHER_LIMIT + stalled_in(recorded, turn), (
            f"turn {turn.index}: other={parts.other:.4f}, "
            f"loop stalled {stalled_in(recorded, turn):.4f}"
        )


OTHER_LIMIT = 0.030
"""What no part explains, the issue's ±30 ms. Plus, on a busy machine, the time the agent's
loop stood still during the turn (measured in the same run, ``LoopStalls``): LiveKit's own
wall-clock gaps between parts grow by every scheduler slice the OS takes away, and that time
is truly nobody's part. A quiet run measures no stall, so the bound is the plain 30 ms."""


def stalled_in(recorded: RecordedCall, turn: Turn) -> float:
    """Seconds the loop stood still between the caller's end of speech and the first audio."""
    end = turn.agent_started_at or turn.ended_at
    start = end - (turn.e2e or 0.0)
    return recorded.stalls.during(start, end)


def test_tool_steps_cover_the_tool(simulations: SimulationCache) -> None:
    recorded = simulations.recorded("basic")
    (tool_turn,) = [t for t in recorded.turns if t.tools]
    (ran,) = recorded.simulation.truth.tool_calls
    assert tool_turn.breakdown is not None
    assert tool_turn.breakdown.tool_steps is not None
    assert tool_turn.breakdown.tool_steps >= ran.injected_latency
    others = [t.breakdown for t in recorded.turns if t.breakdown and not t.tools]
    assert all(b.tool_steps == 0 for b in others)


def test_interruption_and_error_flags(simulations: SimulationCache) -> None:
    bargein = simulations.recorded("bargein").turns
    assert [t.interrupted for t in bargein] == [True, False, False]

    errors = simulations.recorded("errors").turns
    assert [(e.component, e.recoverable) for e in errors[0].errors] == [("llm", True)]
    (retried,) = [r for r in errors[0].requests if r.kind == "llm"]
    assert errors[0].errors[0].request_id == retried.request_id
    assert [(e.component, e.recoverable) for e in errors[1].errors] == [("tts", False)]
    assert errors[1].agent_text is None
    assert errors[2].errors == ()


def test_preemptive_attempt_is_folded_into_the_turn_that_replaced_it(
    simulations: SimulationCache,
) -> None:
    turns = simulations.recorded("preemptive").turns
    first = turns[0]
    assert first.discarded_attempts == 1
    discarded = [r for r in first.requests if r.discarded]
    # LiveKit < 1.5.4 synthesizes a preemptive attempt too (no preemptive_tts option)
    kinds = ["llm"] if livekit_has("preemptive_tts_option") else ["llm", "tts"]
    assert [r.kind for r in discarded] == kinds
    truth = simulations.get("preemptive").truth
    assert truth.llm_requests[0].request_id == discarded[0].request_id
    assert all(t.preemptive for t in turns)


def test_false_interruptions_and_away_reach_the_call(simulations: SimulationCache) -> None:
    falseint = simulations.recorded("falseint").call
    assert [resumed for _, resumed in falseint.false_interruptions] == [True]
    away = simulations.recorded("away").call
    assert "away" in [state for _, state in away.user_states]


def test_total_latency_is_the_requirements_formula(simulations: SimulationCache) -> None:
    recorded = simulations.recorded("basic")
    for turn in recorded.turns:
        if turn.source != "user":
            assert turn.total_latency is None
            continue
        llm = min((r for r in turn.requests if r.kind == "llm"), key=lambda r: r.started_at)
        tts = min((r for r in turn.requests if r.kind == "tts"), key=lambda r: r.started_at)
        assert turn.end_of_utterance_delay is not None
        assert turn.total_latency == pytest.approx(
            turn.end_of_utterance_delay + (llm.ttft or 0) + (tts.ttfb or 0)
        )


def test_periodic_stt_is_prorated_and_the_rest_is_idle(simulations: SimulationCache) -> None:
    recorded = simulations.recorded("basic", stt_usage="periodic")
    truth = recorded.simulation.truth
    user_turns = [t for t in recorded.turns if t.source == "user"]
    assert len(user_turns) == 3
    for turn, utterance in zip(user_turns, truth.speech(), strict=True):
        share = sum(r.audio_duration for r in turn.requests if r.kind == "stt")
        assert share == pytest.approx(utterance.duration or 0, abs=0.06)
        assert all(r.metered_audio >= r.audio_duration for r in turn.requests if r.kind == "stt")
    call = recorded.call
    spoken = sum(r.audio_duration for t in recorded.turns for r in t.requests if r.kind == "stt")
    assert call.idle_stt_audio == pytest.approx(call.stt_audio - spoken)
    assert call.idle_stt_audio > spoken
