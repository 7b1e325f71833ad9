"""Subscribes to an ``AgentSession`` and hands neutral events to the recorder.

Every handler is synchronous, cheap (a conversion and a call), and guarded: nothing it does
can raise into LiveKit, whose event emitter lets a ``TypeError`` propagate into the pipeline.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from turnscope import events
from turnscope.livekit import convert

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from livekit.agents import AgentSession
    from livekit.agents.voice import SpeechHandle
    from livekit.agents.voice.events import EventTypes

__all__ = ["LiveKitAdapter", "job_id", "livekit_tracing_on", "room_name", "session_started"]

logger = logging.getLogger("turnscope")

LIVEKIT_LOGGER = "livekit.agents"
DEPRECATION_NOTICE = "metrics_collected is deprecated"

Payload = TypeVar("Payload")

TOOLS_REMEMBERED = 256
"""Announced tool calls remembered until their ``function_tools_executed``: a bound, so
calls LiveKit never reports as executed cannot grow the adapter's memory."""


def job_id() -> str | None:
    """The id of the LiveKit job this code runs in, if it runs in one."""
    from livekit.agents import get_job_context

    context = get_job_context(required=False)
    if context is None:  # tests, scripts: no job
        return None
    try:
        return str(context.job.id) or None
    except Exception:  # a fake or partial job context: not worth failing over
        return None


def _current_speech_id() -> str | None:
    """The speech a request is made for, from LiveKit's context (private in 1.8.9)."""
    try:
        from livekit.agents.voice.agent_activity import _SpeechHandleContextVar

        handle = _SpeechHandleContextVar.get(None)
    except Exception:  # moved or renamed: requests are still matched by time
        return None
    return getattr(handle, "id", None)


def session_started(session: Any) -> bool:
    """Whether ``session.start()`` has run (private in 1.8.9: read defensively)."""
    started = getattr(session, "_started", False)
    return started if isinstance(started, bool) else False


def _session_room(session: Any) -> Any:
    """The ``rtc.Room`` the session's RoomIO uses, or None when it has no RoomIO (not
    started yet, or started without a room: console or text mode, tests)."""
    try:
        return session.room_io.room  # public since 1.5.3; raises RuntimeError without one
    except Exception:
        return None


def room_name(session: Any) -> str | None:
    """The name of the LiveKit room ``session`` runs in: ``session.room_io.room.name``.

    None without a room, and before the room is connected: ``rtc.Room.name`` is empty until
    the server answers the connection (``start()`` connects it inside a job). Reads two
    attributes; never blocks.
    """
    name = getattr(_session_room(session), "name", None)
    return name if isinstance(name, str) and name else None


def livekit_tracing_on() -> bool:
    """Whether LiveKit's own OpenTelemetry tracing has a real (SDK) tracer provider."""
    try:
        from livekit.agents.telemetry import traces
        from opentelemetry.sdk.trace import TracerProvider

        provider = getattr(traces.tracer, "_tracer_provider", None)  # private in 1.8.9
    except Exception:  # a LiveKit without that module: nothing to detect
        return False
    return isinstance(provider, TracerProvider)


def wall_clock() -> float:
    """The wall clock, read when called: ``time.time`` looked up on every call, never a
    reference taken at import, so a harness that patches time (LiveKit's virtual-time test
    loop does) moves every timestamp turnscope takes together with LiveKit's own."""
    return time.time()


class _DropOurDeprecationNotice(logging.Filter):
    """Drops LiveKit's notice about ``metrics_collected`` while we register for it.

    LiveKit logs it on every registration; per-request metrics are what we need, so our
    registration must not print it to the user — while theirs still does.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(DEPRECATION_NOTICE)


@contextmanager
def _quiet_registration() -> Iterator[None]:
    target = logging.getLogger(LIVEKIT_LOGGER)
    notice_filter = _DropOurDeprecationNotice()
    target.addFilter(notice_filter)
    try:
        yield
    finally:
        target.removeFilter(notice_filter)


def _tool_call_ids(items: list[Any]) -> tuple[str, ...]:
    """The tool calls a speech made, in order: a call LiveKit could not run leaves only its
    output among the speech's items."""
    calls = (i.call_id for i in items if i.type in ("function_call", "function_call_output"))
    return tuple(dict.fromkeys(calls))


