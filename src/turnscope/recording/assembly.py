"""Assembling a finished Turn from a pending one: its messages, outcome, breakdown, requests,
tools and errors, claimed from the call's pools at the moment the turn is emitted."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from turnscope import events as ev
from turnscope.recording import plausibility as pl
from turnscope.recording.breakdown import (
    breakdown,
    realtime_breakdown,
    realtime_total_latency,
    total_latency,
)
from turnscope.recording.requests import (
    llm_outputs,
    llm_request,
    realtime_output,
    tool_errors,
    tts_request,
)
from turnscope.recording.requests import realtime_request as realtime_record
from turnscope.records import MODEL_KINDS, InputModality, Outcome, Turn, TurnSource

if TYPE_CHECKING:
    from collections.abc import Sequence

    from turnscope.recording.matching import TurnMatcher
    from turnscope.recording.pending import PendingTurn
    from turnscope.recording.stt_meter import STTMeter
    from turnscope.records import Breakdown, ComponentRequest, ErrorRecord, Suspect, Unknown

__all__ = ["assemble", "first_audio"]


def assemble(
    pending: PendingTurn,
    index: int,
    *,
    call_id: str,
    matcher: TurnMatcher,
    stt: STTMeter,
    now: float,
    grace: float,
    call_started_at: float | None = None,
    answers: Sequence[PendingTurn] = (),
) -> Turn:
    """The finished turn. Claims (removes) what it uses from ``matcher``'s pools.

    Args:
        pending: what was gathered for the turn.
        index: the turn's 1-based position in the call.
        call_id: the call it belongs to.
        matcher: the call's pools of messages, responses, tools, errors and inputs.
        stt: the call's STT meter; the turn takes its share of the user's speech window.
        now: the recorder's time (seconds), the end of a speech not yet done.
        grace: seconds late reports are still taken after a speech is done.
        call_started_at: the call's first event; an e2e measured from before it is suspect.
        answers: speeches created after this user turn was committed with no user turn
            of their own; if one played before this turn's own reply, it answered it.
    """
    messages = matcher.take_messages(pending)
    reply = next((m for m in messages if m.e2e_latency is not None), None)
    reply = reply or (messages[0] if messages else None)
    user = pending.user
    window = pending.window()
    eou = pending.eou or _eou_from_message(user)
    suspect: list[Suspect] = list(pending.suspect)
    realtime = matcher.claim_realtime(pending, messages, now)
    e2e = reply.e2e_latency if reply is not None and user is not None else None
    if e2e is None and realtime and user is not None and reply is not None and window:
        e2e = _realtime_e2e(reply, window)  # LiveKit < 1.8.1 puts none on the message
    answer = (
        None if realtime or user is None or window is None else _answer(messages, answers, matcher)
    )
    if answer is not None and window is not None:
        reply = answer[1]
        e2e = (reply.started_speaking_at or window[1]) - window[1]
    e2e, odd = pl.check_e2e(
        e2e,
        first_audio_at=reply.started_speaking_at if reply is not None else None,
        window=window,
        call_started_at=call_started_at,
    )
    suspect += [odd] if odd else []
    parts = _checked(
        _breakdown(pending, eou, e2e, reply, realtime, window, answer[0] if answer else None),
        e2e,
        suspect,
    )
    requests = _requests(pending, window, messages, realtime, matcher, stt)
    errors = matcher.take_errors(pending, requests, now)
    parts = _with_tts_retry(parts, requests, errors) if answer is None else parts
    interrupted = bool(pending.done and pending.done.interrupted) or any(
        m.interrupted for m in messages
    )
    outcome = _outcome(pending, messages, errors, interrupted)
    if answer is not None and outcome == "no_reply":
        outcome = "answered"  # another speech answered: the caller heard a reply
    if outcome == "failed":
        messages = []  # LiveKit < 1.8.6 keeps the failed reply, never played, in the history
    heard, odd = pl.non_negative(
        "heard_seconds",
        matcher.heard(pending, messages, now, grace) if outcome == "interrupted" else None,
    )
    suspect += [odd] if odd else []
    eou_delay, not_measured = pl.measured_delay(
        "end_of_utterance_delay", eou.end_of_utterance_delay if eou else None
    )
    agent_start = messages[0].started_speaking_at if messages else None
    agent_stop = messages[-1].stopped_speaking_at if messages else None
    started = window[0] if window else pending.created_at
    ends = (agent_stop, pending.done.at if pending.done else None, window and window[1])
    ended = max([started, *(x for x in ends if x is not None)])
    tools = matcher.take_tools(pending)
    # after the outcome: a failed tool is handed back to the LLM, it does not drop the reply
    errors = tuple(sorted((*errors, *tool_errors(tools)), key=lambda e: e.at))
    return Turn(
        call_id=call_id,
        index=index,
        speech_id=pending.speech_id,
        source=_source(pending, window),
        outcome=outcome,
        started_at=started,
        ended_at=ended,
        user_text=user.text if user else (" ".join(f.text for f in pending.unanswered) or None),
        user_started_at=window[0] if window else None,
        user_stopped_at=window[1] if window else None,
        agent_text=" ".join(m.text for m in messages) or None,
        agent_messages=tuple(m.text for m in messages),
        agent_started_at=agent_start,
        agent_stopped_at=agent_stop,
        interrupted=outcome == "interrupted",
        preemptive=bool(pending.folded) or (parts is not None and parts.preemptive_overlap < 0),
        discarded_attempts=len(pending.folded),
        e2e=e2e,
        breakdown=parts,
        total_latency=(
            realtime_total_latency(eou, parts, realtime)
            if realtime
            else total_latency(eou, pending.llm, pending.tts)
        ),
        transcription_delay=user.transcription_delay if user else None,
        end_of_utterance_delay=eou_delay,
        eou_detector=eou.detector if eou else None,
        heard_seconds=heard,
        agent_name=pending.agent,
        input_modality=_input_modality(pending, window),
        handoff_to=matcher.claim_handoff(pending, now, grace),
        answered_by=answer[0].speech_id if answer else None,
        requests=requests,
        tools=tools,
        errors=errors,
        suspect=tuple(suspect),
        unknown=(*([not_measured] if not_measured else []), *_unknown_usage(requests)),
    )


def _checked(
    parts: Breakdown | None, e2e: float | None, suspect: list[Suspect]
) -> Breakdown | None:
    """The breakdown with a negative sentence aggregation (LiveKit's first sentence before
    its first token) clamped if it is noise, else left out and flagged."""
    if parts is None or e2e is None:
        return parts
    aggregation, odd = pl.non_negative("sentence_aggregation", parts.sentence_aggregation)
    if aggregation == parts.sentence_aggregation:
        return parts
    suspect += [odd] if odd else []
    fixed = replace(parts, sentence_aggregation=aggregation, other=0.0)
    return replace(fixed, other=e2e - fixed.explained())


def _unknown_usage(requests: tuple[ComponentRequest, ...]) -> tuple[Unknown, ...]:
    """The turn's token sums are not measurements when one of its model requests' are not."""
    for r in requests:
        reasons = dict(r.unknown)
        if r.kind in MODEL_KINDS and "prompt_tokens" in reasons:
            reason = reasons["prompt_tokens"]
            return (("prompt_tokens", reason), ("completion_tokens", reason))
    return ()


def first_audio(messages: Sequence[ev.AgentMessage]) -> ev.AgentMessage | None:
    """The message that began playing first, among those that played."""
    played = [m for m in messages if m.started_speaking_at is not None]
    return min(played, key=lambda m: m.started_speaking_at or 0.0) if played else None


def _answer(
    messages: list[ev.AgentMessage], answers: Sequence[PendingTurn], matcher: TurnMatcher
) -> tuple[PendingTurn, ev.AgentMessage] | None:
    """Another speech whose audio the caller heard before this turn's own reply (if any):
    the first such, with the message that played first."""
    own = first_audio(messages)
    best: tuple[PendingTurn, ev.AgentMessage] | None = None
    for speech in answers:
        if speech.eou is not None or speech.user is not None:
            continue  # it answered a user turn of its own
        said = speech.messages if speech.messages is not None else matcher.peek_messages(speech)
        heard = first_audio(said)
        if heard is None or heard.started_speaking_at is None:
            continue
        if own is not None and (own.started_speaking_at or 0.0) <= heard.started_speaking_at:
            continue
        if best is None or heard.started_speaking_at < (best[1].started_speaking_at or 0.0):
            best = (speech, heard)
    return best


def _breakdown(
    pending: PendingTurn,
    eou: ev.EndOfTurn | None,
    e2e: float | None,
    reply: ev.AgentMessage | None,
    realtime: list[ev.RealtimeRequest],
    window: tuple[float, float] | None,
    answer: PendingTurn | None = None,
) -> Breakdown | None:
    """The parts of a measured e2e: a pipeline reply's, or a realtime model's; when another
    speech answered, up to that speech's first audio."""
    user = pending.user
    if e2e is None or user is None or reply is None:
        return None
    queue_wait = pending.done.queue_wait if pending.done else None
    if answer is not None:
        return breakdown(
            e2e=e2e,
            user=user,
            reply=reply,
            llm=pending.llm,
            queue_wait=answer.done.queue_wait if answer.done else None,
            created_at=pending.created_at,
            answer=(answer.created_at, answer.llm),
        )
    if realtime:
        return realtime_breakdown(
            e2e=e2e,
            reply=reply,
            responses=realtime,
            eou=eou,
            user_stopped_at=window[1] if window else None,
            committed_at=pending.created_at,
            queue_wait=queue_wait,
        )
    return breakdown(
        e2e=e2e,
        user=user,
        reply=reply,
        llm=pending.llm,
        queue_wait=queue_wait,
        created_at=pending.created_at,
    )


