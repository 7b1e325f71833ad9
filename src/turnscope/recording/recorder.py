"""CallRecorder: neutral events in, complete Turn and Call records out (DESIGN §4).

Pure logic: no I/O and no clock of its own — time only moves when an event arrives or the
caller calls ``advance(now)``. That makes it testable with plain event lists, in any order.

A turn is one agent speech (keyed by ``speech_id``) plus the user utterance that triggered
it. It is finalized when LiveKit reports the speech done, plus a short grace for late
metrics; never because another turn began (LiveKit queues speeches). A speech that is done
without ever being scheduled was a discarded preemptive attempt: it is folded, flagged,
into the next speech created after it. A user utterance that gets no speech at all is a
``no_reply`` turn of its own.
"""

from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from turnscope import events as ev
from turnscope.recording.breakdown import (
    breakdown,
    realtime_breakdown,
    realtime_total_latency,
    request_start,
    total_latency,
)
from turnscope.recording.stt_meter import STTMeter
from turnscope.records import (
    Call,
    ComponentRequest,
    ErrorRecord,
    InputModality,
    Outcome,
    ToolRecord,
    Turn,
    TurnSource,
)

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["CallRecorder"]

INPUT_MATCH_WINDOW = 0.25
"""Seconds between a captured LLM input and its request's start for them to be one."""
ADOPT_WINDOW = 0.5
"""Seconds a realtime user message may precede the speech created for it."""
MAX_UNCLAIMED_REALTIME = 64
"""Realtime responses kept while waiting for their turn; beyond, the oldest is let go."""


@dataclass
class _Pending:
    """A turn being assembled."""

    speech_id: str | None
    created_at: float
    source: str = "generate_reply"
    agent: str | None = None
    modality: str | None = None
    user: ev.UserMessage | None = None
    eou: ev.EndOfTurn | None = None
    llm: list[ev.LLMRequest] = field(default_factory=list)
    tts: list[ev.TTSRequest] = field(default_factory=list)
    done: ev.SpeechDone | None = None
    folded: list[_Pending] = field(default_factory=list)
    unanswered: list[ev.UserTranscript] = field(default_factory=list)
    """No-reply turns: the final transcripts nobody answered."""
    user_window: tuple[float, float] | None = None

    @property
    def discarded(self) -> bool:
        return self.done is not None and not self.done.scheduled

    def window(self) -> tuple[float, float] | None:
        """When the user spoke, for this turn."""
        if self.user is not None:
            start, stop = self.user.started_speaking_at, self.user.stopped_speaking_at
            if start is not None and stop is not None and stop >= start:
                return (start, stop)
        return self.user_window


