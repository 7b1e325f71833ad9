"""``turnscope.instrument(session)``: attach to a LiveKit session and record every turn."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
import weakref
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from turnscope import events
from turnscope.config import current_settings, report_problems
from turnscope.export.configured import export_sinks
from turnscope.export.processor import flush_ran_out_of_time
from turnscope.export.spans import SpanSink
from turnscope.guard import guarded, log_internal_error
from turnscope.livekit.adapter import (
    LiveKitAdapter,
    job_id,
    livekit_tracing_on,
    session_started,
)
from turnscope.pricing import CallTotals, prewarm, price_call, price_turn, shared_pricer
from turnscope.recording.recorder import CallRecorder
from turnscope.recording.summary import SummaryTotals, summarize
from turnscope.records import CallContext, MetadataValue
from turnscope.sinks.clean import clean
from turnscope.sinks.pipeline import pipeline
from turnscope.store.writer import LocalStore

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Mapping, Sequence

    from livekit.agents import AgentSession
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

    from turnscope.pricing import Pricer
    from turnscope.records import Call, Turn
    from turnscope.sinks import Sink

__all__ = ["Instrumentation", "instrument"]

logger = logging.getLogger("turnscope")

SHUTDOWN_FLUSH_TIMEOUT = 5.0
"""Seconds a job's shutdown waits for turnscope's last records (the supervisor allows 10)."""

MAX_KEPT_ERRORS = 100
"""Internal errors kept on the handle for inspection; a repeating bug must not grow memory."""

_instrumented: weakref.WeakKeyDictionary[Any, Instrumentation] = weakref.WeakKeyDictionary()


class Instrumentation:
    """The handle ``instrument()`` returns: update the call's identity, flush, detach."""

    def __init__(
        self,
        session: AgentSession[Any],
        context: CallContext,
        sinks: Sequence[Sink],
        *,
        grace: float,
        capture_content: bool,
        pricer: Pricer,
        joined_late: bool = False,
    ) -> None:
        self._session = session
        self.joined_late = joined_late
        """``instrument()`` came after ``session.start()``: recorded from then on."""
        self.context = context
        self._sinks = list(sinks)
        self.internal_errors: list[BaseException] = []
        """Errors turnscope caught in its own code (logged once each kind; never raised)."""
        self._arguments: dict[str, object] = {}
        self._warned_again = False
        self._recorder = CallRecorder(
            context.call_id,
            on_turn=self._emit_turn,
            on_call=self._emit_call,
            grace=grace,
            joined_late=joined_late,
            started_at=self._now() if joined_late else None,
        )
        self._adapter = LiveKitAdapter(
            session,
            self._deliver,
            on_internal_error=self._internal_error,
            capture_llm_input=capture_content,
        )
        self._pricer = pricer
        self._totals = CallTotals()
        self._summary = SummaryTotals()
        self._timers: set[asyncio.TimerHandle] = set()
        self._flushes: set[asyncio.Task[bool]] = set()

    def _start(self) -> None:
        self._to_sinks("start_call", self.context)
        self._adapter.attach()
        if self.joined_late:
            self._adapter.deliver_current_states()

    # -- public ----------------------------------------------------------------------------

    def update(
        self,
        *,
        user_id: str | None = None,
        trace_name: str | None = None,
        tags: Iterable[str] | None = None,
        metadata: Mapping[str, MetadataValue] | None = None,
        prompt_name: str | None = None,
        prompt_version: int | None = None,
    ) -> None:
        """Change the call's identity mid-call (e.g. once the caller is identified).
        Metadata is merged; tags are replaced."""
        context = self.context
        self.context = replace(
            context,
            user_id=user_id if user_id is not None else context.user_id,
            trace_name=trace_name if trace_name is not None else context.trace_name,
            tags=tuple(tags) if tags is not None else context.tags,
            metadata={**context.metadata, **(metadata or {})},
            prompt_name=prompt_name if prompt_name is not None else context.prompt_name,
            prompt_version=prompt_version if prompt_version is not None else context.prompt_version,
        )
        self._to_sinks("update_call", self.context)

    async def aflush(self, timeout: float = 5.0) -> bool:
        """Hand every finished turn to the sinks and wait (at most ``timeout`` s) for them to
        deliver it. Returns False if a sink did not finish in time.

        Bounded for real: the waiting runs in daemon threads, so a backend that never answers
        holds up neither the loop's shutdown nor the process's exit past ``timeout``. What is
        undelivered then stays queued while the process lives; at exit it is given up, counted
        and logged once.
        """
        self._recorder.advance(self._now())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout

        async def deliver() -> bool:
            if not await _off_loop(loop, pipeline().drain, timeout):
                return False
            left = max(0.0, deadline - loop.time())
            jobs = [_off_loop(loop, sink.flush, left) for sink in self._sinks]
            return all(await asyncio.gather(*jobs))

        try:
            done = await asyncio.wait_for(deliver(), timeout)
        except Exception:  # a timeout, or a sink that failed: either way not delivered
            done = False
        if not done:
            _note_late(timeout)
        return done

    def detach(self) -> None:
        """Stop listening to the session. Turns already complete stay recorded."""
        self._adapter.detach()
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        if _instrumented.get(self._session) is self:
            del _instrumented[self._session]

    # -- internals ---------------------------------------------------------------------------

    @staticmethod
    def _now() -> float:
        return time.time()

    def _deliver(self, event: events.Event) -> None:
        if isinstance(event, events.RoomJoined):
            self._room_joined(event.name)
            return
        self._recorder.feed(event)
        if isinstance(event, events.SpeechDone):
            self._advance_later(self._recorder.grace)
            self._advance_later(self._recorder.stt_wait)
        elif isinstance(event, events.UserTranscript) and event.is_final:
            self._advance_later(self._recorder.no_reply_after)
        elif isinstance(event, events.SessionClosed):
            self._recorder.close(event.at)
            self._flush_in_background()

    def _room_joined(self, name: str) -> None:
        """The LiveKit room became known: every sink gets the call's identity with it."""
        if self.context.room == name:
            return
        self.context = replace(self.context, room=name)
        self._to_sinks("update_call", self.context)

    def _flush_in_background(self) -> None:
        """At close, deliver the last turns and the call without making LiveKit wait."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self.aflush())
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    def _advance_later(self, delay: float) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        timer: asyncio.TimerHandle

        def tick() -> None:
            self._timers.discard(timer)
            try:
                self._recorder.advance(self._now())
            except Exception as error:
                self._internal_error(error)

        timer = loop.call_later(delay + 0.01, tick)
        self._timers.add(timer)

    def _emit_turn(self, turn: Turn) -> None:
        pipeline().submit(lambda: self._deliver_turn(turn))

    def _emit_call(self, call: Call) -> None:
        pipeline().submit(lambda: self._deliver_call(call))

    def _to_sinks(self, method: str, record: Any) -> None:
        """In order with the turns: through the pipeline, never straight from the loop."""

        def deliver() -> None:
            cleaned = clean(record)
            for sink in self._sinks:
                self._safely(getattr(sink, method), cleaned)

        pipeline().submit(deliver)

    def _deliver_turn(self, turn: Turn) -> None:
        """On the pipeline thread: price the turn, then hand it to every sink."""
        try:
            turn = turn.with_inputs_rendered()
        except Exception as error:  # an odd chat item: the turn goes on without its input
            self._internal_error(error)
        try:
            priced = price_turn(turn, self._pricer)
        except Exception as error:  # never lose a turn to a pricing bug
            self._internal_error(error)
            priced = turn
        priced = clean(priced)  # one value from the agent must not break a sink
        self._totals.add(priced)
        self._summary.add(priced)
        for sink in self._sinks:
            self._safely(sink.on_turn, priced)

    def _deliver_call(self, call: Call) -> None:
        try:
            priced = price_call(call, self._totals, self._pricer)
        except Exception as error:
            self._internal_error(error)
            priced = call
        try:
            priced = replace(priced, summary=summarize(priced, self._summary))
        except Exception as error:
            self._internal_error(error)
        priced = clean(priced)
        for sink in self._sinks:
            self._safely(sink.on_call, priced)

    def _safely(self, method: Any, record: Any) -> None:
        try:
            method(record)
        except Exception as error:
            self._internal_error(error)

    def _internal_error(self, error: BaseException) -> None:
        if len(self.internal_errors) < MAX_KEPT_ERRORS:
            self.internal_errors.append(error)
        log_internal_error(error, "recording a call (the record may be incomplete)")

    def _instrumented_again(self, arguments: dict[str, object]) -> None:
        """A second ``instrument()`` on this session: say once if its arguments differ."""
        differ = sorted(k for k, v in arguments.items() if self._arguments.get(k) != v)
        if differ and not self._warned_again:
            self._warned_again = True
            logger.warning(
                "turnscope: instrument() was called again on the same session with other "
                "arguments (%s); they are ignored: the first call's stand (detach() first to "
                "change them)",
                ", ".join(differ),
            )


def _off_loop(loop: asyncio.AbstractEventLoop, function: Any, *args: Any) -> asyncio.Future[Any]:
    """``function(*args)`` in a daemon thread, its result on ``loop``. Unlike the loop's
    executor, a thread still blocked at the deadline holds up neither ``asyncio.run``'s
    shutdown (which joins the executor) nor the process's exit."""
    future: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():  # given up already
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def run() -> None:
        result, error = None, None
        try:
            result = function(*args)
        except BaseException as caught:
            error = caught
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="turnscope-flush", daemon=True).start()
    return future


