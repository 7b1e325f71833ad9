"""SpanSink: turn records → OpenTelemetry spans, built off the agent's event loop.

The loop only enqueues records; a worker thread plans each turn's span tree and creates the
spans with explicit start and end times (from the metrics' own timestamps), each ended once
with all its attributes. The tracer provider's batch processor exports them.

Trace modes: ``turn`` (default) — one trace per turn, grouped by the session, plus a small
``call summary`` trace at close; ``call`` — one trace per call whose root span is exported at
close (a crash leaves the turns without their root).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from importlib.metadata import version
from typing import TYPE_CHECKING, Literal

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from turnscope.export import semconv as sc
from turnscope.export.scores import Score, ScorePoster
from turnscope.export.spantree import PlannedSpan, call_summary_plan, context_attributes, turn_plan
from turnscope.guard import log_internal_error

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span, Tracer, TracerProvider
    from opentelemetry.util.types import AttributeValue

    from turnscope.export.exporters import LangfuseSettings
    from turnscope.records import Call, CallContext, Turn

__all__ = ["SpanSink", "TracePer", "shared_span_sink"]

logger = logging.getLogger("turnscope")

TracePer = Literal["turn", "call"]
QUEUE_LIMIT = 10_000
EARLIEST_SPAN_TIME = 946_684_800.0
LATEST_SPAN_TIME = 4_102_444_800.0
"""Span times accepted, in seconds since 1970: 2000-01-01 to 2100-01-01 UTC. OTLP carries
times as unsigned 64-bit nanoseconds (to the year 2554), and backends reject times near 1970;
a time outside this range is a clock or plugin bug: that span (with its children) is dropped
alone, counted and logged, rather than failing its whole batch."""


def _ns(seconds: float) -> int:
    return int(seconds * 1e9)


@dataclass
class _CallState:
    context: CallContext
    base: dict[str, AttributeValue]
    root: Span | None = None


class SpanSink:
    """Sends calls to an OpenTelemetry tracer provider (never the global one): the SDK's, or
    any of the API's (one without ``force_flush``, like the no-op provider, is flushed by
    delivering to it)."""

    def __init__(
        self,
        provider: TracerProvider,
        *,
        capture_content: bool = True,
        trace_per: TracePer = "turn",
        scores: ScorePoster | None = None,
        environment: str | None = None,
        release: str | None = None,
    ) -> None:
        self.provider = provider
        self.scores = scores
        """Where per-turn and per-session numeric scores go (Langfuse only)."""
        self.capture_content = capture_content
        self.trace_per = trace_per
        self.dropped = 0
        self.out_of_range = 0
        """Spans dropped (with their children) for a time outside the range OTLP can carry."""
        self._tracer: Tracer = provider.get_tracer("turnscope", version("turnscope"))
        self._environment = environment
        self._release = release
        self._calls: dict[str, _CallState] = {}
        self._queue: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=QUEUE_LIMIT)
        self._thread = threading.Thread(target=self._run, name="turnscope-spans", daemon=True)
        self._thread.start()

    # -- the sink protocol: enqueue only ----------------------------------------------------------

    def start_call(self, context: CallContext) -> None:
        self._put("start", context)

    def update_call(self, context: CallContext) -> None:
        self._put("update", context)

    def on_turn(self, turn: Turn) -> None:
        self._put("turn", turn)

    def on_call(self, call: Call) -> None:
        self._put("call", call)

    def flush(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.005)
        remaining_ms = int(max(0.0, deadline - time.monotonic()) * 1000)
        force_flush = getattr(self.provider, "force_flush", None)
        exported = True
        if callable(force_flush):
            # asked even when out of time: the processors then know a flush came too late
            exported = bool(force_flush(remaining_ms))
        done = self._queue.unfinished_tasks == 0 and exported
        if self.scores is not None:
            done = self.scores.flush(max(0.0, deadline - time.monotonic())) and done
        return done

    def building(self) -> int:
        """Records handed to the sink and not yet made into spans (never waits)."""
        return self._queue.unfinished_tasks

    def _put(self, kind: str, record: object) -> None:
        try:
            self._queue.put_nowait((kind, record))
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1:
                logger.warning("turnscope: span export cannot keep up; turns are being dropped")

    # -- the worker thread ------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            kind, record = self._queue.get()
            try:
                self._handle(kind, record)
            except Exception as error:  # a bug here must not stop the thread: once per kind
                log_internal_error(error, f"building spans for a {kind} record")
            finally:
                self._queue.task_done()

    def _handle(self, kind: str, record: object) -> None:
        if kind in ("start", "update"):
            self._remember(record)  # type: ignore[arg-type]
        elif kind == "turn":
            self._turn(record)  # type: ignore[arg-type]
        elif kind == "call":
            self._call(record)  # type: ignore[arg-type]

    def _remember(self, context: CallContext) -> None:
        base = context_attributes(context, environment=self._environment, release=self._release)
        state = self._calls.get(context.call_id)
        if state is None:
            state = self._calls[context.call_id] = _CallState(context, base)
            if self.trace_per == "call":
                state.root = self._tracer.start_span(
                    context.trace_name or "voice call",
                    context=trace.set_span_in_context(trace.INVALID_SPAN),
                    start_time=_ns(time.time()),
                    attributes={**base, "langfuse.observation.type": "agent"},
                )
        else:
            state.context, state.base = context, base

    def _turn(self, turn: Turn) -> None:
        state = self._calls.get(turn.call_id)
        if state is None:
            return
        plan = turn_plan(turn, capture=self.capture_content)
        _link_prompt(plan, state.context)
        parent = trace.set_span_in_context(state.root) if state.root is not None else None
        span = self._emit(plan, parent, state.base)
        if span is not None and self.scores is not None:
            self._score_turn(turn, span, state)

    def _call(self, call: Call) -> None:
        state = self._calls.pop(call.call_id, None)
        if state is None:
            return
        summary = call_summary_plan(call)
        p95 = summary.attributes.get(sc.CALL_E2E_P95)
        if self.scores is not None and isinstance(p95, float):
            self.scores.put(
                Score("e2e_p95", p95, state.context.session_id, environment=self._environment)
            )
        if state.root is not None:
            state.root.set_attributes({**summary.attributes, "langfuse.observation.type": "agent"})
            inside = trace.set_span_in_context(state.root)
            for child in summary.children:
                self._emit(child, inside, state.base)
            for name, at, attributes in summary.events:
                if _in_range(at, at):
                    state.root.add_event(name, attributes, timestamp=_ns(at))
            if summary.error:
                state.root.set_status(Status(StatusCode.ERROR, summary.error))
            in_range = _in_range(call.ended_at, call.ended_at)
            state.root.end(end_time=_ns(call.ended_at) if in_range else None)
            return
        name = f"{state.context.trace_name or 'voice call'} summary"
        self._emit(summary, None, {**state.base, "langfuse.trace.name": name})

    def _score_turn(self, turn: Turn, span: Span, state: _CallState) -> None:
        assert self.scores is not None
        ids = span.get_span_context()
        trace_id, span_id = format(ids.trace_id, "032x"), format(ids.span_id, "016x")
        for name, value in (("e2e", turn.e2e), ("total_latency", turn.total_latency)):
            if value is not None:
                self.scores.put(
                    Score(
                        name,
                        value,
                        state.context.session_id,
                        environment=self._environment,
                        trace_id=trace_id,
                        observation_id=span_id,
                    )
                )

    def _emit(
        self,
        plan: PlannedSpan,
        parent: Context | None,
        base: dict[str, AttributeValue],
    ) -> Span | None:
        if not _in_range(plan.start, plan.end):
            self._out_of_range(plan)
            return None
        span = self._tracer.start_span(
            plan.name,
            context=parent if parent is not None else trace.set_span_in_context(trace.INVALID_SPAN),
            start_time=_ns(plan.start),
            attributes={**base, **plan.attributes},
        )
        if plan.error is not None:
            span.set_status(Status(StatusCode.ERROR, plan.error))
        for name, at, attributes in plan.events:
            if _in_range(at, at):
                span.add_event(name, attributes, timestamp=_ns(at))
        inside = trace.set_span_in_context(span)
        for child in plan.children:
            self._emit(child, inside, base)
        span.end(end_time=_ns(max(plan.end, plan.start)))
        return span

    def _out_of_range(self, plan: PlannedSpan) -> None:
        self.out_of_range += len(plan.walk())
        if self.out_of_range == len(plan.walk()):
            logger.warning(
                "turnscope: span %r has a time outside 2000-2100 (start %r, end %r: a clock or "
                "plugin bug); it was dropped with its children, the rest of the turn is sent.",
                plan.name,
                plan.start,
                plan.end,
            )


def _in_range(start: float, end: float) -> bool:
    return (
        EARLIEST_SPAN_TIME <= start <= LATEST_SPAN_TIME
        and EARLIEST_SPAN_TIME <= end <= LATEST_SPAN_TIME
    )


def _link_prompt(plan: PlannedSpan, context: CallContext) -> None:
    """Put the call's Langfuse prompt on its LLM generations."""
    if not context.prompt_name:
        return
    for span in plan.walk():
        if span.name == "llm":
            span.attributes[sc.OBSERVATION_PROMPT_NAME] = context.prompt_name
            if context.prompt_version is not None:
                span.attributes[sc.OBSERVATION_PROMPT_VERSION] = context.prompt_version


_shared: dict[tuple[object, ...], SpanSink] = {}
_shared_lock = threading.Lock()


def shared_span_sink(
    provider: TracerProvider,
    *,
    capture_content: bool,
    trace_per: TracePer,
    langfuse: LangfuseSettings | None = None,
    environment: str | None = None,
    release: str | None = None,
) -> SpanSink:
    """One sink (one worker thread) per tracer provider and options, for the whole process.
    With Langfuse configured, it also posts numeric scores there."""
    key = (id(provider), capture_content, trace_per, langfuse, environment, release)
    with _shared_lock:
        sink = _shared.get(key)
        if sink is None or sink.provider is not provider:
            scores = ScorePoster(langfuse) if langfuse is not None else None
            sink = _shared[key] = SpanSink(
                provider,
                capture_content=capture_content,
                trace_per=trace_per,
                scores=scores,
                environment=environment,
                release=release,
            )
        return sink