class CallRecorder:
    """Assembles one call's turns. Feed it events; it calls ``on_turn`` once per turn and
    ``on_call`` once at close."""

    def __init__(
        self,
        call_id: str,
        *,
        on_turn: Callable[[Turn], None],
        on_call: Callable[[Call], None],
        grace: float = 0.5,
        stt_wait: float = 6.0,
        no_reply_after: float = 6.0,
        started_at: float | None = None,
    ) -> None:
        self.call_id = call_id
        self._on_turn = on_turn
        self._on_call = on_call
        self.grace = grace
        self.stt_wait = stt_wait
        self.no_reply_after = no_reply_after
        self._started_at = started_at
        self._now = started_at or 0.0
        self._open: dict[str, _Pending] = {}
        self._no_reply: list[_Pending] = []
        self._awaiting_user: list[str] = []
        self._agent_messages: dict[str, ev.AgentMessage] = {}
        self._realtime: dict[str, ev.RealtimeRequest] = {}
        """Realtime responses no turn has claimed yet (they carry no speech id)."""
        self._claimed_realtime: deque[str] = deque(maxlen=256)
        self._handoffs: list[ev.AgentHandoff] = []
        self._handoffs_unclaimed: list[ev.AgentHandoff] = []
        self._llm_inputs: deque[ev.LLMInput] = deque(maxlen=64)
        self._cut_off: deque[ev.PlaybackFinished] = deque(maxlen=32)
        self._finals: list[ev.UserTranscript] = []
        self._speech_windows: deque[tuple[float, float]] = deque(maxlen=32)
        self._speaking_since: float | None = None
        self._user_state = "listening"
        self._tools_started: dict[str, ev.ToolStarted] = {}
        self._tools_ended: dict[str, ev.ToolEnded] = {}
        self._errors: list[ev.ErrorRaised] = []
        self._stt = STTMeter()
        self._emitted: deque[str] = deque(maxlen=256)
        self._turns = 0
        self._late = 0
        self._dropped = 0
        self._unattributed = 0
        self._user_states: list[tuple[float, str]] = []
        self._agent_states: list[tuple[float, str]] = []
        self._false_interruptions: list[tuple[float, bool]] = []
        self._close: ev.SessionClosed | None = None
        self._closed = False
        self._handlers: dict[type[Any], Callable[[Any], None]] = {
            ev.SpeechCreated: self._speech_created,
            ev.SpeechDone: self._speech_done,
            ev.LLMRequest: self._llm,
            ev.RealtimeRequest: self._realtime_request,
            ev.AgentHandoff: self._handoff,
            ev.LLMInput: self._llm_inputs.append,
            ev.TTSRequest: self._tts,
            ev.EndOfTurn: self._end_of_turn,
            ev.UserMessage: self._user_message,
            ev.AgentMessage: self._agent_message,
            ev.UserTranscript: self._transcript,
            ev.STTUsage: self._stt.add,
            ev.VADUsage: lambda _: None,
            ev.ToolStarted: self._tool_started,
            ev.PlaybackFinished: self._cut_off.append,
            ev.ToolEnded: self._tool_ended,
            ev.ErrorRaised: self._error,
            ev.UserStateChanged: self._user_state_changed,
            ev.AgentStateChanged: self._agent_state_changed,
            ev.FalseInterruption: lambda e: self._false_interruptions.append((e.at, e.resumed)),
            ev.SessionClosed: self._session_closed,
        }

    # -- input ---------------------------------------------------------------------------

    def feed(self, event: ev.Event) -> None:
        """Take one event. Out-of-order, duplicated and odd events are tolerated."""
        if self._closed:
            self._late += 1
            return
        clean = ev.sanitized(event)
        if clean is None:
            self._dropped += 1
            return
        event = clean
        if self._started_at is None:
            self._started_at = event.at
        self._now = max(self._now, event.at)
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)
        self.advance(self._now)

    def advance(self, now: float) -> None:
        """Let time pass: finalize every turn whose grace (and STT wait) is over."""
        if self._closed:
            return
        self._now = max(self._now, now)
        self._expire_unanswered(self._now)
        ready = [p for p in self._open.values() if self._ready(p, self._now)]
        ready += [p for p in self._no_reply if p.created_at + self.grace <= self._now]
        self._emit(ready)

    def close(self, at: float | None = None) -> None:
        """Finalize every open turn and emit the call. Safe to call twice."""
        if self._closed:
            return
        end = at if at is not None else self._now
        self._now = max(self._now, end)
        self._expire_unanswered(math.inf)
        pending = [p for p in self._open.values() if not p.discarded] + self._no_reply
        self._emit(pending)
        self._unattributed += sum(1 for p in self._open.values() for _ in p.llm + p.tts)
        self._open.clear()
        self._closed = True
        self._on_call(self._call(end))

    # -- event handlers ------------------------------------------------------------------

    def _turn(self, speech_id: str | None, at: float) -> _Pending | None:
        """The open turn of a speech, created on first sight; None if already emitted."""
        if speech_id is None:
            return None
        if speech_id in self._emitted:
            self._late += 1
            return None
        pending = self._open.get(speech_id)
        if pending is None:
            pending = self._open[speech_id] = _Pending(speech_id=speech_id, created_at=at)
        return pending

    def _speech_created(self, e: ev.SpeechCreated) -> None:
        pending = self._turn(e.speech_id, e.at)
        if pending is not None:
            pending.created_at = min(pending.created_at, e.at)
            pending.source = e.source
            pending.agent = e.agent
            pending.modality = e.modality
            self._adopt_orphan(pending)

    def _speech_done(self, e: ev.SpeechDone) -> None:
        pending = self._turn(e.speech_id, e.at)
        if pending is not None and pending.done is None:
            pending.done = e

    def _llm(self, e: ev.LLMRequest) -> None:
        pending = self._turn(e.speech_id, request_start(e))
        if pending is None:
            self._unattributed += e.speech_id is None
            return
        if all(r.request_id != e.request_id for r in pending.llm):
            pending.llm.append(e)

    def _realtime_request(self, e: ev.RealtimeRequest) -> None:
        if e.request_id in self._claimed_realtime:
            self._late += 1  # a repeat of one a turn already holds
            return
        self._realtime.setdefault(e.request_id, e)
        if len(self._realtime) > MAX_UNCLAIMED_REALTIME:
            oldest = min(self._realtime.values(), key=lambda r: r.at)
            del self._realtime[oldest.request_id]
            self._unattributed += 1

    def _handoff(self, e: ev.AgentHandoff) -> None:
        self._handoffs.append(e)
        self._handoffs_unclaimed.append(e)

    def _tts(self, e: ev.TTSRequest) -> None:
        pending = self._turn(e.speech_id, request_start(e))
        if pending is None:
            self._unattributed += e.speech_id is None
            return
        if all(r.request_id != e.request_id for r in pending.tts):
            pending.tts.append(e)

    def _end_of_turn(self, e: ev.EndOfTurn) -> None:
        pending = self._turn(e.speech_id, e.at)
        if pending is not None and pending.eou is None:
            pending.eou = e
            self._awaiting_user.append(pending.speech_id or "")

    def _user_message(self, e: ev.UserMessage) -> None:
        self._consume_finals(e.text)
        while self._awaiting_user:
            pending = self._open.get(self._awaiting_user.pop())
            if pending is not None and pending.user is None:
                self._give_user(pending, e)
                return
        for pending in reversed(self._open.values()):
            if pending.user is None and pending.done is None and pending.source == "generate_reply":
                self._give_user(pending, e)
                return
        orphan = _Pending(speech_id=None, created_at=e.started_speaking_at or e.at, user=e)
        self._no_reply.append(orphan)

    def _adopt_orphan(self, pending: _Pending) -> None:
        """A realtime model's user message comes just *before* the speech that answers it
        (and carries no speaking times): such a message, seen moments ago, is this reply's."""
        if pending.user is not None or pending.source != "generate_reply":
            return
        for orphan in self._no_reply:
            user = orphan.user
            if (
                user is not None
                and user.stopped_speaking_at is None
                and pending.created_at - ADOPT_WINDOW <= user.at <= pending.created_at + 0.05
            ):
                self._no_reply.remove(orphan)
                self._give_user(pending, user)
                return

    def _give_user(self, pending: _Pending, e: ev.UserMessage) -> None:
        """A spoken message without LiveKit's speaking times (a realtime model transcribed
        it) takes them from the user's last stretch of speech before it."""
        pending.user = e
        if e.stopped_speaking_at is None and pending.modality != "text":
            pending.user_window = self._window_before(e.at)

    def _agent_message(self, e: ev.AgentMessage) -> None:
        self._agent_messages.setdefault(e.item_id, e)

    def _transcript(self, e: ev.UserTranscript) -> None:
        if e.is_final and e.text.strip():
            self._finals.append(e)

    def _tool_started(self, e: ev.ToolStarted) -> None:
        self._tools_started.setdefault(e.call_id, e)

    def _tool_ended(self, e: ev.ToolEnded) -> None:
        known = self._tools_ended.get(e.call_id)
        if known is None:
            self._tools_ended[e.call_id] = e
        elif known.output is None and e.output is not None:
            self._tools_ended[e.call_id] = ev.ToolEnded(known.at, e.call_id, e.status, e.output)

    def _user_state_changed(self, e: ev.UserStateChanged) -> None:
        self._user_states.append((e.at, e.new))
        if e.new == "speaking":
            self._speaking_since = e.at
        elif self._user_state == "speaking" and self._speaking_since is not None:
            self._speech_windows.append((self._speaking_since, e.at))
            self._speaking_since = None
        self._user_state = e.new

    def _error(self, e: ev.ErrorRaised) -> None:
        self._errors.append(e)

    def _agent_state_changed(self, e: ev.AgentStateChanged) -> None:
        self._agent_states.append((e.at, e.new))

    def _session_closed(self, e: ev.SessionClosed) -> None:
        self._close = e

    # -- unanswered utterances -------------------------------------------------------------

    def _consume_finals(self, text: str) -> None:
        """A committed user message answers the finals it is made of; older finals that it
        does not contain were never answered."""
        used = [f for f in self._finals if f.text.strip() and f.text.strip() in text]
        if not used:
            return
        first_used = self._finals.index(used[0])
        self._unanswered(self._finals[:first_used])
        self._finals = [f for f in self._finals[first_used:] if f not in used]

    def _expire_unanswered(self, now: float) -> None:
        if self._user_state == "speaking" and now != math.inf:
            return
        stale = [f for f in self._finals if f.at + self.no_reply_after <= now]
        if stale:
            self._finals = [f for f in self._finals if f not in stale]
            self._unanswered(stale)

    def _unanswered(self, finals: list[ev.UserTranscript]) -> None:
        if not finals:
            return
        window = self._window_before(finals[-1].at)
        pending = _Pending(
            speech_id=None,
            created_at=window[0] if window else finals[0].at,
            unanswered=list(finals),
            user_window=window,
        )
        self._no_reply.append(pending)

    def _window_before(self, at: float) -> tuple[float, float] | None:
        before = [w for w in self._speech_windows if w[1] <= at + 0.05]
        return before[-1] if before else None

    # -- finalization ----------------------------------------------------------------------

    def _ready(self, pending: _Pending, now: float) -> bool:
        done = pending.done
        if done is None or not done.scheduled or now < done.at + self.grace:
            return False
        window = pending.window()
        if window is None or not self._stt.reporting or now >= done.at + self.stt_wait:
            return True
        return self._stt.covers(window[1])

    def _emit(self, ready: list[_Pending]) -> None:
        if not ready:
            return
        for pending in sorted(ready, key=self._start_of):
            if pending.speech_id is not None:
                self._open.pop(pending.speech_id, None)
                self._fold_discarded_into(pending)
                self._emitted.append(pending.speech_id)
            elif pending in self._no_reply:
                self._no_reply.remove(pending)
            self._turns += 1
            self._on_turn(self._assemble(pending, self._turns))
        self._forget_old_stt()

    def _forget_old_stt(self) -> None:
        starts = [self._start_of(p) for p in (*self._open.values(), *self._no_reply)]
        starts += [f.at for f in self._finals]
        self._stt.forget_before(min(starts, default=self._now))

    def _start_of(self, pending: _Pending) -> float:
        window = pending.window()
        return window[0] if window else pending.created_at

    def _fold_discarded_into(self, target: _Pending) -> None:
        for speech_id, pending in list(self._open.items()):
            if pending.discarded and pending.created_at <= target.created_at:
                target.folded.append(pending)
                del self._open[speech_id]
                self._emitted.append(speech_id)

    def _assemble(self, pending: _Pending, index: int) -> Turn:
        messages = [
            self._agent_messages.pop(item_id)
            for item_id in (pending.done.message_ids if pending.done else ())
            if item_id in self._agent_messages
        ]
        reply = next((m for m in messages if m.e2e_latency is not None), None)
        reply = reply or (messages[0] if messages else None)
        user = pending.user
        window = pending.window()
        realtime = self._claim_realtime(pending, messages)
        e2e = reply.e2e_latency if reply is not None and user is not None else None
        parts = None
        if e2e is not None and user is not None and reply is not None:
            queue_wait = pending.done.queue_wait if pending.done else None
            parts = (
                realtime_breakdown(
                    e2e=e2e,
                    reply=reply,
                    responses=realtime,
                    eou=pending.eou,
                    user_stopped_at=window[1] if window else None,
                    committed_at=pending.created_at,
                    queue_wait=queue_wait,
                )
                if realtime
                else breakdown(
                    e2e=e2e, user=user, reply=reply, llm=pending.llm, queue_wait=queue_wait
                )
            )
        requests = self._requests(pending, window, messages, realtime)
        errors = self._take_errors(pending, requests)
        interrupted = bool(pending.done and pending.done.interrupted) or any(
            m.interrupted for m in messages
        )
        outcome = self._outcome(pending, messages, errors, interrupted)
        heard = self._heard(pending, messages) if outcome == "interrupted" else None
        agent_start = messages[0].started_speaking_at if messages else None
        agent_stop = messages[-1].stopped_speaking_at if messages else None
        started = window[0] if window else pending.created_at
        ends = (agent_stop, pending.done.at if pending.done else None, window and window[1])
        ended = max([started, *(x for x in ends if x is not None)])
        return Turn(
            call_id=self.call_id,
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
                realtime_total_latency(pending.eou, parts, realtime)
                if realtime
                else total_latency(pending.eou, pending.llm, pending.tts)
            ),
            transcription_delay=user.transcription_delay if user else None,
            end_of_utterance_delay=pending.eou.end_of_utterance_delay if pending.eou else None,
            eou_detector=pending.eou.detector if pending.eou else None,
            heard_seconds=heard,
            agent_name=pending.agent,
            input_modality=_input_modality(pending, window),
            handoff_to=self._claim_handoff(pending),
            requests=requests,
            tools=self._take_tools(pending),
            errors=errors,
        )

    def _claim_realtime(
        self, pending: _Pending, messages: list[ev.AgentMessage]
    ) -> list[ev.RealtimeRequest]:
        """The speech's realtime responses: those its messages name, and those created
        while it was alive (a tool call's response produces no message)."""
        named = {i for m in messages for i in m.provider_request_ids}
        end = pending.done.at if pending.done else self._now
        mine = [
            r
            for r in self._realtime.values()
            if r.request_id in named or pending.created_at - 0.05 <= r.at <= end
        ]
        for r in mine:
            del self._realtime[r.request_id]
            self._claimed_realtime.append(r.request_id)
        return sorted(mine, key=lambda r: r.at)

    def _claim_handoff(self, pending: _Pending) -> str | None:
        """The agent this speech handed over to: a switch while it was alive."""
        if pending.speech_id is None:
            return None
        end = (pending.done.at if pending.done else self._now) + self.grace
        for handoff in self._handoffs_unclaimed:
            if pending.created_at <= handoff.at <= end:
                self._handoffs_unclaimed.remove(handoff)
                return handoff.new_agent
        return None

    def _heard(self, pending: _Pending, messages: list[ev.AgentMessage]) -> float | None:
        """How much of an interrupted reply played: the audio output's position when it was
        cut off, else LiveKit's speaking times for the message."""
        cut = next((m for m in messages if m.interrupted), None)
        start = cut.started_speaking_at if cut is not None else None
        end = pending.done.at if pending.done else self._now
        for finished in self._cut_off:
            inside = start is None or start <= finished.at <= end + self.grace
            if finished.interrupted and finished.position is not None and inside:
                self._cut_off.remove(finished)
                return finished.position
        if cut is not None and cut.started_speaking_at and cut.stopped_speaking_at:
            return cut.stopped_speaking_at - cut.started_speaking_at
        return None

    @staticmethod
    def _outcome(
        pending: _Pending,
        messages: list[ev.AgentMessage],
        errors: tuple[ErrorRecord, ...],
        interrupted: bool,
    ) -> Outcome:
        if pending.speech_id is None:
            return "no_reply"
        if not messages and any(not e.recoverable for e in errors):
            return "failed"  # dropped by an error, even if closing then interrupted it
        if interrupted:
            return "interrupted"
        if messages:
            return "answered"
        return "failed" if errors else "no_reply"

    def _requests(
        self,
        pending: _Pending,
        window: tuple[float, float] | None,
        messages: list[ev.AgentMessage],
        realtime: list[ev.RealtimeRequest],
    ) -> tuple[ComponentRequest, ...]:
        stt = self._stt.share(window) if window is not None else []
        tools = self._tools_of(pending)
        outputs = _llm_outputs(pending.llm, messages, tools)
        own = [
            _realtime_request(r, _realtime_output(r, realtime, messages, tools)) for r in realtime
        ]
        own += [
            self._with_input(
                _llm_request(r, discarded=False, output=outputs.get(r.request_id)), pending
            )
            for r in pending.llm
        ]
        own += [_tts_request(r, discarded=False) for r in pending.tts]
        for attempt in pending.folded:
            own += [self._with_input(_llm_request(r, discarded=True), attempt) for r in attempt.llm]
            own += [_tts_request(r, discarded=True) for r in attempt.tts]
        return tuple(stt + sorted(own, key=lambda r: r.started_at))

    def _with_input(self, request: ComponentRequest, pending: _Pending) -> ComponentRequest:
        """The input captured when this request was made: same speech, closest in time."""
        candidates = [
            i
            for i in self._llm_inputs
            if (i.speech_id is None or i.speech_id == pending.speech_id)
            and abs(i.at - request.started_at) <= INPUT_MATCH_WINDOW
        ]
        if not candidates:
            return request
        found = min(candidates, key=lambda i: abs(i.at - request.started_at))
        self._llm_inputs.remove(found)
        return replace(
            request,
            render_input=found.render,
            parameters=found.parameters,
            tools_offered=found.tools,
        )

    def _tools_of(self, pending: _Pending) -> list[ev.ToolStarted]:
        call_ids = pending.done.tool_call_ids if pending.done else ()
        return [self._tools_started[c] for c in call_ids if c in self._tools_started]

    def _take_tools(self, pending: _Pending) -> tuple[ToolRecord, ...]:
        call_ids = pending.done.tool_call_ids if pending.done else ()
        tools = []
        for call_id in call_ids:
            started = self._tools_started.pop(call_id, None)
            ended = self._tools_ended.pop(call_id, None)
            if started is None:
                continue
            tools.append(
                ToolRecord(
                    call_id=call_id,
                    name=started.name,
                    arguments=started.arguments,
                    started_at=started.at,
                    ended_at=ended.at if ended else None,
                    status=ended.status if ended else "unknown",
                    output=ended.output if ended else None,
                )
            )
        return tuple(tools)

    def _take_errors(
        self, pending: _Pending, requests: tuple[ComponentRequest, ...]
    ) -> tuple[ErrorRecord, ...]:
        """Errors carry no speech id: those that fell inside this speech's lifetime are its."""
        start = min([pending.created_at] + [r.started_at for r in requests])
        end = pending.done.at if pending.done else self._now
        mine = [e for e in self._errors if start - 0.05 <= e.at <= end + 0.05]
        self._errors = [e for e in self._errors if e not in mine]
        return tuple(_error_record(e, requests) for e in mine)

    def _call(self, end: float) -> Call:
        close = self._close
        return Call(
            call_id=self.call_id,
            started_at=self._started_at if self._started_at is not None else end,
            ended_at=end,
            turns=self._turns,
            close_reason=close.reason if close else None,
            close_error=close.error_type if close else None,
            idle_stt_audio=self._stt.idle,
            stt_audio=self._stt.total,
            errors=tuple(_error_record(e, ()) for e in self._errors),
            late_events=self._late,
            dropped_events=self._dropped,
            unattributed_requests=self._unattributed + len(self._realtime),
            user_states=tuple(self._user_states),
            agent_states=tuple(self._agent_states),
            false_interruptions=tuple(self._false_interruptions),
            stt_by_model=self._stt.by_model(),
            handoffs=tuple((h.at, h.old_agent, h.new_agent) for h in self._handoffs),
        )


