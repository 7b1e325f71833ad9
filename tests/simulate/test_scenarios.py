"""Each scenario drives a real AgentSession and produces the LiveKit events it is meant to."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import pytest
from livekit.agents.metrics import LLMMetrics, STTMetrics, TTSMetrics

from tests.conftest import livekit_has
from turnscope import simulate

if TYPE_CHECKING:
    from tests.conftest import SimulationCache


def _assistant_texts(result: simulate.SimulationResult) -> list[str]:
    return [m.text_content or "" for m in result.chat_messages("assistant")]


def _user_texts(result: simulate.SimulationResult) -> list[str]:
    return [m.text_content or "" for m in result.chat_messages("user")]


@pytest.mark.parametrize("name", sorted(simulate.SCENARIOS))
def test_every_scenario_runs_a_real_session_to_completion(
    simulations: SimulationCache, name: str
) -> None:
    options: dict[str, Any] = {"turns": 6} if name == "long" else {}
    result = simulations.get(name, **options)
    scenario = result.scenario

    if scenario.mode == "text":
        assert [t.text for t in result.truth.typed] == [u.text for u in scenario.utterances]
    else:
        assert len(result.truth.utterances) == len(scenario.utterances)
        assert all(u.ended_at is not None for u in result.truth.utterances)
    (close,) = result.payloads("close")
    assert close.reason.value == "user_initiated"
    assert close.error is None
    assert all(handle.done() for handle in result.speech_handles)
    answered = [t for t in scenario.transcripts if t not in scenario.ignore]
    heard = " ".join(_user_texts(result))
    for transcript in answered:
        assert transcript in heard


def test_basic_has_a_greeting_and_a_tool_call(simulations: SimulationCache) -> None:
    result = simulations.get("basic")

    sources = [event.source for event in result.payloads("speech_created")]
    assert sources == ["say", "generate_reply", "generate_reply", "generate_reply"]
    (tools,) = result.payloads("function_tools_executed")
    assert [(c.name, c.arguments) for c in tools.function_calls] == [
        ("get_weather", '{"city": "Paris"}')
    ]
    assert [o.output for o in tools.function_call_outputs] == ["Paris: sunny, 21 C"]
    assert _assistant_texts(result)[0] == "Hi, this is Acme Travel. How can I help?"
    assert "It is sunny and 21 degrees in Paris right now." in _assistant_texts(result)
    assert [t.name for t in result.truth.tool_calls] == ["get_weather"]


def test_tool_with_preamble_owns_two_assistant_messages_in_one_speech(
    simulations: SimulationCache,
) -> None:
    result = simulations.get("tool_with_preamble")

    tool_speech = result.speech_handles[0]
    kinds = [item.type for item in tool_speech.chat_items]
    assert kinds.count("message") == 2
    assert "function_call" in kinds
    assert "function_call_output" in kinds
    texts = [i.text_content for i in tool_speech.chat_items if i.type == "message"]
    assert texts == ["Sure, let me check that for you.", "It is sunny and 21 degrees in Tokyo."]
    llm_for_turn = [r for r in result.truth.llm_requests if not r.failed][:2]
    assert [r.tool_calls for r in llm_for_turn] == [["get_weather"], []]


def test_bargein_interrupts_the_reply(simulations: SimulationCache) -> None:
    result = simulations.get("bargein")

    story = result.chat_messages("assistant")[0]
    assert story.interrupted
    interrupted = [p for p in result.truth.playbacks if p.interrupted]
    assert len(interrupted) == 1
    assert interrupted[0].played_seconds is not None
    assert interrupted[0].played_seconds < interrupted[0].pushed_seconds
    assert result.speech_handles[0].interrupted
    assert "Okay, stopping." in _assistant_texts(result)


def test_falseint_resumes_after_a_noise_burst(simulations: SimulationCache) -> None:
    result = simulations.get("falseint")

    (false_interruption,) = result.payloads("agent_false_interruption")
    assert false_interruption.resumed is True
    story = result.chat_messages("assistant")[0]
    assert not story.interrupted
    assert _user_texts(result) == ["Tell me a story.", "Bye."]


def test_errors_emit_a_recoverable_llm_error_and_drop_a_reply_on_tts_failure(
    simulations: SimulationCache,
) -> None:
    result = simulations.get("errors")

    errors = [(type(e.error).__name__, e.error.recoverable) for e in result.payloads("error")]
    # LiveKit < 1.6.5 retries the TTS error the provider marked non-retryable (max_retry 2)
    retried = [] if livekit_has("tts_honours_non_retryable") else [("TTSError", True)] * 2
    assert errors == [("LLMError", True), *retried, ("TTSError", False)]
    assert [r.failed for r in result.truth.llm_requests] == [True, False, False, False]
    dropped = result.speech_handles[1]
    assert dropped.done()
    if livekit_has("failed_reply_left_out_of_history"):
        assert not any("fine print" in text for text in _assistant_texts(result))
        assert dropped.chat_items == []
    else:  # LiveKit < 1.8.6 keeps the reply whose speech failed in the history, unplayed
        (item,) = dropped.chat_items
        assert item.type == "message"
        assert "started_speaking_at" not in item.metrics
    assert _assistant_texts(result)[-1] == "Yes, I'm still here."


def test_preemptive_discards_an_attempt_when_the_caller_goes_on(
    simulations: SimulationCache,
) -> None:
    result = simulations.get("preemptive")

    discarded = [h for h in result.speech_handles if h.done() and not h.scheduled]
    assert len(discarded) == 1
    assert discarded[0].chat_items == []
    prompts = [r.prompt_key for r in result.truth.llm_requests]
    assert prompts[0] == "I'd like to book a table"
    assert "I'd like to book a table for two people tonight." in prompts
    assert _user_texts(result)[0] == "I'd like to book a table for two people tonight."
    scheduled = [h for h in result.speech_handles if h.scheduled]
    assert len(scheduled) == 2


def test_queued_say_waits_for_the_reply_it_was_issued_during(
    simulations: SimulationCache,
) -> None:
    result = simulations.get("queued_say")

    (say,) = result.truth.says
    first, second = result.truth.playbacks[:2]
    assert first.first_frame_at < say.issued_at < (first.ended_at or 0.0)
    assert (first.ended_at or 0.0) <= second.first_frame_at
    assert _assistant_texts(result)[:2] == [
        "We are open from nine to five, Monday to Friday.",
        "By the way, this call may be recorded.",
    ]
    assert [e.source for e in result.payloads("speech_created")][:2] == ["generate_reply", "say"]


def test_no_reply_leaves_an_utterance_unanswered(simulations: SimulationCache) -> None:
    result = simulations.get("no_reply")

    finals = [e.transcript for e in result.payloads("user_input_transcribed") if e.is_final]
    assert "Um, hold on a second." in finals
    assert len(result.speech_handles) == 2
    assert _assistant_texts(result) == ["Hello! How can I help?", "We close at five today."]
    asked = [r.prompt_key for r in result.truth.llm_requests]
    assert "Um, hold on a second." not in asked


def test_away_marks_the_silent_caller_away_then_back(simulations: SimulationCache) -> None:
    result = simulations.get("away")

    states = [(e.old_state, e.new_state) for e in result.payloads("user_state_changed")]
    assert ("listening", "away") in states
    assert ("away", "speaking") in states


def test_long_plays_every_turn_with_a_tool_every_fourth(simulations: SimulationCache) -> None:
    result = simulations.get("long", turns=6)

    assert len(result.chat_messages("user")) == 6
    assert len(result.chat_messages("assistant")) == 6
    assert [t.arguments["city"] for t in result.truth.tool_calls] == ["Paris"]


def test_providers_present_realistic_names(simulations: SimulationCache) -> None:
    result = simulations.get("basic")

    names = {
        type(m).__name__: (m.metadata.model_provider, m.metadata.model_name)
        for m in result.metrics
        if m.metadata is not None
    }
    assert names["STTMetrics"] == ("AssemblyAI", "universal-streaming-english")
    assert names["LLMMetrics"] == ("api.openai.com", "gpt-4o-mini")
    assert names["TTSMetrics"] == ("api.openai.com", "tts-1")
    assert names["VADMetrics"] == ("silero", "silero")


def test_injected_latencies_are_what_livekit_measures(simulations: SimulationCache) -> None:
    result = simulations.get("basic")

    injected_ttft = {r.request_id: r.injected_ttft for r in result.truth.llm_requests}
    llm = [m for m in result.metrics if isinstance(m, LLMMetrics)]
    assert {m.request_id for m in llm} == set(injected_ttft)
    for request in llm:
        assert request.ttft == pytest.approx(injected_ttft[request.request_id], abs=0.015)
    injected_ttfb = {r.request_id: r.injected_ttfb for r in result.truth.tts_requests}
    tts = [m for m in result.metrics if isinstance(m, TTSMetrics)]
    assert {m.request_id for m in tts} == set(injected_ttfb)
    for synthesis in tts:
        assert synthesis.ttfb == pytest.approx(injected_ttfb[synthesis.request_id], abs=0.015)


def test_per_utterance_stt_usage_meters_each_utterance(simulations: SimulationCache) -> None:
    result = simulations.get("basic")

    stt = [m for m in result.metrics if isinstance(m, STTMetrics)]
    assert [round(m.audio_duration, 3) for m in stt] == [
        round(u.audio_seconds, 3) for u in result.truth.stt_usage
    ]
    for usage, utterance in zip(result.truth.stt_usage, result.truth.speech(), strict=True):
        assert usage.audio_seconds == pytest.approx(utterance.duration or 0.0, abs=0.021)


def test_periodic_stt_usage_meters_all_audio_including_silence(
    simulations: SimulationCache,
) -> None:
    result = simulations.get("basic", stt_usage="periodic")

    usage = result.truth.stt_usage
    period = 5.0 / result.speed
    assert len(usage) >= 3
    assert all(u.audio_seconds >= period - 1e-6 for u in usage[:-1])
    assert usage[-1].at_close
    assert not any(u.at_close for u in usage[:-1])
    # the reports tile the stream: one window starts where the previous one ended
    for before, after in itertools.pairwise(usage):
        assert after.window_start == pytest.approx(before.window_end, abs=1e-6)
    spoken = sum(u.duration or 0.0 for u in result.truth.speech())
    assert sum(u.audio_seconds for u in usage) > 2 * spoken
    stt = [m for m in result.metrics if isinstance(m, STTMetrics)]
    assert [round(m.audio_duration, 3) for m in stt] == [round(u.audio_seconds, 3) for u in usage]


def test_realtime_responses_are_named_by_the_messages_they_spoke(
    simulations: SimulationCache,
) -> None:
    result = simulations.get("realtime")
    responses = [m for m in result.metrics if m.type == "realtime_model_metrics"]
    assert len(responses) == 4  # one turn is a tool call and its answer
    assert not [m for m in result.metrics if isinstance(m, (LLMMetrics, STTMetrics, TTSMetrics))]
    named = [m.metrics.get("provider_request_ids") for m in result.chat_messages("assistant")]
    for response in responses:
        details = response.input_token_details
        assert response.input_tokens == details.audio_tokens + details.text_tokens
    if not livekit_has("realtime_provider_request_ids"):  # LiveKit < 1.6.7 names none
        assert named == [None] * len(named)
        return
    assert all(ids and ids[0] in {r.request_id for r in responses} for ids in named)
    spoke = {ids[0] for ids in named if ids}
    for response in responses:
        said = response.output_token_details.audio_tokens > 0
        assert said == (response.request_id in spoke)  # the tool call's response said nothing


def test_handoff_switches_to_an_agent_with_its_own_models(simulations: SimulationCache) -> None:
    result = simulations.get("handoff")
    (handoff,) = [
        e.item
        for e in result.payloads("conversation_item_added")
        if e.item.type == "agent_handoff" and e.item.old_agent_id
    ]
    assert (handoff.old_agent_id, handoff.new_agent_id) == ("front_desk_agent", "billing_agent")
    models = {(m.type, m.metadata.model_name) for m in result.metrics if m.metadata}
    assert {("llm_metrics", "gpt-4.1-mini"), ("tts_metrics", "tts-1-hd")} <= models
    assert ("stt_metrics", "gpt-transcribe") in models
    assert {("llm_metrics", "gpt-4o-mini"), ("tts_metrics", "tts-1")} <= models