_noted_late = False


def _note_late(timeout: float) -> None:
    flush_ran_out_of_time()
    global _noted_late
    if not _noted_late:
        _noted_late = True
        logger.warning(
            "turnscope: aflush(timeout=%s) ran out of time with records undelivered (a backend "
            "is slow or down). They stay queued while the process lives; if it exits now they "
            "are given up and counted.",
            timeout,
        )


_noted_livekit_tracing = False


def _note_livekit_tracing(sinks: Sequence[Sink]) -> None:
    """Say once per process that LiveKit's own tracing runs beside ours (two trees)."""
    global _noted_livekit_tracing
    if _noted_livekit_tracing or not any(isinstance(s, SpanSink) for s in sinks):
        return
    if livekit_tracing_on():
        _noted_livekit_tracing = True
        logger.warning(
            "turnscope: LiveKit's built-in tracing is on too, so each call appears twice: "
            "LiveKit's agent_session tree and turnscope's turn traces (they never mix). "
            "See docs/troubleshooting.md, 'LiveKit's built-in tracing side by side'."
        )


def default_sinks(
    tracer_provider: TracerProvider | None = None, meter_provider: MeterProvider | None = None
) -> list[Sink]:
    """The sinks the configuration asks for: spans to the given tracer provider (else to the
    configured Langfuse / OTLP backends); metrics to the given meter provider (else to the
    configured OTLP endpoint); CloudWatch EMF lines when asked; and the local store unless
    it is off. A part that fails to build is logged and left out."""
    found, settings = export_sinks(tracer_provider, meter_provider)
    if settings.db is not None:
        with guarded("setting up the local store"):
            found.append(
                LocalStore.shared(
                    settings.db,
                    capture_content=settings.capture_content,
                    max_mb=settings.db_max_mb,
                )
            )
    return found