def _source(pending: _Pending, window: tuple[float, float] | None) -> TurnSource:
    if pending.speech_id is None:
        return "none"
    if window is not None or (pending.user is not None and pending.modality == "text"):
        return "user"
    return "say" if pending.source == "say" else "generate_reply"


def _input_modality(pending: _Pending, window: tuple[float, float] | None) -> InputModality | None:
    if pending.user is not None and pending.modality == "text" and window is None:
        return "text"
    if window is not None or pending.unanswered:
        return "audio"
    return None


def _realtime_output(
    response: ev.RealtimeRequest,
    responses: list[ev.RealtimeRequest],
    messages: list[ev.AgentMessage],
    tools: list[ev.ToolStarted],
) -> str | None:
    """What a realtime response produced: the messages that name it (or, when none name
    any, those that began after it was created), and the tool calls made while it ran."""
    named = [m.text for m in messages if response.request_id in m.provider_request_ids]
    if not named and not any(m.provider_request_ids for m in messages):
        later = [r.at for r in responses if r.at > response.at]
        until = min(later, default=math.inf)
        named = [
            m.text
            for m in messages
            if response.at <= (m.started_speaking_at or m.at) < until and m.text
        ]
    end = response.at + (response.duration or 0.0)
    calls = [
        {"name": t.name, "arguments": t.arguments}
        for t in tools
        if response.at <= t.at <= end + 0.05
    ]
    if calls:
        parts: dict[str, Any] = {"tool_calls": calls}
        if named:
            parts["text"] = " ".join(named)
        return json.dumps(parts, ensure_ascii=False)
    return " ".join(named) or None