class LiveKitAdapter:
    """Turns one session's LiveKit events into neutral events for ``deliver``."""

    EVENT_NAMES: tuple[EventTypes, ...] = (
        "metrics_collected",
        "conversation_item_added",
        "speech_created",
        "user_input_transcribed",
        "user_state_changed",
        "agent_state_changed",
        "tool_execution_updated",
        "function_tools_executed",
        "agent_false_interruption",
        "error",
        "close",
    )
    """Every session event the adapter listens to."""

    def __init__(
        self,
        session: AgentSession[Any],
        deliver: Callable[[events.Event], None],
        *,
        on_internal_error: Callable[[BaseException], None],
        clock: Callable[[], float] | None = None,
        capture_llm_input: bool = False,
    ) -> None:
        self._session = session
        self._deliver = deliver
        self._on_internal_error = on_internal_error
        self._clock = clock if clock is not None else wall_clock
        self._handlers: list[tuple[EventTypes, Callable[[Any], None]]] = []
        self._attached = False
        self._capture_llm_input = capture_llm_input
        self._unwraps: list[Callable[[], None]] = []
        self._watched_output: Any = None
        self._playback_handler: Callable[[Any], None] | None = None
        self._tools_announced: dict[str, None] = {}
        """Call ids LiveKit sent a ``tool_call_started`` for (1.6.5+), oldest first."""
        self._room_settled = False
        """The room's name was delivered, or the session started without a room."""

    def attach(self) -> None:
        if self._attached:
            return
        self._attached = True
        handlers: dict[EventTypes, Callable[[Any], None]] = {
            "metrics_collected": self._on_metrics,
            "conversation_item_added": self._on_item,
            "speech_created": self._on_speech_created,
            "user_input_transcribed": self._on_transcript,
            "user_state_changed": self._on_user_state,
            "agent_state_changed": self._on_agent_state,
            "tool_execution_updated": self._on_tool_update,
            "function_tools_executed": self._on_tools_executed,
            "agent_false_interruption": self._on_false_interruption,
            "error": self._on_error,
            "close": self._on_close,
        }
        table = [(name, handlers[name]) for name in self.EVENT_NAMES]
        for name, handler in table:
            guarded = self._guard(handler)
            if name == "metrics_collected":
                with _quiet_registration():
                    self._session.on(name, guarded)
            else:
                self._session.on(name, guarded)
            self._handlers.append((name, guarded))
        if self._capture_llm_input:
            self._wrap_llm(self._session.llm)
        self._guard(self._note_room)(None)  # attached after start(): the room is known now

    def deliver_current_states(self) -> None:
        """The user's and the agent's states now, as if they had just been entered: a
        recorder attached mid-call counts time in each state from here."""
        now = self._clock()
        user = str(getattr(self._session, "user_state", "listening"))
        agent = str(getattr(self._session, "agent_state", "initializing"))
        self._guard(self._deliver)(events.UserStateChanged(now, user, user))
        self._guard(self._deliver)(events.AgentStateChanged(now, agent, agent))

    def detach(self) -> None:
        """Unsubscribe everything and unwrap the LLM; pending speech handles report nothing."""
        self._attached = False
        for name, handler in self._handlers:
            self._session.off(name, handler)
        self._handlers.clear()
        if self._watched_output is not None and self._playback_handler is not None:
            self._watched_output.off("playback_finished", self._playback_handler)
            self._watched_output = None
        for unwrap in self._unwraps:
            unwrap()
        self._unwraps.clear()

    def _wrap_llm(self, plugin: Any) -> None:
        """See what each LLM request is really sent: wrap an LLM's ``chat()`` on the instance
        (the class is untouched), reversibly. LiveKit gives no other way to it. The session's
        LLM is wrapped at once; an agent's own LLM when that agent first speaks."""
        from livekit.agents import llm as lk_llm

        if not isinstance(plugin, lk_llm.LLM) or "chat" in vars(plugin):
            return  # not an LLM we can wrap (a realtime model), or it already is
        original = plugin.chat
        note = self._guard(self._on_chat)

        def chat(*args: Any, **kwargs: Any) -> Any:
            stream = original(*args, **kwargs)
            note((plugin, kwargs))
            return stream

        plugin.chat = chat  # type: ignore[method-assign]

        def unwrap() -> None:
            if vars(plugin).get("chat") is chat:
                del plugin.chat

        self._unwraps.append(unwrap)

    def _on_chat(self, call: tuple[Any, dict[str, Any]]) -> None:
        plugin, kwargs = call
        self._deliver(
            convert.llm_input(
                kwargs.get("chat_ctx"),
                kwargs.get("tools"),
                plugin,
                kwargs.get("extra_kwargs"),
                _current_speech_id(),
                self._clock(),
            )
        )

    def _guard(self, handler: Callable[[Payload], None]) -> Callable[[Payload], None]:
        def guarded(payload: Payload) -> None:
            if not self._attached:
                return
            try:
                handler(payload)
            except Exception as error:  # never into LiveKit: a TypeError would propagate
                self._on_internal_error(error)

        return guarded

    # -- handlers ------------------------------------------------------------------------

    def _on_metrics(self, event: Any) -> None:
        neutral = convert.metrics_event(event.metrics, self._clock())
        if neutral is not None:
            self._deliver(neutral)

    def _on_item(self, event: Any) -> None:
        item = event.item
        kind = getattr(item, "type", None)
        if kind == "agent_handoff":
            handoff = convert.agent_handoff(item, self._clock())
            if handoff is not None:
                self._deliver(handoff)
            return
        if kind != "message":
            return
        if item.role == "user":
            self._deliver(convert.user_message(item, self._clock()))
        elif item.role == "assistant":
            self._deliver(convert.agent_message(item, self._clock()))

    def _on_speech_created(self, event: Any) -> None:
        handle: SpeechHandle = event.speech_handle
        modality = getattr(getattr(handle, "input_details", None), "modality", None)
        source: Literal["say", "generate_reply", "other"] = (
            "say"
            if event.source == "say"
            else "generate_reply"
            if event.source == "generate_reply"
            else "other"
        )
        self._deliver(
            events.SpeechCreated(
                at=convert.timestamp(event.created_at, self._clock()),
                speech_id=handle.id,
                source=source,
                user_initiated=bool(event.user_initiated),
                agent=self._agent_id(),
                modality=modality if modality in ("audio", "text") else None,
            )
        )
        handle.add_done_callback(self._guard(self._on_speech_done))
        self._watch_playback()
        if self._capture_llm_input:
            self._wrap_llm(self._agent_llm())

    def _watch_playback(self) -> None:
        """Listen to the audio output (it exists once a speech is created) for how much of
        each segment played: what the caller heard of an interrupted reply."""
        output = getattr(self._session.output, "audio", None)
        if output is None or output is self._watched_output:
            return
        if self._watched_output is not None and self._playback_handler is not None:
            self._watched_output.off("playback_finished", self._playback_handler)
        handler = self._guard(self._on_playback_finished)
        output.on("playback_finished", handler)
        self._watched_output, self._playback_handler = output, handler

    def _on_playback_finished(self, event: Any) -> None:
        self._deliver(
            events.PlaybackFinished(
                at=self._clock(),
                position=convert.seconds(getattr(event, "playback_position", None)),
                interrupted=bool(getattr(event, "interrupted", False)),
            )
        )

    def _agent_llm(self) -> Any:
        """The LLM of the agent now running, when it has one of its own."""
        try:
            return self._session.current_agent.llm
        except Exception:  # no agent running yet: LiveKit raises
            return None

    def _agent_id(self) -> str | None:
        try:
            return str(self._session.current_agent.id)
        except Exception:  # no agent running yet: LiveKit raises
            return None

    def _on_speech_done(self, handle: SpeechHandle) -> None:
        items = list(handle.chat_items)
        queue_wait = getattr(handle, "_queue_wait", None)  # private in 1.8.9: read defensively
        self._deliver(
            events.SpeechDone(
                at=self._clock(),
                speech_id=handle.id,
                interrupted=bool(handle.interrupted),
                scheduled=bool(handle.scheduled),
                message_ids=tuple(i.id for i in items if i.type == "message"),
                tool_call_ids=_tool_call_ids(items),
                queue_wait=convert.seconds(queue_wait()) if callable(queue_wait) else None,
            )
        )

    def _on_transcript(self, event: Any) -> None:
        self._deliver(
            events.UserTranscript(
                at=convert.timestamp(event.created_at, self._clock()),
                text=str(event.transcript),
                is_final=bool(event.is_final),
                language=str(event.language) if event.language else None,
            )
        )

    def _on_user_state(self, event: Any) -> None:
        at = convert.timestamp(event.created_at, self._clock())
        self._deliver(events.UserStateChanged(at, str(event.old_state), str(event.new_state)))

    def _on_agent_state(self, event: Any) -> None:
        at = convert.timestamp(event.created_at, self._clock())
        self._deliver(events.AgentStateChanged(at, str(event.old_state), str(event.new_state)))
        self._note_room(None)

    def _note_room(self, _: None) -> None:
        """Deliver the room's name once it is known. ``start()`` makes the RoomIO and
        connects the room before it enters "listening", so the agent's state changes are
        where it becomes known; a session started without a room is settled at once."""
        if self._room_settled:
            return
        room = _session_room(self._session)
        if room is None:
            self._room_settled = session_started(self._session)
            return
        name = room_name(self._session)
        if name is not None:
            self._room_settled = True
            self._deliver(events.RoomJoined(self._clock(), name))

    def _on_tool_update(self, event: Any) -> None:
        update = event.update
        at = convert.timestamp(event.created_at, self._clock())
        if update.type == "tool_call_started":
            call = update.function_call
            self._tools_announced[call.call_id] = None
            while len(self._tools_announced) > TOOLS_REMEMBERED:
                del self._tools_announced[next(iter(self._tools_announced))]
            self._deliver(events.ToolStarted(at, call.call_id, call.name, call.arguments))
        elif update.type == "tool_call_ended":
            self._deliver(events.ToolEnded(at, update.call_id, update.status, None))

    def _on_tools_executed(self, event: Any) -> None:
        at = convert.timestamp(event.created_at, self._clock())
        for call in event.function_calls:
            # a call LiveKit could not run (an unknown function, arguments that do not
            # parse) has no start event: this is its only report. For a call that ran, the
            # recorder keeps the start it already has.
            if call is not None:
                started = convert.timestamp(getattr(call, "created_at", None), at)
                self._deliver(
                    events.ToolStarted(min(started, at), call.call_id, call.name, call.arguments)
                )
        self._end_unannounced_tools(event, at)
        for output in event.function_call_outputs:
            if output is None:
                continue
            status: Literal["done", "error"] = "error" if output.is_error else "done"
            self._deliver(events.ToolEnded(at, output.call_id, status, output.output))

    def _end_unannounced_tools(self, event: Any, at: float) -> None:
        """End the calls no ``tool_execution_updated`` announced at their output's
        ``created_at`` (LiveKit before 1.6.5 has no such event; the batch started them at
        their ``FunctionCall.created_at``): the exact end, not the batch's, for each call.
        Never after this event; announced calls keep their status event's times."""
        outputs = {o.call_id: o for o in event.function_call_outputs if o is not None}
        for call in event.function_calls:
            if call is None:
                continue
            if call.call_id in self._tools_announced:
                del self._tools_announced[call.call_id]
                continue
            output = outputs.get(call.call_id)
            if output is None:
                continue
            started = min(convert.timestamp(getattr(call, "created_at", None), at), at)
            ended = convert.timestamp(getattr(output, "created_at", None), at)
            status: Literal["done", "error"] = "error" if output.is_error else "done"
            ended = min(max(ended, started), at)
            self._deliver(events.ToolEnded(ended, call.call_id, status, output.output))

    def _on_false_interruption(self, event: Any) -> None:
        at = convert.timestamp(event.created_at, self._clock())
        self._deliver(events.FalseInterruption(at, bool(event.resumed)))

    def _on_error(self, event: Any) -> None:
        self._deliver(convert.error_event(event.error, self._clock()))

    def _on_close(self, event: Any) -> None:
        error = event.error
        cause = getattr(error, "error", None) if error is not None else None
        self._deliver(
            events.SessionClosed(
                at=convert.timestamp(event.created_at, self._clock()),
                reason=str(getattr(event.reason, "value", event.reason)),
                error_type=type(cause or error).__name__ if error is not None else None,
                error_message=str(cause or error)[: convert.MESSAGE_LIMIT] if error else None,
            )
        )
