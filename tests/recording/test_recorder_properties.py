"""The recorder survives any order or subset of events with odd values, and loses nothing.

The event streams come from real simulated sessions (captured through the adapter); hypothesis
drops, reorders, duplicates and corrupts them.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any, cast, get_type_hints

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from turnscope import events as ev
from turnscope.pricing import price_turn
from turnscope.pricing.catalog import load_catalog
from turnscope.pricing.pricer import Pricer
from turnscope.recording.recorder import CallRecorder
from turnscope.records import MODEL_KINDS, Breakdown

if TYPE_CHECKING:
    from tests.conftest import SimulationCache
    from turnscope.records import Call, Turn


# Hypothesis checks that the global `random` state does not change while it draws; spans'
# ids (OpenTelemetry) and the simulation use it from background threads of this process, which
# is not the strategy's doing, so that deprecation warning is no error here.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

STREAMS = [
    ("basic", {}),
    ("preemptive", {}),
    ("errors", {}),
    ("no_reply", {}),
    ("bargein", {}),
    ("queued_say", {}),
    ("basic", {"stt_usage": "periodic"}),
    ("realtime", {}),
    ("handoff", {}),
    ("text", {}),
]
ODD_NUMBERS: list[object] = [None, math.nan, math.inf, -1.0, -0.5, 0.0, 1e12]
PRICER = Pricer(load_catalog(None))


def replay(stream: list[ev.Event]) -> tuple[list[Turn], Call]:
    turns: list[Turn] = []
    calls: list[Call] = []
    recorder = CallRecorder("call", on_turn=turns.append, on_call=calls.append)
    for event in stream:
        recorder.feed(event)
    recorder.close()
    recorder.close()
    (call,) = calls
    return turns, call


@pytest.fixture(scope="module")
def streams(simulations: SimulationCache) -> list[list[ev.Event]]:
    return [simulations.recorded(name, **options).events for name, options in STREAMS]


def _signal(stream: list[ev.Event]) -> list[ev.Event]:
    """The stream without periodic VAD statistics and interim transcripts, which only add
    length for hypothesis to shuffle."""
    return [
        e
        for e in stream
        if not isinstance(e, ev.VADUsage)
        and not (isinstance(e, ev.UserTranscript) and not e.is_final)
    ]


def _oddable(event: ev.Event) -> dict[str, list[object]]:
    """The fields a plugin could get wrong, with the odd values each may take: numbers may be
    anything numeric (or missing); optional fields may be missing."""
    hints = get_type_hints(type(event))
    odd: dict[str, list[object]] = {}
    for f in dataclasses.fields(event):
        hint = hints[f.name]
        if hint in (float, int, float | None, int | None):
            odd[f.name] = ODD_NUMBERS
        elif type(None) in getattr(hint, "__args__", ()):
            odd[f.name] = [None]
    return odd


@st.composite
def corrupted(draw: st.DrawFn, event: ev.Event) -> ev.Event:
    odd = _oddable(event)
    name = draw(st.sampled_from(sorted(odd)))
    changed: ev.Event = dataclasses.replace(
        cast("Any", event), **{name: draw(st.sampled_from(odd[name]))}
    )
    return changed


@st.composite
def mangled(draw: st.DrawFn, stream: list[ev.Event]) -> list[ev.Event]:
    n = len(stream)
    dropped = draw(st.sets(st.integers(0, n - 1), max_size=n // 3)) if n else set()
    events = [e for i, e in enumerate(stream) if i not in dropped]
    shuffle = draw(st.sampled_from(["none", "all", "nearby"]))
    rnd = draw(st.randoms(use_true_random=False))
    if shuffle == "all":
        rnd.shuffle(events)
    elif shuffle == "nearby":  # the usual kind of disorder: neighbours swapped
        for i in range(len(events) - 1):
            if rnd.random() < 0.2:
                events[i], events[i + 1] = events[i + 1], events[i]
    if events:
        for i in draw(st.lists(st.integers(0, len(events) - 1), max_size=6)):
            events.insert(i, events[i])
        for i in draw(st.lists(st.integers(0, len(events) - 1), max_size=6)):
            events[i] = draw(corrupted(events[i]))
    return events


def assert_consistent(turns: list[Turn], call: Call) -> None:
    assert [t.index for t in turns] == list(range(1, len(turns) + 1))
    assert call.turns == len(turns)
    seen: set[tuple[str, str]] = set()
    for turn in turns:
        assert turn.started_at <= turn.ended_at
        assert (turn.e2e is None) == (turn.breakdown is None)
        if turn.breakdown is not None and turn.e2e is not None:
            assert turn.breakdown.explained() + turn.breakdown.other == pytest.approx(turn.e2e)
        if turn.outcome == "answered":
            assert turn.agent_messages or turn.answered_by  # its own reply, or another's
            assert not turn.interrupted
        if turn.outcome in ("no_reply", "failed"):
            assert turn.agent_text is None
        assert turn.interrupted == (turn.outcome == "interrupted")
        for request in turn.requests:
            if request.kind != "stt":
                key = (request.kind, request.request_id)
                assert key not in seen, f"{key} is in two turns"
                seen.add(key)
            assert request.audio_duration >= 0
            assert math.isfinite(request.audio_duration)
    assert call.idle_stt_audio >= 0


def placed_requests(turns: list[Turn]) -> set[tuple[str, str]]:
    return {(r.kind, r.request_id) for t in turns for r in t.requests if r.kind != "stt"}


def test_replaying_the_live_stream_gives_the_live_turns(
    simulations: SimulationCache, streams: list[list[ev.Event]]
) -> None:
    for (name, options), stream in zip(STREAMS, streams, strict=True):
        live = simulations.recorded(name, **options).turns
        turns, _ = replay(stream)
        assert [(t.outcome, t.user_text, t.agent_text, t.e2e) for t in turns] == [
            (t.outcome, t.user_text, t.agent_text, t.e2e) for t in live
        ]
        assert placed_requests(turns) == placed_requests(live)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_order_subset_or_odd_values_never_raise(
    streams: list[list[ev.Event]], data: st.DataObject
) -> None:
    stream = _signal(data.draw(st.sampled_from(streams)))
    events = data.draw(mangled(stream))
    turns, call = replay(events)
    assert_consistent(turns, call)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_nothing_valid_is_lost(streams: list[list[ev.Event]], data: st.DataObject) -> None:
    stream = _signal(data.draw(st.sampled_from(streams)))
    dropped = data.draw(st.sets(st.integers(0, len(stream) - 1), max_size=len(stream) // 3))
    events = [e for i, e in enumerate(stream) if i not in dropped]
    duplicates = data.draw(st.lists(st.sampled_from(events), max_size=5)) if events else []
    turns, call = replay(events + duplicates)
    assert_consistent(turns, call)
    fed = {
        (kind, e.request_id)
        for e in events
        for kind in [("llm" if isinstance(e, ev.LLMRequest) else "tts")]
        if isinstance(e, (ev.LLMRequest, ev.TTSRequest)) and e.speech_id is not None
    }
    lost = fed - placed_requests(turns)
    assert len(lost) <= call.late_events + call.unattributed_requests
    scheduled = {e.speech_id for e in events if isinstance(e, ev.SpeechDone) and e.scheduled}
    assert scheduled <= {t.speech_id for t in turns}
    said = {e.text for e in events if isinstance(e, ev.UserMessage)}
    assert said <= {t.user_text for t in turns}


def test_events_after_close_change_nothing_already_emitted(
    streams: list[list[ev.Event]],
) -> None:
    turns: list[Turn] = []
    calls: list[Call] = []
    recorder = CallRecorder("call", on_turn=turns.append, on_call=calls.append)
    stream = streams[0]
    half = len(stream) // 2
    for event in stream[:half]:
        recorder.feed(event)
    recorder.close()
    emitted = len(turns)
    for event in stream[half:]:
        recorder.feed(event)
    recorder.close()
    assert len(turns) == emitted  # no turn after close
    assert len(calls) == 1  # and the call was emitted once
    assert emitted >= 1
    assert calls[0].turns == emitted


# -- what LiveKit really sends: repeats, zeros for "unknown", contradictions -----------------


@st.composite
def livekit_odd(draw: st.DrawFn, stream: list[ev.Event]) -> list[ev.Event]:
    """The stream with the odd reports real deployments send (issue 17): STT usage reported
    twice, requests whose usage came as zeros (cancelled or not reported), EOU delays of 0.0,
    user messages that stop before they start, negative or huge e2e, cached tokens above the
    prompt — each applied to events hypothesis picks."""
    events = list(stream)
    picked = draw(st.sets(st.integers(0, len(events) - 1), max_size=len(events) // 2))
    variants = draw(st.lists(st.integers(0, 2), min_size=len(picked), max_size=len(picked)))
    for i, variant in zip(sorted(picked, reverse=True), variants, strict=True):
        e = events[i]
        if isinstance(e, ev.STTUsage):
            events.insert(i, e)  # the same report twice
        elif isinstance(e, ev.LLMRequest) and variant == 2:
            events[i] = dataclasses.replace(e, cached_tokens=e.prompt_tokens + 50)
        elif isinstance(e, ev.LLMRequest):
            events[i] = dataclasses.replace(
                e, prompt_tokens=0, completion_tokens=0, total_tokens=0, cancelled=variant == 1
            )
        elif isinstance(e, ev.EndOfTurn):
            events[i] = dataclasses.replace(e, end_of_utterance_delay=0.0)
        elif isinstance(e, ev.UserMessage) and e.started_speaking_at is not None:
            events[i] = dataclasses.replace(e, stopped_speaking_at=e.started_speaking_at - 200)
        elif isinstance(e, ev.AgentMessage) and e.e2e_latency is not None:
            events[i] = dataclasses.replace(e, e2e_latency=(-0.4, 204.0, 12.0)[variant])
    return events


NON_NEGATIVE_TURN = (
    "e2e",
    "total_latency",
    "transcription_delay",
    "end_of_utterance_delay",
    "heard_seconds",
)
SIGNED_PARTS = ("preemptive_overlap", "other")
"""Breakdown parts that are signed by design (an overlap; what the parts do not explain)."""


def assert_measured_or_explained(turns: list[Turn], call: Call, fed: list[ev.Event]) -> None:
    """Nothing negative, nothing counted twice, every null has a reason."""
    assert call.ended_at >= call.started_at
    reported = {(e.request_id, e.at, e.audio_duration) for e in fed if isinstance(e, ev.STTUsage)}
    assert call.stt_audio <= sum(audio for _, _, audio in reported) + 1e-6
    assert sum(r.audio_duration for t in turns for r in t.requests if r.kind == "stt") <= (
        call.stt_audio + 1e-6
    )
    for turn in turns:
        for name in NON_NEGATIVE_TURN:
            value = getattr(turn, name)
            assert value is None or value >= 0, (name, value)
        if turn.breakdown is not None:
            for part in Breakdown.PARTS:
                value = getattr(turn.breakdown, part)
                assert part in SIGNED_PARTS or value is None or value >= 0, (part, value)
        for flag in turn.suspect:
            assert getattr(turn, flag.field, None) is None  # shown raw, never counted
        if turn.end_of_utterance_delay is None and turn.eou_detector is not None:
            assert "end_of_utterance_delay" in dict(turn.unknown)
        priced = price_turn(turn, PRICER)
        for r in priced.requests:
            assert r.duration is None or r.duration >= 0
            if r.kind in MODEL_KINDS and not (r.prompt_tokens or r.completion_tokens):
                assert "prompt_tokens" in dict(r.unknown)  # a zero is never a measurement
            if r.cost_usd is None:
                assert "cost_usd" in dict(r.unknown) or r.suspect, r
            else:
                assert r.cost_usd >= 0
        assert priced.cost is not None
        if priced.cost.total is None:
            assert "cost_usd" in dict(priced.unknown)
        else:
            assert priced.cost.total >= 0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_repeated_zeroed_and_contradictory_reports_are_counted_once_or_explained(
    streams: list[list[ev.Event]], data: st.DataObject
) -> None:
    stream = _signal(data.draw(st.sampled_from(streams)))
    events = data.draw(livekit_odd(stream))
    turns, call = replay(events)
    assert_consistent(turns, call)
    assert_measured_or_explained(turns, call, events)


def test_stt_reported_twice_counts_as_once(streams: list[list[ev.Event]]) -> None:
    for stream in streams:
        doubled = [x for e in stream for x in ([e, e] if isinstance(e, ev.STTUsage) else [e])]
        _, once = replay(stream)
        _, twice = replay(doubled)
        assert twice.stt_audio == pytest.approx(once.stt_audio)
        metered = sum(isinstance(e, ev.STTUsage) and e.audio_duration > 0 for e in stream)
        assert twice.stt_duplicates == once.stt_duplicates + metered