def _realtime_request(r: ev.RealtimeRequest, output: str | None) -> ComponentRequest:
    return ComponentRequest(
        kind="realtime",
        request_id=r.request_id,
        provider=r.provider,
        model=r.model,
        started_at=r.at,
        ended_at=r.at + (r.duration or 0.0),
        first_output_at=r.at + r.ttft if r.ttft is not None else None,
        ttft=r.ttft,
        duration=r.duration,
        cancelled=r.cancelled,
        prompt_tokens=r.input_tokens,
        cached_tokens=r.cached_tokens,
        completion_tokens=r.output_tokens,
        total_tokens=r.total_tokens,
        tokens_per_second=r.tokens_per_second,
        input_audio_tokens=r.input_audio_tokens,
        cached_audio_tokens=r.cached_audio_tokens,
        output_audio_tokens=r.output_audio_tokens,
        output=output,
    )


def _llm_outputs(
    llm: list[ev.LLMRequest], messages: list[ev.AgentMessage], tools: list[ev.ToolStarted]
) -> dict[str, str]:
    """What each LLM request of a speech produced: the messages that began speaking after it
    started (and before the next one did), and the tool calls it made."""
    ordered = sorted(llm, key=request_start)
    produced: dict[str, dict[str, Any]] = {r.request_id: {} for r in ordered}
    for message in messages:
        at = message.started_speaking_at or message.at
        source = next((r for r in reversed(ordered) if request_start(r) <= at), None)
        if source is not None and message.text:
            texts = produced[source.request_id].setdefault("text", [])
            texts.append(message.text)
    for tool in tools:
        # the request that asked for the tool started before it (it may end after: the usage
        # chunk comes last, and LiveKit starts tools as soon as the call is streamed)
        source = next((r for r in reversed(ordered) if request_start(r) <= tool.at), None)
        if source is not None:
            calls = produced[source.request_id].setdefault("tool_calls", [])
            calls.append({"name": tool.name, "arguments": tool.arguments})
    outputs = {}
    for request_id, parts in produced.items():
        if "tool_calls" in parts:
            if "text" in parts:
                parts["text"] = " ".join(parts["text"])
            outputs[request_id] = json.dumps(parts, ensure_ascii=False)
        elif "text" in parts:
            outputs[request_id] = " ".join(parts["text"])
    return outputs


