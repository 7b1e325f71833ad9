"""Odd inputs real deployments send, on plain event lists: each becomes a measurement
counted once, a null with its reason, or a suspect value kept raw (recording/plausibility.py).

Each case is an input reported against LiveKit (issue 17) or a sibling of its kind."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from turnscope import events as ev
from turnscope.pricing import CallTotals, price_call, price_turn
from turnscope.pricing.catalog import load_catalog
from turnscope.pricing.pricer import Pricer
from turnscope.recording.recorder import CallRecorder
from turnscope.records import Suspect

if TYPE_CHECKING:
    from turnscope.records import Call, Turn

T0 = 1_800_000_000.0
"""The user starts speaking (wall clock)."""


def voice_turn(
    *,
    t0: float = T0,
    speech: str = "s1",
    said: str = "hello there",
    user_window: tuple[float | None, float | None] = (0.0, 1.0),
    e2e: float | None = 1.1,
    eou_delay: float = 0.5,
    ttft: float = 0.3,
    ttfs: float | None = 0.35,
    llm: ev.LLMRequest | None = None,
    stt: tuple[ev.STTUsage, ...] | None = None,
    agent_stopped: float = 3.3,
    interrupted: bool = False,
) -> list[ev.Event]:
    """One user turn: speech 0–1 s (VAD and LiveKit agree unless told), committed at 1.5 s,
    LLM 1.5–2.0 s, TTS 1.8–2.0 s, first agent audio at 2.1 s (e2e 1.1 s)."""
    start, stop = user_window
    request = llm or ev.LLMRequest(
        t0 + 2.0, f"llm-{speech}", speech, "openai", "gpt-4o-mini", 0.5, ttft, False,
        100, 0, 0, 10, 0, 110, 40.0,
    )  # fmt: skip
    reports = (
        stt
        if stt is not None
        else (ev.STTUsage(t0 + 1.3, f"stt-{speech}", "deepgram", "nova-3", 1.0, 0.2, False),)
    )
    return [
        ev.UserStateChanged(t0, "listening", "speaking"),
        ev.UserStateChanged(t0 + 1.0, "speaking", "listening"),
        ev.UserTranscript(t0 + 1.2, said, True, "en"),
        *reports,
        ev.SpeechCreated(t0 + 1.5, speech, "generate_reply", True),
        ev.EndOfTurn(t0 + 1.5, speech, eou_delay, 0.2, 0.001, "vad"),
        ev.UserMessage(
            t0 + 1.5,
            f"u-{speech}",
            said,
            None if start is None else t0 + start,
            None if stop is None else t0 + stop,
            0.2,
            0.5,
            0.001,
        ),
        request,
        ev.TTSRequest(
            t0 + 2.0, f"tts-{speech}", speech, "openai", "tts-1", 0.2, 0.1, 1.2, 20, False, False
        ),
        ev.AgentMessage(
            t0 + agent_stopped,
            f"a-{speech}",
            "hi, how can I help?",
            interrupted,
            t0 + 2.1,
            t0 + agent_stopped,
            ttft,
            ttfs,
            0.1,
            0.002,
            e2e,
        ),
        ev.SpeechDone(t0 + 3.3, speech, interrupted, True, (f"a-{speech}",), (), 0.0),
    ]


def record(events: list[ev.Event], *, close_at: float | None = None) -> tuple[list[Turn], Call]:
    turns: list[Turn] = []
    calls: list[Call] = []
    recorder = CallRecorder("call", on_turn=turns.append, on_call=calls.append)
    for event in events:
        recorder.feed(event)
    recorder.close(close_at)
    (call,) = calls
    return turns, call


def stt_audio(turn: Turn) -> float:
    return sum(r.audio_duration for r in turn.requests if r.kind == "stt")


# -- item 1: STT usage reported twice is counted once ---------------------------------------


def test_a_duplicated_stt_report_is_counted_once() -> None:
    events = voice_turn()
    report = next(e for e in events if isinstance(e, ev.STTUsage))
    turns, call = record([*events[:4], report, *events[4:]])
    assert stt_audio(turns[0]) == pytest.approx(1.0)
    assert call.stt_audio == pytest.approx(1.0)
    assert call.stt_duplicates == 1


def test_a_cumulative_stream_counts_each_second_once() -> None:
    # a plugin that reports the stream's audio so far, not since its last report
    reports = tuple(
        ev.STTUsage(T0 - 4.0 + n * 2.5, "stream", "deepgram", "nova-3", n * 2.5, None, True)
        for n in (1, 2, 3)
    )
    turns, call = record(voice_turn(stt=reports))
    assert call.stt_audio == pytest.approx(7.5)  # 2.5 + 5.0 + 7.5 would be 15
    assert stt_audio(turns[0]) == pytest.approx(1.0)  # the user spoke 1 s of it
    assert call.idle_stt_audio == pytest.approx(6.5)
    assert call.stt_duplicates == 2


def test_stt_audio_beyond_the_calls_duration_is_flagged_and_its_idle_audio_not_priced() -> None:
    reports = (ev.STTUsage(T0 + 1.3, "stream", "deepgram", "nova-3", 600.0, None, True),)
    turns, call = record(voice_turn(stt=reports))
    (flag,) = call.suspect
    assert (flag.field, flag.reason, flag.value) == ("stt_audio", "over_metered", 600.0)
    pricer = Pricer(load_catalog(None))
    totals = CallTotals()
    for turn in turns:
        totals.add(price_turn(turn, pricer))
    priced = price_call(call, totals, pricer)
    assert priced.cost is not None
    assert priced.cost.idle_stt is None
    assert ("cost_idle_stt", "over_metered") in priced.unknown


# -- item 2: contradictory and implausible timing -------------------------------------------


def test_a_user_window_that_stops_before_it_starts_is_taken_from_vad() -> None:
    # LiveKit's stale end-of-speech anchor: stopped 200 s before it started, e2e 204 s
    turns, _ = record(voice_turn(user_window=(0.0, -200.0), e2e=204.0))
    (turn,) = turns
    assert turn.source == "user"
    assert (turn.user_started_at, turn.user_stopped_at) == (T0, T0 + 1.0)  # VAD's window
    assert stt_audio(turn) == pytest.approx(1.0)  # not moved to idle audio
    assert turn.e2e is None
    assert turn.breakdown is None
    assert Suspect("user_speech", "contradictory", -200.0) in turn.suspect
    assert Suspect("e2e", "implausible", 204.0) in turn.suspect


def test_an_e2e_measured_from_before_the_users_speech_is_flagged() -> None:
    # the window is consistent, but the e2e implies an end of speech 10 s before it began
    turns, _ = record(voice_turn(e2e=12.1))
    (turn,) = turns
    assert turn.e2e is None
    assert turn.suspect == (Suspect("e2e", "contradictory", 12.1),)


def test_a_negative_e2e_is_flagged_with_its_raw_value() -> None:
    turns, _ = record(voice_turn(e2e=-0.4))
    assert turns[0].e2e is None
    assert turns[0].suspect == (Suspect("e2e", "negative", -0.4),)


def test_a_plausible_turn_has_no_flags() -> None:
    turns, call = record(voice_turn())
    (turn,) = turns
    assert turn.e2e == pytest.approx(1.1)
    assert turn.suspect == ()
    assert turn.unknown == ()
    assert call.suspect == ()


# -- item 3: LiveKit's 0 for "not reported" ---------------------------------------------------


def _zero_usage(*, cancelled: bool) -> ev.LLMRequest:
    return ev.LLMRequest(
        T0 + 2.0, "llm-s1", "s1", "openai", "gpt-4o-mini", 0.5, 0.3, cancelled,
        0, 0, 0, 0, 0, 0, None,
    )  # fmt: skip


@pytest.mark.parametrize(("cancelled", "reason"), [(True, "cancelled"), (False, "not_reported")])
def test_zero_tokens_are_unknown_and_never_priced_at_zero(cancelled: bool, reason: str) -> None:
    turns, _ = record(voice_turn(llm=_zero_usage(cancelled=cancelled)))
    (turn,) = turns
    (llm,) = [r for r in turn.requests if r.kind == "llm"]
    assert ("prompt_tokens", reason) in llm.unknown
    assert ("prompt_tokens", reason) in turn.unknown
    priced = price_turn(turn, Pricer(load_catalog(None)))
    (llm,) = [r for r in priced.requests if r.kind == "llm"]
    assert llm.cost_usd is None
    assert not llm.unpriced  # the model has a price: its usage is what is missing
    assert priced.cost is not None
    assert priced.cost.uncounted == (f"llm:openai/gpt-4o-mini ({reason})",)
    assert "llm" not in dict(priced.cost.by_component)


def test_an_eou_delay_of_zero_is_not_measured() -> None:
    turns, _ = record(voice_turn(eou_delay=0.0))
    (turn,) = turns
    assert turn.end_of_utterance_delay is None
    assert ("end_of_utterance_delay", "not_measured") in turn.unknown
    assert turn.total_latency is None  # not 0 + TTFT + TTFB


def test_a_turn_and_call_with_no_price_at_all_have_no_cost() -> None:
    events = [
        replace(e, provider="acme", model="secret-model")
        if isinstance(e, (ev.STTUsage, ev.LLMRequest, ev.TTSRequest))
        else e
        for e in voice_turn()
    ]
    turns, call = record(events)
    pricer = Pricer(load_catalog(None))
    totals = CallTotals()
    priced = [price_turn(t, pricer) for t in turns]
    for turn in priced:
        totals.add(turn)
        assert turn.cost is not None
        assert turn.cost.total is None
        assert ("cost_usd", "unpriced") in turn.unknown
    call_cost = price_call(call, totals, pricer).cost
    assert call_cost is not None
    assert call_cost.total is None
    assert "llm:acme/secret-model" in call_cost.unpriced


# -- item 4: nothing negative ---------------------------------------------------------------


def test_cached_tokens_above_the_prompt_never_price_below_zero() -> None:
    odd = ev.LLMRequest(
        T0 + 2.0, "llm-s1", "s1", "openai", "gpt-4o-mini", 0.5, 0.3, False,
        100, 5_000, 0, 10, 0, 110, 40.0,
    )  # fmt: skip
    turns, _ = record(voice_turn(llm=odd))
    priced = price_turn(turns[0], Pricer(load_catalog(None)))
    (llm,) = [r for r in priced.requests if r.kind == "llm"]
    assert llm.cost_usd is None
    assert llm.suspect == (Suspect("cached_tokens", "contradictory", 5_000.0),)
    assert priced.cost is not None
    assert all(v >= 0 for _, v in priced.cost.by_component)


@pytest.mark.parametrize(
    ("ttfs", "aggregation", "flagged"),
    [(0.2, None, True), (0.299, 0.0, False), (0.35, 0.05, False)],
)
def test_sentence_aggregation_is_never_negative(
    ttfs: float, aggregation: float | None, flagged: bool
) -> None:
    turns, _ = record(voice_turn(ttft=0.3, ttfs=ttfs))
    parts = turns[0].breakdown
    assert parts is not None
    assert parts.sentence_aggregation == pytest.approx(aggregation)
    assert parts.explained() + parts.other == pytest.approx(1.1)
    assert any(s.field == "sentence_aggregation" for s in turns[0].suspect) == flagged


def test_a_negative_heard_duration_is_flagged() -> None:
    turns, _ = record(voice_turn(interrupted=True, agent_stopped=1.6))  # stopped before it began
    (turn,) = turns
    assert turn.outcome == "interrupted"
    assert turn.heard_seconds is None
    (flag,) = turn.suspect
    assert (flag.field, flag.reason) == ("heard_seconds", "negative")
    assert flag.value == pytest.approx(-0.5)


def test_a_call_that_closes_before_its_events_ends_after_them() -> None:
    _, call = record(voice_turn(), close_at=T0 - 100.0)
    assert call.ended_at == T0 + 3.3
    assert call.suspect == (Suspect("ended_at", "contradictory", T0 - 100.0),)
    _, call = record(voice_turn(), close_at=T0 + 3.29)  # stamped a hair early: noise
    assert call.ended_at == T0 + 3.3
    assert call.suspect == ()


def test_a_plugins_negative_duration_is_dropped_but_flagged_on_the_call() -> None:
    events = voice_turn()
    tts = next(e for e in events if isinstance(e, ev.TTSRequest))
    odd = replace(tts, ttfb=-0.25, characters=-3)
    turns, call = record([odd if e is tts else e for e in events])
    (request,) = [r for r in turns[0].requests if r.kind == "tts"]
    assert request.ttfb is None
    assert request.characters == 0
    assert Suspect("TTSRequest.ttfb", "negative", -0.25) in call.suspect
    assert Suspect("TTSRequest.characters", "negative", -3.0) in call.suspect


# -- item 6: errors linked to their attempt by order -------------------------------------------


def test_a_retried_streaming_tts_error_names_the_retry() -> None:
    # a streaming TTS's clock starts at its first text: the retry began after the error
    events = voice_turn()
    error = ev.ErrorRaised(T0 + 1.7, "tts", "APITimeoutError", "timed out", True, "tts")
    turns, call = record([*events[:8], error, *events[8:]])
    (turn,) = turns
    assert [(e.component, e.request_id) for e in turn.errors] == [("tts", "tts-s1")]
    assert call.errors == ()


def test_a_recoverable_error_goes_to_the_turn_whose_request_recovered() -> None:
    # a greeting still plays (TTS only) while the user's turn's LLM fails once and retries:
    # the error is the user turn's, though it came while both speeches were alive
    greeting: list[ev.Event] = [
        ev.SpeechCreated(T0 - 1.0, "g", "say", True),
        ev.TTSRequest(T0 - 0.7, "tts-g", "g", "openai", "tts-1", 0.3, 0.1, 4.0, 60, False, False),
        ev.AgentMessage(
            T0 + 3.5, "a-g", "welcome", False, T0 - 0.6, T0 + 3.5, None, None, 0.1, 0.002, None
        ),
        ev.SpeechDone(T0 + 3.5, "g", False, True, ("a-g",), (), 0.0),
    ]
    error = ev.ErrorRaised(T0 + 1.6, "llm", "APIConnectionError", "reset", True, "llm")
    turns, call = record(sorted([*greeting, *voice_turn(), error], key=lambda e: e.at))
    by_speech = {t.speech_id: t for t in turns}
    assert by_speech["g"].errors == ()
    assert [(e.component, e.request_id) for e in by_speech["s1"].errors] == [("llm", "llm-s1")]
    assert call.errors == ()


def test_an_unrecoverable_error_names_no_later_request() -> None:
    events = voice_turn()
    error = ev.ErrorRaised(T0 + 1.55, "tts", "APIStatusError", "400", False, "tts")
    turns, _ = record([*events[:8], error, *events[8:]])
    assert [(e.component, e.request_id) for e in turns[0].errors] == [("tts", None)]
