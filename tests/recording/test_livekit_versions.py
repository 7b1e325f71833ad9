"""What older LiveKit versions do not send, rebuilt or recorded as unknown (issue 22).

CI also runs this directory on livekit-agents 1.5.3, 1.6.10 and 1.8.0, where the simulated
calls really lack these fields. Here, on any version, real event streams captured from
simulated calls are replayed as an older LiveKit would have sent them (the field removed,
the history as it was), so each fallback is exercised on the newest release too.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

import pytest
from livekit.agents import AgentSession, llm
from livekit.agents.voice.events import FunctionToolsExecutedEvent

from tests.conftest import livekit_has
from tests.recording.test_recorder_properties import replay
from turnscope import events as ev
from turnscope.export import semconv as sc
from turnscope.export.spantree import turn_plan
from turnscope.livekit import convert
from turnscope.livekit.adapter import LiveKitAdapter
from turnscope.pricing import Pricer, load_catalog

if TYPE_CHECKING:
    from tests.conftest import SimulationCache
    from turnscope.records import Turn


def _raise(error: BaseException) -> None:
    raise error


# -- counts LiveKit added later: null with a reason, never a measured 0 -----------------------


def test_llm_metrics_without_the_newer_counts_are_recorded_with_them_unknown() -> None:
    from livekit.agents.metrics import LLMMetrics

    reported = LLMMetrics(
        label="openai.LLM",
        request_id="req-1",
        timestamp=1_700_000_000.0,
        duration=0.8,
        ttft=0.3,
        cancelled=False,
        completion_tokens=20,
        prompt_tokens=100,
        prompt_cached_tokens=40,
        total_tokens=120,
        tokens_per_second=25.0,
    )
    converted = convert.metrics_event(_Without(reported, ["cache_creation_tokens"]), 0.0)
    assert isinstance(converted, ev.LLMRequest)
    assert converted.cache_creation_tokens is None
    # where the version has the field, its 0 is a measurement
    assert converted.reasoning_tokens == (0 if livekit_has("llm_reasoning_tokens") else None)
    converted = convert.metrics_event(
        _Without(reported, ["cache_creation_tokens", "reasoning_tokens"]), 0.0
    )
    assert isinstance(converted, ev.LLMRequest)
    assert (converted.cache_creation_tokens, converted.reasoning_tokens) == (None, None)
    assert converted.prompt_tokens == 100
    assert converted.cached_tokens == 40


class _Without:
    """A LiveKit metrics object as an older release built it: some fields do not exist.
    (A proxy, because pydantic models keep every declared field; ``isinstance`` still holds
    through ``__class__``.)"""

    def __init__(self, metrics: Any, missing: list[str]) -> None:
        self._metrics, self._missing = metrics, missing

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return type(self._metrics)

    def __getattr__(self, name: str) -> Any:
        if name in self._missing:
            raise AttributeError(name)
        return getattr(self._metrics, name)


def test_an_older_livekits_llm_request_keeps_its_cost_and_names_what_it_lacks(
    simulations: SimulationCache,
) -> None:
    events = simulations.recorded("basic").events
    newest, _ = replay([_with_counts(e, 0, 0) for e in events])  # as 1.8+ reports them
    older, _ = replay([_with_counts(e, None, None) for e in events])  # as 1.5.x does
    pricer = Pricer(load_catalog())
    for new_turn, old_turn in zip(newest, older, strict=True):
        new = [r for r in new_turn.requests if r.kind == "llm"]
        old = [r for r in old_turn.requests if r.kind == "llm"]
        assert [r.prompt_tokens for r in old] == [r.prompt_tokens for r in new]
        for record in old:
            assert set(record.unknown) == {
                ("cache_creation_tokens", "not_reported_by_livekit"),
                ("reasoning_tokens", "not_reported_by_livekit"),
            }
            assert pricer.request(record).cost_usd is not None  # still priced
            attributes = _llm_span_attributes(old_turn, record.request_id)
            assert sc.REASONING_TOKENS not in attributes
            assert sc.CACHE_CREATION_TOKENS not in attributes
            assert sc.LLM_CACHE_CREATION_TOKENS not in attributes
        for record in new:
            assert record.unknown == ()
            attributes = _llm_span_attributes(new_turn, record.request_id)
            assert attributes[sc.REASONING_TOKENS] == 0  # measured: none
            assert attributes[sc.CACHE_CREATION_TOKENS] == 0


def _with_counts(event: ev.Event, cache_creation: int | None, reasoning: int | None) -> ev.Event:
    if not isinstance(event, ev.LLMRequest):
        return event
    return dataclasses.replace(
        event, cache_creation_tokens=cache_creation, reasoning_tokens=reasoning
    )


def _llm_span_attributes(turn: Turn, request_id: str) -> dict[str, Any]:
    spans = [s for s in turn_plan(turn, capture=False).walk() if s.name == "llm"]
    (span,) = [s for s in spans if s.attributes.get("gen_ai.response.id") == request_id]
    return dict(span.attributes)


# -- tools before 1.6.5: only function_tools_executed ------------------------------------------


async def test_a_tool_with_no_status_event_is_started_at_its_calls_creation() -> None:
    seen: list[ev.Event] = []
    session: AgentSession[None] = AgentSession()
    LiveKitAdapter(session, seen.append, on_internal_error=_raise).attach()
    now = time.time()  # LiveKit's times are checked against the clock (issue 17)
    called, answered, reported = now - 0.5, now - 0.1, now
    announced = llm.FunctionCall(call_id="c2", name="book", arguments="{}", created_at=called)
    if livekit_has("tool_status_events"):  # the sibling: a call LiveKit did announce
        from livekit.agents.voice.events import ToolCallStarted, ToolExecutionUpdatedEvent

        session.emit(
            "tool_execution_updated",
            ToolExecutionUpdatedEvent(
                update=ToolCallStarted(function_call=announced), created_at=called + 0.01
            ),
        )
    session.emit(
        "function_tools_executed",
        FunctionToolsExecutedEvent(
            function_calls=[
                llm.FunctionCall(
                    call_id="c1", name="weather", arguments='{"city": "Paris"}', created_at=called
                ),
                announced,
            ],
            function_call_outputs=[
                llm.FunctionCallOutput(
                    call_id="c1",
                    name="weather",
                    output="sunny",
                    is_error=False,
                    created_at=answered,
                ),
                llm.FunctionCallOutput(
                    call_id="c2", name="book", output="no table", is_error=True, created_at=answered
                ),
            ],
            created_at=reported,
        ),
    )
    started: dict[str, ev.ToolStarted] = {}
    for e in seen:  # the recorder keeps the first start it hears of a call
        if isinstance(e, ev.ToolStarted):
            started.setdefault(e.call_id, e)
    assert (started["c1"].at, started["c1"].name) == (called, "weather")
    assert started["c1"].arguments == '{"city": "Paris"}'
    ended = [(e.call_id, e.at, e.status, e.output) for e in seen if isinstance(e, ev.ToolEnded)]
    # the rebuilt call's exact end comes first, so the recorder keeps it
    assert ended[0] == ("c1", answered, "done", "sunny")
    if livekit_has("tool_status_events"):
        assert started["c2"].at == called + 0.01  # its status event's time, not rebuilt
        assert ("c2", reported, "error", "no table") in ended
    else:
        assert started["c2"].at == called
        assert ("c2", answered, "error", "no table") in ended


# -- realtime e2e before 1.8.1 --------------------------------------------------------------


def test_realtime_e2e_is_livekits_own_formula_when_the_message_lacks_it(
    simulations: SimulationCache,
) -> None:
    events = simulations.recorded("realtime").events
    newest, _ = replay(events)
    stripped = [
        dataclasses.replace(e, e2e_latency=None) if isinstance(e, ev.AgentMessage) else e
        for e in events
    ]
    older, _ = replay(stripped)
    timed = [(n, o) for n, o in zip(newest, older, strict=True) if n.e2e is not None]
    assert len(timed) >= 3
    for new, old in timed:
        assert old.e2e is not None
        assert old.e2e == pytest.approx(new.e2e, abs=0.005)  # both from LiveKit's clock reads
        assert old.breakdown is not None
    # a pipeline reply without e2e stays without: the formula is LiveKit's for realtime only
    pipeline = [
        dataclasses.replace(e, e2e_latency=None) if isinstance(e, ev.AgentMessage) else e
        for e in simulations.recorded("basic").events
    ]
    assert all(t.e2e is None for t in replay(pipeline)[0])


# -- a reply whose TTS failed, kept in the history before 1.8.6 ------------------------------


def _as_before_1_8_6(events: list[ev.Event], failed: str, *, played: bool) -> list[ev.Event]:
    """The stream with the failed speech's never-played reply in the history."""
    out: list[ev.Event] = []
    for e in events:
        if isinstance(e, ev.SpeechDone) and e.speech_id == failed:
            out.append(
                ev.AgentMessage(
                    at=e.at - 0.01,
                    item_id="item_unplayed",
                    text="Here is the fine print.",
                    interrupted=False,
                    started_speaking_at=e.at - 0.5 if played else None,
                    stopped_speaking_at=e.at - 0.1 if played else None,
                    llm_node_ttft=0.2,
                    llm_node_ttfs=None,
                    tts_node_ttfb=None,
                    playback_latency=None,
                    e2e_latency=None,
                    provider_request_ids=(),
                )
            )
            e = dataclasses.replace(e, message_ids=("item_unplayed",))
        out.append(e)
    return out