def _llm_request(
    r: ev.LLMRequest, *, discarded: bool, output: str | None = None
) -> ComponentRequest:
    start = request_start(r)
    return ComponentRequest(
        kind="llm",
        request_id=r.request_id,
        provider=r.provider,
        model=r.model,
        started_at=start,
        ended_at=r.at,
        first_output_at=start + r.ttft if r.ttft is not None else None,
        ttft=r.ttft,
        duration=r.duration,
        cancelled=r.cancelled,
        discarded=discarded,
        prompt_tokens=r.prompt_tokens,
        cached_tokens=r.cached_tokens,
        cache_creation_tokens=r.cache_creation_tokens,
        completion_tokens=r.completion_tokens,
        reasoning_tokens=r.reasoning_tokens,
        total_tokens=r.total_tokens,
        tokens_per_second=r.tokens_per_second,
        output=output,
    )


def _tts_request(r: ev.TTSRequest, *, discarded: bool) -> ComponentRequest:
    start = request_start(r)
    return ComponentRequest(
        kind="tts",
        request_id=r.request_id,
        provider=r.provider,
        model=r.model,
        started_at=start,
        ended_at=r.at,
        first_output_at=start + r.ttfb if r.ttfb is not None else None,
        ttfb=r.ttfb,
        duration=r.duration,
        cancelled=r.cancelled,
        discarded=discarded,
        characters=r.characters,
        audio_duration=r.audio_duration,
        streamed=r.streamed,
        segment_id=r.segment_id,
    )


def _error_record(e: ev.ErrorRaised, requests: tuple[ComponentRequest, ...]) -> ErrorRecord:
    hit = next(
        (
            r.request_id
            for r in requests
            if r.kind == e.component and r.started_at - 0.05 <= e.at <= r.ended_at + 0.05
        ),
        None,
    )
    return ErrorRecord(
        at=e.at,
        component=e.component,
        error_type=e.error_type,
        message=e.message,
        recoverable=e.recoverable,
        request_id=hit,
    )
