"""Per-turn cost: turnscope's whole path against the spans alone, made with the OTel SDK.

A recorded call (``turnscope.simulate``, scenario ``long``) is replayed into fresh
``AgentSession`` objects through ``session.emit``, through the real path ``instrument()``
builds: adapter → recorder (on the loop) → pipeline thread (pricing) → SpanSink thread →
the tracer provider's BatchSpanProcessor → an in-memory exporter; optionally the local store
(SQLite, its own writer thread) beside it.

The baseline, in the same run, creates exactly the spans turnscope exported — same names,
times, parents, attributes, events and status — directly with the OTel SDK, through the same
processor type and the same in-memory exporter: what hand-written instrumentation producing
the same traces would cost at the very least.

Cost is process CPU time (``time.process_time``: every thread, the exporters' too) from the
first event until every span is exported (and every row written), divided by the turns, less
the same replay into a do-nothing listener (LiveKit's own cost of emitting the events). CPU
time, not wall time: the sink threads sleep while they wait, and other processes on a busy
machine do not count. The figure is split by thread (each thread's own CPU clock): the loop
(adapter and recorder), the pipeline (pricing), the span sink with its exporter.

Run: python3 -m uv run python -m benchmarks.per_turn [--turns 40] [--repeat 15]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livekit import rtc
from livekit.agents import AgentSession
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status

from benchmarks.common import (
    EVENTS,
    Recording,
    Row,
    median,
    prepare_steps,
    print_table,
    record,
    thread_cpu,
    threads_named,
)
from benchmarks.common import replay_steps as _replay
from turnscope.export.spans import SpanSink
from turnscope.instrument import Instrumentation
from turnscope.livekit.adapter import LiveKitAdapter
from turnscope.pricing import prewarm, shared_pricer
from turnscope.records import CallContext
from turnscope.sinks.pipeline import pipeline
from turnscope.store.writer import LocalStore

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

    from turnscope.sinks import Sink

TARGET_RATIO = 1.5


def _provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider, exporter


def _fail(error: BaseException) -> None:
    raise error


@dataclass
class Stages:
    """CPU seconds of one replay, in all and by where it ran."""

    total: float = 0.0
    loop: float = 0.0
    """The loop's thread: LiveKit emitting the events, turnscope's adapter and recorder."""
    pipeline: float = 0.0
    """Pricing, and the hand-over to the sinks."""
    spans: float = 0.0
    """SpanSink's thread (plans and creates the spans) and the batch processor's export."""
    store: float = 0.0


async def run_turnscope(recording: Recording, *, with_store: LocalStore | None) -> Stages:
    """CPU for one replay of the call through turnscope, until every sink is done."""
    session: AgentSession[None] = AgentSession()
    now = [0.0]
    before = set(threads_named("OtelBatch"))
    provider, _ = _provider()
    exporters = [t for t in threads_named("OtelBatch") if t not in before]
    sink = SpanSink(provider)
    sinks: list[Sink] = [sink] if with_store is None else [sink, with_store]
    context = CallContext(call_id=uuid.uuid4().hex, session_id="bench")
    handle = Instrumentation(
        session, context, sinks, grace=0.5, capture_content=True, pricer=shared_pricer(None)
    )
    # the adapter reads the replayed events' own time, so turns finalize as they did live
    handle._adapter = LiveKitAdapter(
        session, handle._deliver, on_internal_error=_fail, clock=lambda: now[0]
    )
    steps = prepare_steps(recording.stream)
    workers = {
        "pipeline": [pipeline()._thread],
        "spans": [sink._thread, *exporters],
        "store": [with_store._thread] if with_store is not None else [],
    }
    cpu_before = {k: sum(thread_cpu(t) for t in v) for k, v in workers.items()}
    started, loop_started = time.process_time(), time.thread_time()
    handle._start()
    _replay(session, steps, now)
    handle._recorder.close(now[0])
    loop = time.thread_time() - loop_started
    await asyncio.get_running_loop().run_in_executor(None, pipeline().drain, 30.0)
    sink.flush(30.0)
    if with_store is not None:
        with_store.flush(30.0)
    cpu_after = {k: sum(thread_cpu(t) for t in v) for k, v in workers.items()}
    total = time.process_time() - started
    handle.detach()
    provider.shutdown()
    if handle.internal_errors:
        raise handle.internal_errors[0]
    return Stages(
        total=total,
        loop=loop,
        **{k: cpu_after[k] - cpu_before[k] for k in workers},
    )


def run_do_nothing(recording: Recording) -> float:
    """CPU seconds for the same replay with a do-nothing listener: what emitting the events
    costs LiveKit itself, subtracted from turnscope's figure (it is not turnscope's cost)."""
    session: AgentSession[None] = AgentSession()
    for name in EVENTS:
        rtc.EventEmitter.on(session, name, _do_nothing)
    steps = prepare_steps(recording.stream)
    started = time.process_time()
    _replay(session, steps, [0.0])
    return time.process_time() - started


def _do_nothing(_: Any) -> None:
    return None


def plan_of(spans: list[ReadableSpan]) -> list[tuple[ReadableSpan, list[Any]]]:
    """The exported spans as trees (roots in creation order), to create them again."""
    children: dict[int, list[ReadableSpan]] = {}
    roots = []
    for span in spans:
        if span.parent is None:
            roots.append(span)
        else:
            children.setdefault(span.parent.span_id, []).append(span)

    def tree(span: ReadableSpan) -> tuple[ReadableSpan, list[Any]]:
        assert span.context is not None
        kids = sorted(children.get(span.context.span_id, []), key=lambda s: s.start_time or 0)
        return span, [tree(k) for k in kids]

    return [tree(r) for r in sorted(roots, key=lambda s: s.start_time or 0)]


def run_baseline(trees: list[tuple[ReadableSpan, list[Any]]]) -> float:
    """CPU seconds to create the same spans directly, until they are exported."""
    provider, exporter = _provider()
    tracer = provider.get_tracer("baseline")
    root_context = trace.set_span_in_context(trace.INVALID_SPAN)

    def emit(node: tuple[ReadableSpan, list[Any]], parent: Any) -> None:
        model, kids = node
        span = tracer.start_span(
            model.name,
            context=parent,
            start_time=model.start_time,
            attributes=dict(model.attributes or {}),
        )
        if model.status.status_code.value != 0:
            span.set_status(Status(model.status.status_code, model.status.description))
        for event in model.events:
            span.add_event(event.name, dict(event.attributes or {}), timestamp=event.timestamp)
        inside = trace.set_span_in_context(span)
        for kid in kids:
            emit(kid, inside)
        span.end(end_time=model.end_time)

    started = time.process_time()
    for root in trees:
        emit(root, root_context)
    provider.force_flush()
    elapsed = time.process_time() - started
    if len(exporter.get_finished_spans()) != sum(_count(t) for t in trees):
        raise RuntimeError("the baseline did not export every span")
    provider.shutdown()
    return elapsed


def _count(node: tuple[ReadableSpan, list[Any]]) -> int:
    return 1 + sum(_count(k) for k in node[1])


async def _exported_spans(recording: Recording) -> list[ReadableSpan]:
    """The spans turnscope makes of the recorded call, as exported."""
    provider, exporter = _provider()
    session: AgentSession[None] = AgentSession()
    now = [0.0]
    context = CallContext(call_id=uuid.uuid4().hex, session_id="bench")
    sink = SpanSink(provider)
    handle = Instrumentation(
        session, context, [sink], grace=0.5, capture_content=True, pricer=shared_pricer(None)
    )
    handle._adapter = LiveKitAdapter(
        session, handle._deliver, on_internal_error=_fail, clock=lambda: now[0]
    )
    handle._start()
    _replay(session, prepare_steps(recording.stream), now)
    handle._recorder.close(now[0])
    await asyncio.get_running_loop().run_in_executor(None, pipeline().drain, 30.0)
    sink.flush(30.0)
    handle.detach()
    spans = list(exporter.get_finished_spans())
    provider.shutdown()
    return spans


async def measure(recording: Recording, repeat: int) -> list[Row]:
    prewarm()
    store = LocalStore(Path(tempfile.mkdtemp(prefix="turnscope-bench-")) / "bench.db")
    exported = await _exported_spans(recording)
    trees = plan_of(exported)
    spans_only: list[Stages] = []
    with_store: list[Stages] = []
    base: list[float] = []
    emitting: list[float] = []
    for round_ in range(repeat + 2):  # two warm-up rounds
        a = await run_turnscope(recording, with_store=None)
        b = await run_turnscope(recording, with_store=store)
        c = run_baseline(trees)
        d = run_do_nothing(recording)
        if round_ >= 2:
            spans_only.append(a)
            with_store.append(b)
            base.append(c)
            emitting.append(d)
    store.close()
    turns = recording.turns

    def us(values: list[float]) -> float:
        return median(values) / turns * 1e6

    emit = us(emitting)
    base_us = us(base)
    label = "same spans, OTel SDK"
    note = f"{turns} turns, {len(exported) / turns:.1f} spans/turn, median of {repeat}"
    return [
        Row(
            "1 per-turn cost",
            "turnscope → spans, CPU per turn",
            us([s.total for s in spans_only]) - emit,
            "µs",
            base_us,
            label,
            TARGET_RATIO,
            target_on_ratio=True,
            note=note,
        ),
        Row(
            "1 per-turn cost",
            "  of which loop: adapter + recorder",
            us([s.loop for s in spans_only]) - emit,
            "µs",
            note=f"LiveKit's own emit ({emit:.0f} µs) taken off",
        ),
        Row(
            "1 per-turn cost",
            "  of which pipeline: pricing",
            us([s.pipeline for s in spans_only]),
            "µs",
        ),
        Row(
            "1 per-turn cost",
            "  of which span sink + export",
            us([s.spans for s in spans_only]),
            "µs",
            base_us,
            label,
        ),
        Row(
            "1 per-turn cost",
            "turnscope → spans + store, CPU per turn",
            us([s.total for s in with_store]) - emit,
            "µs",
            base_us,
            label,
            TARGET_RATIO,
            target_on_ratio=True,
            note=f"store writer {us([s.store for s in with_store]):.0f} µs",
        ),
    ]


async def main(turns: int, repeat: int) -> list[Row]:
    recording = await record(turns)
    return await measure(recording, repeat)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print_table(asyncio.run(main(args.turns, args.repeat)))
