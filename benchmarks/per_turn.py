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
first event until every span is exported (and every row written), divided by the turns, less the same replay into a do-nothing listener (LiveKit's own cost
of emitting the events). CPU
time, not wall time: the sink threads sleep while they wait, and other processes on a busy
machine do not count.

Run: python3 -m uv run python -m benchmarks.per_turn [--turns 40] [--repeat 15]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livekit import rtc
from livekit.agents import AgentSession
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status

from benchmarks.common import EVENTS, Recording, Row, median, prepare_steps, print_table, record
from benchmarks.common import replay_steps as _replay
from turnscope.context import CallContext
from turnscope.instrument import Instrumentation
from turnscope.livekit.adapter import LiveKitAdapter
from turnscope.pipeline import pipeline
from turnscope.pricing import prewarm, shared_pricer
from turnscope.sinks.spans import SpanSink
from turnscope.sinks.store import LocalStore

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


async def run_turnscope(
    recording: Recording, sinks: list[Sink], flushers: list[Any]
) -> tuple[float, Instrumentation]:
    """CPU seconds for one replay of the call through turnscope, until the sinks are done."""
    session: AgentSession[None] = AgentSession()
    now = [0.0]
    context = CallContext(call_id=uuid.uuid4().hex, session_id="bench")
    handle = Instrumentation(
        session, context, sinks, grace=0.5, capture_content=True, pricer=shared_pricer(None)
    )
    # the adapter reads the replayed events' own time, so turns finalize as they did live
    handle._adapter = LiveKitAdapter(
        session, handle._deliver, on_internal_error=_fail, clock=lambda: now[0]
    )
    steps = prepare_steps(recording.stream)
    started = time.process_time()
    handle._start()
    _replay(session, steps, now)
    handle._recorder.close(now[0])
    await asyncio.get_running_loop().run_in_executor(None, pipeline().drain, 30.0)
    for flush in flushers:
        flush()
    elapsed = time.process_time() - started
    handle.detach()
    if handle.internal_errors:
        raise handle.internal_errors[0]
    return elapsed, handle


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


async def measure(recording: Recording, repeat: int) -> list[Row]:
    prewarm()
    directory = Path(tempfile.mkdtemp(prefix="turnscope-bench-"))
    store = LocalStore(directory / "bench.db")
    ours_spans: list[float] = []
    ours_store: list[float] = []
    base: list[float] = []
    trees: list[tuple[ReadableSpan, list[Any]]] = []
    span_count = 0
    for round_ in range(repeat + 2):  # two warm-up rounds
        provider, exporter = _provider()
        sink = SpanSink(provider)
        spans_only, handle = await run_turnscope(
            recording, [sink], [lambda s=sink: s.flush(30.0)]
        )
        finished = list(exporter.get_finished_spans())
        provider.shutdown()
        provider, exporter = _provider()
        sink = SpanSink(provider)
        with_store, _ = await run_turnscope(
            recording,
            [sink, store],
            [lambda s=sink: s.flush(30.0), lambda: store.flush(30.0)],
        )
        provider.shutdown()
        if not trees:
            trees = plan_of(finished)
            span_count = len(finished)
        baseline = run_baseline(trees)
        emitting = run_do_nothing(recording)
        if round_ >= 2:
            ours_spans.append(spans_only - emitting)
            ours_store.append(with_store - emitting)
            base.append(baseline)
    store.close()
    turns = recording.turns
    base_us = median(base) / turns * 1e6
    note = f"{turns} turns, {span_count / turns:.1f} spans/turn, median of {repeat}"
    return [
        Row(
            "1 per-turn cost",
            "turnscope → spans, CPU per turn",
            median(ours_spans) / turns * 1e6,
            "µs",
            base_us,
            "same spans, OTel SDK",
            TARGET_RATIO,
            target_on_ratio=True,
            note=note,
        ),
        Row(
            "1 per-turn cost",
            "turnscope → spans + store, CPU per turn",
            median(ours_store) / turns * 1e6,
            "µs",
            base_us,
            "same spans, OTel SDK",
            TARGET_RATIO,
            target_on_ratio=True,
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