def test_a_reply_whose_tts_failed_is_failed_even_in_the_history(
    simulations: SimulationCache,
) -> None:
    events = simulations.recorded("errors").events
    newest, _ = replay(events)
    (failed,) = [t for t in newest if t.outcome == "failed"]
    assert failed.speech_id is not None
    older, _ = replay(_as_before_1_8_6(events, failed.speech_id, played=False))
    assert [t.outcome for t in older] == [t.outcome for t in newest]
    (again,) = [t for t in older if t.speech_id == failed.speech_id]
    assert again.agent_text is None
    assert again.agent_started_at is None
    # a sibling: a reply that did play before its error is not a failed turn
    played, _ = replay(_as_before_1_8_6(events, failed.speech_id, played=True))
    (spoken,) = [t for t in played if t.speech_id == failed.speech_id]
    assert spoken.outcome == "answered"
    assert spoken.agent_text == "Here is the fine print."


# -- one TTS failure reported once per attempt (1.4–1.5) ------------------------------------


def _tts_errors_repeated(events: list[ev.Event], *flags: bool) -> list[ev.Event]:
    """The stream with each TTS error sent once per flag, as LiveKit 1.4–1.5 does."""
    out: list[ev.Event] = []
    for e in events:
        if isinstance(e, ev.ErrorRaised) and e.component == "tts" and e.recoverable:
            continue  # LiveKit < 1.6.5 already repeated it: start from the final one alone
        if isinstance(e, ev.ErrorRaised) and e.component == "tts":
            out += [dataclasses.replace(e, recoverable=flag) for flag in flags]
        else:
            out.append(e)
    return out


