"""What belongs to a turn besides its own speech's events: the pools the recorder keeps of
things that carry no speech id (or arrive apart from it), and how a turn claims them.

Messages, realtime responses, handoffs, captured LLM inputs, cut-off playbacks, tools and
errors wait here until the turn they belong to is assembled; each is claimed at most once.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import replace
from typing import TYPE_CHECKING

from turnscope import events as ev
from turnscope.recording.requests import ERROR_CLOCK_SLACK, error_record
from turnscope.records import ToolRecord

if TYPE_CHECKING:
    from turnscope.recording.pending import PendingTurn
    from turnscope.records import ComponentRequest, ErrorRecord

__all__ = ["TurnMatcher"]

INPUT_MATCH_WINDOW = 0.25
"""Seconds between a captured LLM input and its request's start for them to be one."""
MAX_UNCLAIMED_REALTIME = 64
"""Realtime responses kept while waiting for their turn; beyond, the oldest is let go."""


class TurnMatcher:
    """The unclaimed pools of one call, and the rules by which a turn claims from them."""

    def __init__(self) -> None:
        self._agent_messages: dict[str, ev.AgentMessage] = {}
        self._realtime: dict[str, ev.RealtimeRequest] = {}
        """Realtime responses no turn has claimed yet (they carry no speech id)."""
        self._claimed_realtime: deque[str] = deque(maxlen=256)
        self._handoffs_unclaimed: list[ev.AgentHandoff] = []
        self._llm_inputs: deque[ev.LLMInput] = deque(maxlen=64)
        self._cut_off: deque[ev.PlaybackFinished] = deque(maxlen=32)
        self._tools_started: dict[str, ev.ToolStarted] = {}
        self._tools_ended: dict[str, ev.ToolEnded] = {}
        self.errors: list[ev.ErrorRaised] = []
        """Errors no turn has claimed; at close, the call's own."""
        self._taken_until: dict[str, float] = {}
        """Per component, the end of the last request a turn took: errors before it are
        earlier turns' (or the call's)."""
        self.repeated_realtime = 0
        """Realtime responses reported again after a turn claimed them."""
        self.dropped_realtime = 0
        """Realtime responses let go unclaimed because too many were waiting."""

    # -- pooling ---------------------------------------------------------------------------

    def add_message(self, e: ev.AgentMessage) -> None:
        self._agent_messages.setdefault(e.item_id, e)

    def add_realtime(self, e: ev.RealtimeRequest) -> None:
        if e.request_id in self._claimed_realtime:
            self.repeated_realtime += 1
            return
        self._realtime.setdefault(e.request_id, e)
        if len(self._realtime) > MAX_UNCLAIMED_REALTIME:
            oldest = min(self._realtime.values(), key=lambda r: r.at)
            del self._realtime[oldest.request_id]
            self.dropped_realtime += 1

    def add_handoff(self, e: ev.AgentHandoff) -> None:
        self._handoffs_unclaimed.append(e)

    def add_llm_input(self, e: ev.LLMInput) -> None:
        self._llm_inputs.append(e)

    def add_playback(self, e: ev.PlaybackFinished) -> None:
        self._cut_off.append(e)

    def add_tool_started(self, e: ev.ToolStarted) -> None:
        self._tools_started.setdefault(e.call_id, e)

    def add_tool_ended(self, e: ev.ToolEnded) -> None:
        known = self._tools_ended.get(e.call_id)
        if known is None:
            self._tools_ended[e.call_id] = e
        elif known.output is None and e.output is not None:
            self._tools_ended[e.call_id] = ev.ToolEnded(known.at, e.call_id, e.status, e.output)

    def add_error(self, e: ev.ErrorRaised) -> None:
        """Pools an error; a TTS error repeating one still unclaimed replaces it. LiveKit
        1.4–1.5 retries a synthesis the provider said cannot succeed, so one failure arrives
        once per attempt (recoverable, then final): it counts once, as its last word."""
        if e.component == "tts":
            same = (e.error_type, e.message)
            self.errors = [
                x
                for x in self.errors
                if not (
                    x.component == "tts" and x.recoverable and (x.error_type, x.message) == same
                )
            ]
        self.errors.append(e)

    @property
    def unclaimed_realtime(self) -> int:
        return len(self._realtime)

    # -- claiming --------------------------------------------------------------------------

    def take_messages(self, pending: PendingTurn) -> list[ev.AgentMessage]:
        """The assistant messages LiveKit says the speech produced, in its order."""
        return [
            self._agent_messages.pop(item_id)
            for item_id in (pending.done.message_ids if pending.done else ())
            if item_id in self._agent_messages
        ]

    def peek_messages(self, pending: PendingTurn) -> list[ev.AgentMessage]:
        """The assistant messages of a speech, left in the pool."""
        return [
            self._agent_messages[item_id]
            for item_id in (pending.done.message_ids if pending.done else ())
            if item_id in self._agent_messages
        ]

    def claim_realtime(
        self, pending: PendingTurn, messages: list[ev.AgentMessage], now: float
    ) -> list[ev.RealtimeRequest]:
        """The speech's realtime responses: those its messages name, and those created
        while it was alive (a tool call's response produces no message)."""
        named = {i for m in messages for i in m.provider_request_ids}
        end = pending.end(now)
        mine = [
            r
            for r in self._realtime.values()
            if r.request_id in named or pending.created_at - 0.05 <= r.at <= end
        ]
        for r in mine:
            del self._realtime[r.request_id]
            self._claimed_realtime.append(r.request_id)
        return sorted(mine, key=lambda r: r.at)

    def claim_handoff(self, pending: PendingTurn, now: float, grace: float) -> str | None:
        """The agent this speech handed over to: a switch while it was alive."""
        if pending.speech_id is None:
            return None
        end = pending.end(now) + grace
        for handoff in self._handoffs_unclaimed:
            if pending.created_at <= handoff.at <= end:
                self._handoffs_unclaimed.remove(handoff)
                return handoff.new_agent
        return None

    def heard(
        self, pending: PendingTurn, messages: list[ev.AgentMessage], now: float, grace: float
    ) -> float | None:
        """How much of an interrupted reply played: the audio output's position when it was
        cut off, else LiveKit's speaking times for the message."""
        cut = next((m for m in messages if m.interrupted), None)
        start = cut.started_speaking_at if cut is not None else None
        end = pending.end(now)
        for finished in self._cut_off:
            inside = start is None or start <= finished.at <= end + grace
            if finished.interrupted and finished.position is not None and inside:
                self._cut_off.remove(finished)
                return finished.position
        if cut is not None and cut.started_speaking_at and cut.stopped_speaking_at:
            return cut.stopped_speaking_at - cut.started_speaking_at
        return None

    def with_input(self, request: ComponentRequest, pending: PendingTurn) -> ComponentRequest:
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

    def tools_of(self, pending: PendingTurn) -> list[ev.ToolStarted]:
        """The speech's tool calls that have started, without claiming them."""
        call_ids = pending.done.tool_call_ids if pending.done else ()
        return [self._tools_started[c] for c in call_ids if c in self._tools_started]

    def take_tools(self, pending: PendingTurn) -> tuple[ToolRecord, ...]:
        """The speech's tool calls as records, each with how it ended."""
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

    def take_errors(
        self, pending: PendingTurn, requests: tuple[ComponentRequest, ...], now: float
    ) -> tuple[ErrorRecord, ...]:
        """Errors carry no speech id; a turn takes, in order, those that came while its
        speech was alive (a recoverable one only if the turn has a request of its component:
        else the retry that recovered from it is another turn's), and the recoverable ones
        its own requests recovered from: an
        error of a component before one of the turn's requests of that component ended,
        after every request of it an earlier turn took (the retry LiveKit reports is the
        request that followed the failed attempt, whenever that one began)."""
        start = min([pending.created_at] + [r.started_at for r in requests])
        end = pending.end(now)
        ends: dict[str, float] = {}
        for r in requests:
            ends[r.kind] = max(ends.get(r.kind, r.ended_at), r.ended_at)
        mine = [
            e
            for e in self.errors
            if (
                start - ERROR_CLOCK_SLACK <= e.at <= end + ERROR_CLOCK_SLACK
                and (e.component in ends or not e.recoverable)
            )
            or (
                e.recoverable
                and self._taken_until.get(e.component, -math.inf)
                < e.at
                <= ends.get(e.component, -math.inf) + ERROR_CLOCK_SLACK
            )
        ]
        for kind, until in ends.items():
            self._taken_until[kind] = max(self._taken_until.get(kind, until), until)
        self.errors = [e for e in self.errors if e not in mine]
        return tuple(error_record(e, requests) for e in mine)
