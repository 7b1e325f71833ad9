"""CallRecorder: neutral events in, complete Turn and Call records out (DESIGN §4).

Pure logic: no I/O and no clock of its own — time only moves when an event arrives or the
caller calls ``advance(now)``. That makes it testable with plain event lists, in any order.

A turn is one agent speech (keyed by ``speech_id``) plus the user utterance that triggered
it. It is finalized when LiveKit reports the speech done, plus a short grace for late
metrics; never because another turn began (LiveKit queues speeches). A speech that is done
without ever being scheduled was a discarded preemptive attempt: it is folded, flagged,
into the next speech created after it. A user utterance that gets no speech at all is a
``no_reply`` turn of its own.

The recorder keeps the open turns and decides when each is finished; its helpers each do one
job: ``UserSpeech`` follows the user, ``STTMeter`` the STT usage, ``TurnMatcher`` what a turn
claims that carries no speech id, and ``assemble`` builds the finished Turn.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Any

from turnscope import events as ev
from turnscope.recording.assembly import assemble, first_audio
from turnscope.recording.breakdown import request_start
from turnscope.recording.matching import TurnMatcher
from turnscope.recording.pending import PendingTurn
from turnscope.recording.plausibility import (
    call_end,
    dropped_values,
    over_metered,
    user_window,
)
from turnscope.recording.requests import error_record
from turnscope.recording.stt_meter import STTMeter
from turnscope.recording.utterances import UserSpeech
from turnscope.records import Call

if TYPE_CHECKING:
    from collections.abc import Callable

    from turnscope.records import Suspect, Turn

__all__ = ["CallRecorder"]

MAX_FLAGGED_VALUES = 32
"""Unusable event values kept (raw) on the call; beyond, they are only dropped."""

ADOPT_WINDOW = 0.5
"""Seconds a realtime user message may precede the speech created for it."""
OPEN_LIMIT = 500
"""Speeches held open at once. Beyond it, the oldest one known from metrics alone (no speech
created, no user message: a plugin reporting ids that never complete) is let go, its
requests counted as unattributed, so pending state and the work per event stay bounded."""


def _reported(request_id: str, known: list[ev.LLMRequest] | list[ev.TTSRequest]) -> bool:
    """Whether a request was already reported. LiveKit names a synthesis by its first audio
    frame, so one cancelled before any audio has an empty id: each such report is its own
    request, never a repeat of another."""
    return bool(request_id) and any(r.request_id == request_id for r in known)


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
        joined_late: bool = False,
    ) -> None:
        self.call_id = call_id
        self._on_turn = on_turn
        self._on_call = on_call
        self.grace = grace
        self.stt_wait = stt_wait
        self.no_reply_after = no_reply_after
        self._started_at = started_at
        self._now = started_at or 0.0
        self._open: dict[str, PendingTurn] = {}
        self._done: dict[str, PendingTurn] = {}
        """The open speeches LiveKit reported done: the only ones ``advance`` looks at."""
        self._announced: set[str] = set()
        """Open speeches LiveKit created or finished (not known from metrics alone)."""
        self._no_reply: list[PendingTurn] = []
        self._awaiting_user: list[str] = []
        self._user_turn: str | None = None
        """The speech of the user turn committed last: later speeches may answer it."""
        self._answers: dict[str, list[PendingTurn]] = {}
        """Per user turn (speech id), the speeches created after it that may answer it."""
        self._handoffs: list[ev.AgentHandoff] = []
        self._user = UserSpeech()
        self._stt = STTMeter()
        self._matcher = TurnMatcher()
        self._emitted: deque[str] = deque(maxlen=256)
        self._turns = 0
        self._late = 0
        self._dropped = 0
        self._odd_values: list[Suspect] = []
        self._unattributed = 0
        self._agent_states: list[tuple[float, str]] = []
        self._false_interruptions: list[tuple[float, bool]] = []
        self._close: ev.SessionClosed | None = None
        self._closed = False
        self.joined_late = joined_late
        """Attached after the session started: only what begins after is recorded."""
        self._caught_up = not joined_late
        """Joined late: whether the user has begun speaking since (what they said before
        belongs to turns that were already under way, which are not recorded)."""
        self._handlers: dict[type[Any], Callable[[Any], None]] = {
            ev.SpeechCreated: self._speech_created,
            ev.SpeechDone: self._speech_done,
            ev.LLMRequest: self._llm,
            ev.RealtimeRequest: self._matcher.add_realtime,
            ev.AgentHandoff: self._handoff,
            ev.LLMInput: self._matcher.add_llm_input,
            ev.TTSRequest: self._tts,
            ev.EndOfTurn: self._end_of_turn,
            ev.UserMessage: self._user_message,
            ev.AgentMessage: self._matcher.add_message,
            ev.UserTranscript: self._transcript,
            ev.STTUsage: self._stt.add,
            ev.VADUsage: lambda _: None,
            ev.ToolStarted: self._matcher.add_tool_started,
            ev.PlaybackFinished: self._matcher.add_playback,
            ev.ToolEnded: self._matcher.add_tool_ended,
            ev.ErrorRaised: self._matcher.add_error,
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
        if clean is not event and len(self._odd_values) < MAX_FLAGGED_VALUES:
            self._odd_values += dropped_values(event, clean)
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
        ready = [p for p in self._done.values() if self._ready(p, self._now)]
        ready += [p for p in self._no_reply if p.created_at + self.grace <= self._now]
        self._emit(ready)

    def close(self, at: float | None = None) -> None:
        """Finalize every open turn and emit the call. Safe to call twice."""
        if self._closed:
            return
        end = at if at is not None else self._now
        self._now = max(self._now, end)
        self._expire_unanswered(math.inf)
        turns = [p for p in self._open.values() if not p.discarded and self._is_turn(p)]
        self._emit(turns + self._no_reply)
        self._unattributed += sum(len(p.llm) + len(p.tts) for p in self._open.values())
        self._open.clear()
        self._done.clear()
        self._announced.clear()
        self._closed = True
        self._on_call(self._call(end))

    # -- event handlers ------------------------------------------------------------------

    def _turn(self, speech_id: str | None, at: float, *, new: bool = False) -> PendingTurn | None:
        """The open turn of a speech, created on first sight; None if already emitted. When
        joined late, only a speech seen created (``new``) gets a turn: one that was under
        way before is not recorded, rather than recorded wrong."""
        if speech_id is None:
            return None
        if speech_id in self._emitted:
            self._late += 1
            return None
        pending = self._open.get(speech_id)
        if pending is None:
            if self.joined_late and not new:
                self._late += 1
                return None
            if len(self._open) >= OPEN_LIMIT:
                self._let_go_of_one()
            pending = self._open[speech_id] = PendingTurn(speech_id=speech_id, created_at=at)
        return pending

    def _is_turn(self, pending: PendingTurn) -> bool:
        """A speech LiveKit created or finished, or one a user message went to: never one
        known from metrics alone."""
        return pending.speech_id in self._announced or pending.user is not None

    def _let_go_of_one(self) -> None:
        """Make room: the oldest speech known from metrics alone goes (normally the first)."""
        for speech_id, pending in self._open.items():
            if not self._is_turn(pending):
                del self._open[speech_id]
                self._unattributed += len(pending.llm) + len(pending.tts)
                self._dropped += 1
                return

    def _speech_created(self, e: ev.SpeechCreated) -> None:
        pending = self._turn(e.speech_id, e.at, new=True)
        if pending is not None:
            self._announced.add(e.speech_id)
            pending.created_at = min(pending.created_at, e.at)
            pending.source = e.source
            pending.agent = e.agent
            pending.modality = e.modality
            self._adopt_orphan(pending)
            asked = self._user_turn
            if asked is not None and asked != e.speech_id and asked in self._open:
                pending.answers = asked
                self._answers.setdefault(asked, []).append(pending)

    def _speech_done(self, e: ev.SpeechDone) -> None:
        pending = self._turn(e.speech_id, e.at)
        if pending is not None and pending.done is None:
            pending.done = e
            self._done[e.speech_id] = pending
            self._announced.add(e.speech_id)

    def _llm(self, e: ev.LLMRequest) -> None:
        pending = self._turn(e.speech_id, request_start(e))
        if pending is None:
            self._unattributed += e.speech_id is None
            return
        if not _reported(e.request_id, pending.llm):
            pending.llm.append(e)

    def _handoff(self, e: ev.AgentHandoff) -> None:
        self._handoffs.append(e)
        self._matcher.add_handoff(e)

    def _tts(self, e: ev.TTSRequest) -> None:
        pending = self._turn(e.speech_id, request_start(e))
        if pending is None:
            self._unattributed += e.speech_id is None
            return
        if not _reported(e.request_id, pending.tts):
            pending.tts.append(e)

    def _end_of_turn(self, e: ev.EndOfTurn) -> None:
        if not self._caught_up and e.speech_id is not None:
            # joined late, and the user began this turn before: its reply is not recorded
            self._open.pop(e.speech_id, None)
            self._emitted.append(e.speech_id)
            self._late += 1
            return
        pending = self._turn(e.speech_id, e.at)
        if pending is not None and pending.eou is None:
            pending.eou = e
            self._awaiting_user.append(pending.speech_id or "")
            self._not_an_answer(pending)
            self._user_turn = pending.speech_id

    def _not_an_answer(self, pending: PendingTurn) -> None:
        """The speech replies to a user turn of its own: it answers no earlier one."""
        if pending.answers is not None:
            linked = self._answers.get(pending.answers, [])
            if pending in linked:
                linked.remove(pending)
            pending.answers = None

    def _user_state_changed(self, e: ev.UserStateChanged) -> None:
        if e.new == "speaking" and e.old != "speaking":
            self._caught_up = True
        self._user.state_changed(e)

    def _transcript(self, e: ev.UserTranscript) -> None:
        if self._caught_up:
            self._user.add_final(e)

    def _user_message(self, e: ev.UserMessage) -> None:
        if not self._caught_up:
            self._late += 1  # said before turnscope joined: its turn is not recorded
            return
        self._unanswered(self._user.consume(e.text))
        while self._awaiting_user:
            pending = self._open.get(self._awaiting_user.pop())
            if pending is not None and pending.user is None:
                self._give_user(pending, e)
                return
        for pending in reversed(self._open.values()):
            if pending.user is None and pending.done is None and pending.source == "generate_reply":
                self._give_user(pending, e)
                return
        orphan = PendingTurn(speech_id=None, created_at=e.started_speaking_at or e.at)
        self._give_user(orphan, e)
        self._no_reply.append(orphan)

    def _adopt_orphan(self, pending: PendingTurn) -> None:
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

    def _give_user(self, pending: PendingTurn, e: ev.UserMessage) -> None:
        """A spoken message without usable speaking times — none (a realtime model
        transcribed it) or contradictory ones (stopped before it started) — takes them from
        the user's last stretch of speech before it (VAD)."""
        pending.user = e
        self._not_an_answer(pending)
        window, contradiction = user_window(e.started_speaking_at, e.stopped_speaking_at)
        if contradiction is not None:
            pending.suspect.append(contradiction)
        if window is None and pending.modality != "text":
            pending.user_window = self._user.window_before(e.at)

    def _agent_state_changed(self, e: ev.AgentStateChanged) -> None:
        self._agent_states.append((e.at, e.new))

    def _session_closed(self, e: ev.SessionClosed) -> None:
        self._close = e

    # -- unanswered utterances -------------------------------------------------------------

    def _expire_unanswered(self, now: float) -> None:
        self._unanswered(self._user.expire(now, self.no_reply_after))

    def _unanswered(self, finals: list[ev.UserTranscript]) -> None:
        """Finals no message answered become a ``no_reply`` turn of their own."""
        if not finals:
            return
        window = self._user.window_before(finals[-1].at)
        pending = PendingTurn(
            speech_id=None,
            created_at=window[0] if window else finals[0].at,
            unanswered=list(finals),
            user_window=window,
        )
        self._no_reply.append(pending)

    # -- finalization ----------------------------------------------------------------------

    def _ready(self, pending: PendingTurn, now: float) -> bool:
        done = pending.done
        if done is None or not done.scheduled or now < done.at + self.grace:
            return False
        if self._answer_pending(pending):
            return False
        window = pending.window()
        if window is None or not self._stt.reporting or now >= done.at + self.stt_wait:
            return True
        return self._stt.covers(window[1])

    def _answer_pending(self, pending: PendingTurn) -> bool:
        """Whether a speech that may answer this user turn has yet to finish, and could have
        played before the turn's own reply: until it does, which was heard first is unknown.
        Decided by ids and order (which speech was created after which commit), never by
        how long ago it was."""
        if pending.speech_id is None:
            return False
        linked = self._answers.get(pending.speech_id)
        if not linked:
            return False
        own = first_audio(self._matcher.peek_messages(pending))
        return any(
            b.done is None
            and (
                own is None
                or own.started_speaking_at is None
                or b.created_at < own.started_speaking_at
            )
            for b in linked
        )

    def _emit(self, ready: list[PendingTurn]) -> None:
        while ready:
            for pending in sorted(ready, key=PendingTurn.start):
                self._emit_one(pending)
            # a turn emitted may have been what another waited for
            ready = [p for p in self._done.values() if self._ready(p, self._now)]
        self._forget_old_stt()

    def _emit_one(self, pending: PendingTurn) -> None:
        answers: list[PendingTurn] = []
        if pending.speech_id is not None:
            self._open.pop(pending.speech_id, None)
            self._done.pop(pending.speech_id, None)
            self._announced.discard(pending.speech_id)
            self._fold_discarded_into(pending)
            self._emitted.append(pending.speech_id)
            answers = self._answers.pop(pending.speech_id, [])
            pending.messages = self._matcher.peek_messages(pending)
        elif pending in self._no_reply:
            self._no_reply.remove(pending)
        self._turns += 1
        turn = assemble(
            pending,
            self._turns,
            call_id=self.call_id,
            matcher=self._matcher,
            stt=self._stt,
            now=self._now,
            grace=self.grace,
            call_started_at=self._started_at,
            answers=answers,
        )
        self._on_turn(turn)

    def _forget_old_stt(self) -> None:
        starts = [p.start() for p in (*self._open.values(), *self._no_reply)]
        starts += [f.at for f in self._user.finals]
        self._stt.forget_before(min(starts, default=self._now))

    def _fold_discarded_into(self, target: PendingTurn) -> None:
        for speech_id, pending in list(self._done.items()):
            if pending.discarded and pending.created_at <= target.created_at:
                target.folded.append(pending)
                del self._open[speech_id]
                del self._done[speech_id]
                self._announced.discard(speech_id)
                self._emitted.append(speech_id)

    def _call(self, closed_at: float) -> Call:
        close = self._close
        started = self._started_at if self._started_at is not None else closed_at
        end, contradiction = call_end(closed_at, max(self._now, started))
        suspect = [contradiction] if contradiction else []
        suspect += self._odd_values
        suspect += [
            odd
            for _provider, _model, metered, _idle in self._stt.by_model()
            if (odd := over_metered(metered, end - started))
        ]
        return Call(
            call_id=self.call_id,
            started_at=started,
            ended_at=end,
            suspect=tuple(suspect),
            stt_duplicates=self._stt.repeated,
            turns=self._turns,
            close_reason=close.reason if close else None,
            close_error=close.error_type if close else None,
            idle_stt_audio=self._stt.idle,
            stt_audio=self._stt.total,
            errors=tuple(error_record(e, ()) for e in self._matcher.errors),
            late_events=self._late + self._matcher.repeated_realtime,
            dropped_events=self._dropped,
            unattributed_requests=(
                self._unattributed
                + self._matcher.dropped_realtime
                + self._matcher.unclaimed_realtime
            ),
            user_states=tuple(self._user.states),
            agent_states=tuple(self._agent_states),
            false_interruptions=tuple(self._false_interruptions),
            stt_by_model=self._stt.by_model(),
            handoffs=tuple((h.at, h.old_agent, h.new_agent) for h in self._handoffs),
            joined_late=self.joined_late,
        )