def test_one_tts_failure_reported_per_attempt_counts_once(simulations: SimulationCache) -> None:
    events = simulations.recorded("errors").events
    newest, _ = replay(events)
    # LiveKit 1.5 retries a non-retryable TTS error: recoverable twice, then final
    older, call = replay(_tts_errors_repeated(events, True, True, False))
    assert [t.outcome for t in older] == [t.outcome for t in newest]
    tts = [e for t in older for e in t.errors if e.component == "tts"]
    assert [(e.recoverable, e.message) for e in tts] == [
        (False, e.message) for t in newest for e in t.errors if e.component == "tts"
    ]
    assert not [e for e in call.errors if e.component == "tts"]
    # a sibling: a retried error that then succeeded is one recoverable error, not two
    retried, _ = replay(_tts_errors_repeated(events, True, True))
    tts = [e for t in retried for e in t.errors if e.component == "tts"]
    assert [e.recoverable for e in tts] == [True]


def test_different_tts_errors_in_a_turn_are_each_kept(simulations: SimulationCache) -> None:
    out: list[ev.Event] = []
    for e in simulations.recorded("errors").events:
        if isinstance(e, ev.ErrorRaised) and e.component == "tts":
            out.append(dataclasses.replace(e, at=e.at - 0.01, message="timeout", recoverable=True))
        out.append(e)
    turns, _ = replay(out)
    tts = [e for t in turns for e in t.errors if e.component == "tts"]
    assert sorted((e.message == "timeout", e.recoverable) for e in tts) == [
        (False, False),
        (True, True),
    ]


# -- forward: the deprecated session-level metrics_collected ---------------------------------


def test_livekit_still_forwards_every_metric_to_the_session_event(
    simulations: SimulationCache,
) -> None:
    """turnscope's per-request usage comes from the session's ``metrics_collected``, which
    LiveKit deprecates: this fails the day a release stops emitting it (a removed event
    would register silently and never fire). See docs/livekit-versions.md for what breaks."""
    from livekit.agents.metrics import EOUMetrics, LLMMetrics, TTSMetrics

    recorded = simulations.recorded("basic")
    plugin = recorded.simulation.metrics  # what the plugins emitted on their own emitters
    seen = recorded.events  # what reached turnscope through the session's event
    for kind, neutral in ((LLMMetrics, ev.LLMRequest), (TTSMetrics, ev.TTSRequest)):
        emitted = {m.request_id for m in plugin if isinstance(m, kind)}
        assert emitted
        assert {e.request_id for e in seen if isinstance(e, neutral)} == emitted
    user_turns = [e for e in seen if isinstance(e, ev.UserMessage)]
    assert len([e for e in seen if isinstance(e, ev.EndOfTurn)]) == len(user_turns)
    assert not [m for m in plugin if isinstance(m, EOUMetrics)]  # only the session has EOU


def test_end_of_utterance_delays_come_from_the_user_message_without_eou_metrics(
    simulations: SimulationCache,
) -> None:
    """``ChatMessage.metrics``, LiveKit's replacement for the session's EOU metrics, gives a
    turn the same delays when no ``EOUMetrics`` arrives (dropped, or a 2.0 without it)."""
    events = simulations.recorded("basic").events
    newest, _ = replay(events)
    without, _ = replay([e for e in events if not isinstance(e, ev.EndOfTurn)])
    assert [t.outcome for t in without] == [t.outcome for t in newest]
    measured = [t for t in newest if t.end_of_utterance_delay is not None]
    assert measured
    for new, old in zip(newest, without, strict=True):
        assert old.end_of_utterance_delay == new.end_of_utterance_delay
        assert old.transcription_delay == new.transcription_delay
        assert old.total_latency == new.total_latency
        assert old.eou_detector is None  # only EOUMetrics names the detector