def instrument(
    session: AgentSession[Any],
    *,
    session_id: str | None = None,
    user_id: str | None = None,
    trace_name: str | None = None,
    tags: Iterable[str] | None = None,
    metadata: Mapping[str, MetadataValue] | None = None,
    prompt_name: str | None = None,
    prompt_version: int | None = None,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    prices: str | os.PathLike[str] | None = None,
    sinks: Sequence[Sink] | None = None,
    grace: float = 0.5,
) -> Instrumentation:
    """Record every turn of ``session``. Call it before ``session.start()``; called after,
    it logs one warning and records from then on (``Call.joined_late``), leaving out the
    turn under way rather than recording it wrong.

    Args:
        session: the LiveKit ``AgentSession`` to record.
        session_id: groups the call's turns (the Langfuse session); by default the LiveKit
            job id, else a fresh id.
        user_id, trace_name, tags, metadata: the call's identity on every trace.
        prompt_name, prompt_version: link the LLM generations to a Langfuse prompt.
        tracer_provider: receives the spans (never the global one unless you pass it);
            without it, one built from the settings (Langfuse, OTLP) and shared by every
            session of the process.
        meter_provider: receives the metrics (else the OTLP endpoint configured, if any).
        prices: a price override file (else ``TURNSCOPE_PRICES``).
        sinks: replaces the sinks the configuration asks for (tests and embedding).
        grace: seconds a finished speech waits for late metrics before its turn is emitted.

    Returns the handle. Instrumenting the same session twice returns the first handle
    unchanged (with one warning if the arguments differ).

    Never raises into the agent: a setting that cannot be used is logged once with the value
    used instead, and a part of the set-up that fails (an exporter, the store, prices) is
    logged once and left out while the rest runs.
    """
    arguments: dict[str, object] = {
        k: v for k, v in locals().items() if k not in ("session", "existing")
    }
    existing = _instrumented.get(session)
    if existing is not None:
        existing._instrumented_again(arguments)
        return existing
    joined_late = session_started(session)
    if joined_late:
        logger.warning(
            "turnscope: instrument() was called after session.start(): recording from now "
            "on; the turn under way is not recorded. Call instrument() before "
            "session.start() to record the whole call."
        )
    settings = current_settings(remote=True if tracer_provider is not None else None)
    report_problems(settings)
    call_id = job_id() or uuid.uuid4().hex
    context = CallContext(
        call_id=call_id,
        session_id=session_id or call_id,
        user_id=user_id,
        trace_name=trace_name,
        tags=tuple(tags or ()),
        metadata=dict(metadata or {}),
        prompt_name=prompt_name,
        prompt_version=prompt_version,
    )
    chosen = list(sinks) if sinks is not None else default_sinks(tracer_provider, meter_provider)
    with guarded("checking LiveKit's tracing"):
        _note_livekit_tracing(chosen)
    with guarded("loading prices"):
        prewarm()  # once per process, before any call: never while one is running
    pricer = _pricer(str(prices) if prices is not None else settings.prices)
    handle = Instrumentation(
        session,
        context,
        chosen,
        grace=grace,
        capture_content=settings.capture_content,
        pricer=pricer,
        joined_late=joined_late,
    )
    handle._arguments = arguments
    _instrumented[session] = handle
    with guarded("attaching to the session"):
        handle._start()
    with guarded("registering the job shutdown flush"):
        _flush_at_job_shutdown(handle)
    return handle


def _pricer(overrides: str | None) -> Pricer:
    """The prices of the override file; if it cannot be loaded at all, the packaged ones."""
    try:
        return shared_pricer(overrides)
    except Exception as error:
        log_internal_error(error, "loading prices (using the packaged prices)")
        return shared_pricer(None)


def _flush_at_job_shutdown(handle: Instrumentation) -> None:
    """Inside a LiveKit job, deliver everything before the job's process goes away."""
    from livekit.agents import get_job_context

    context = get_job_context(required=False)
    if context is None:
        return

    async def flush(reason: str = "") -> None:
        await handle.aflush(timeout=SHUTDOWN_FLUSH_TIMEOUT)

    try:
        context.add_shutdown_callback(flush)
    except Exception as error:  # an odd job context: flushing at session close still happens
        handle._internal_error(error)