def _with_tts_retry(
    parts: Breakdown | None,
    requests: tuple[ComponentRequest, ...],
    errors: tuple[ErrorRecord, ...],
) -> Breakdown | None:
    """The breakdown with the time lost to failed TTS attempts as its own part.

    LiveKit retries a synthesis after a recoverable error within the same request, and its
    first-byte times (the request's and the message's) run from the first attempt. When the
    request that spoke first had recoverable errors, the time from its start to the last of
    them is ``tts_retry``; ``tts_first_byte`` keeps the rest: the backoff and the attempt
    that worked."""
    if parts is None or parts.tts_first_byte is None:
        return parts
    spoken = [r for r in requests if r.kind == "tts" and not r.discarded]
    if not spoken:
        return parts
    first = min(spoken, key=lambda r: r.started_at)
    failed = [
        e.at
        for e in errors
        if e.component == "tts" and e.recoverable and e.request_id == first.request_id
    ]
    if not failed:
        return parts
    lost = min(max(failed) - first.started_at, parts.tts_first_byte)
    if lost <= 0:
        return parts
    return replace(parts, tts_retry=lost, tts_first_byte=parts.tts_first_byte - lost)


def _outcome(
    pending: PendingTurn,
    messages: list[ev.AgentMessage],
    errors: tuple[ErrorRecord, ...],
    interrupted: bool,
) -> Outcome:
    if pending.speech_id is None:
        return "no_reply"
    # LiveKit < 1.8.6 adds a reply whose speech failed to the history: it never played
    played = [m for m in messages if m.started_speaking_at is not None]
    if not played and any(not e.recoverable for e in errors):
        return "failed"  # dropped by an error, even if closing then interrupted it
    if interrupted:
        return "interrupted" if played else "superseded"
    if messages:
        return "answered"
    return "failed" if errors else "no_reply"


def _eou_from_message(user: ev.UserMessage | None) -> ev.EndOfTurn | None:
    """A user turn's delays from its ``ChatMessage.metrics`` (LiveKit's replacement for the
    deprecated session ``metrics_collected``): the same values ``EOUMetrics`` carries, all but
    the detector, when no ``EOUMetrics`` came for the turn."""
    if user is None or user.end_of_turn_delay is None:
        return None
    return ev.EndOfTurn(
        at=user.at,
        speech_id=None,
        end_of_utterance_delay=user.end_of_turn_delay,
        transcription_delay=user.transcription_delay,
        on_user_turn_completed_delay=user.on_user_turn_completed_delay,
        detector=None,
    )


def _realtime_e2e(reply: ev.AgentMessage, window: tuple[float, float]) -> float | None:
    """A realtime reply's e2e when LiveKit (< 1.8.1) puts none on the message: LiveKit's own
    formula (1.8.9 ``agent_activity``): the reply's first speaking time minus the user's end
    of speech, the backdated ``user_state_changed`` time the window ends at."""
    started = reply.started_speaking_at
    if started is None or started < window[1]:
        return None
    return started - window[1]


def _requests(
    pending: PendingTurn,
    window: tuple[float, float] | None,
    messages: list[ev.AgentMessage],
    realtime: list[ev.RealtimeRequest],
    matcher: TurnMatcher,
    stt: STTMeter,
) -> tuple[ComponentRequest, ...]:
    """Every request the turn made, in start order: its STT share first."""
    shares = stt.share(window) if window is not None else []
    tools = matcher.tools_of(pending)
    outputs = llm_outputs(pending.llm, messages, tools)
    own = [realtime_record(r, realtime_output(r, realtime, messages, tools)) for r in realtime]
    own += [
        matcher.with_input(
            llm_request(r, discarded=False, output=outputs.get(r.request_id)), pending
        )
        for r in pending.llm
    ]
    own += [tts_request(r, discarded=False) for r in pending.tts]
    for attempt in pending.folded:
        own += [matcher.with_input(llm_request(r, discarded=True), attempt) for r in attempt.llm]
        own += [tts_request(r, discarded=True) for r in attempt.tts]
    return tuple(shares + sorted(own, key=lambda r: r.started_at))


def _source(pending: PendingTurn, window: tuple[float, float] | None) -> TurnSource:
    if pending.speech_id is None:
        return "none"
    user = pending.user
    if window is not None or (user is not None and pending.modality == "text"):
        return "user"
    if user is not None and user.stopped_speaking_at is not None:
        return "user"  # LiveKit timed the user's speech (even if its window contradicts)
    return "say" if pending.source == "say" else "generate_reply"


def _input_modality(
    pending: PendingTurn, window: tuple[float, float] | None
) -> InputModality | None:
    if pending.user is not None and pending.modality == "text" and window is None:
        return "text"
    if window is not None or pending.unanswered:
        return "audio"
    return None
