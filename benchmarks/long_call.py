"""Long calls, replayed: 10,000 turns in one call — memory held and per-turn cost, start vs end.

The neutral events of a recorded call are replayed again and again into one recorder, each
copy later in time and with ids of its own, so the call grows to 10,000 turns. They go the
real way: recorder (as on the loop) → pipeline thread (pricing) → SpanSink (to a provider
whose exporter drops what it gets, so the benchmark keeps no spans) and the local store.
After each copy the pipeline and sinks are drained, as a live call's pauses would let them.

Memory: ``tracemalloc`` snapshots taken after the first copies (warm: caches and threads
exist) and at the end, compared counting only allocations made by turnscope's own code
(files under the ``turnscope`` package). Cost: process CPU per turn of each copy, the first
tenth of the call against the last tenth, by thread (each thread's own CPU clock), in a
first pass without tracemalloc; the memory is measured in a second pass.

Run: python3 -m uv run python -m benchmarks.long_call [--turns 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from livekit.agents import AgentSession
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

import turnscope
from benchmarks.common import (
    Recording,
    Row,
    median,
    print_table,
    record,
    shifted_events,
    thread_cpu,
    threads_named,
)
from turnscope.export.spans import SpanSink
from turnscope.instrument import Instrumentation
from turnscope.pricing import prewarm, shared_pricer
from turnscope.records import CallContext
from turnscope.sinks.pipeline import pipeline
from turnscope.store.writer import LocalStore

if TYPE_CHECKING:
    from collections.abc import Sequence

    from opentelemetry.sdk.trace import ReadableSpan

TARGET_MB = 20.0
TARGET_FLAT = 1.25
"""The end's per-turn cost over the start's: 'flat' allows the noise of a busy machine."""

BLOCK = 5
"""Copies of the call between two flushes of the sinks (a flush waits for the store's batch)."""

OURS = str(Path(turnscope.__file__).parent)


class DroppingExporter(SpanExporter):
    """Counts spans and keeps none: the benchmark measures turnscope, not a span buffer."""

    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans += len(spans)
        return SpanExportResult.SUCCESS


def _ours(snapshot: tracemalloc.Snapshot) -> int:
    return sum(
        stat.size
        for stat in snapshot.statistics("filename")
        if stat.traceback[0].filename.startswith(OURS)
    )


@dataclass
class LongRun:
    blocks: list[dict[str, float]]
    """Per block of copies: CPU seconds by thread (``loop``: the recorder; ``pipeline``;
    ``spans``: the span sink and its exporter; ``store``: the store's writer)."""
    turns: int
    turns_per_block: float
    before: int = 0
    after: int = 0


def replay_long(recording: Recording, copies: int, *, trace_memory: bool) -> LongRun:
    """One call of ``copies`` copies of the recording, through the recorder and sinks."""
    prewarm()
    exporter = DroppingExporter()
    provider = TracerProvider()
    before_threads = set(threads_named("OtelBatch"))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    exporters = [t for t in threads_named("OtelBatch") if t not in before_threads]
    spans = SpanSink(provider)
    store = LocalStore(Path(tempfile.mkdtemp(prefix="turnscope-bench-")) / "long.db")
    context = CallContext(call_id="long-call", session_id="long-call")
    handle = Instrumentation(
        AgentSession(),
        context,
        [spans, store],
        grace=0.5,
        capture_content=True,
        pricer=shared_pricer(None),
    )
    recorder = handle._recorder
    handle._to_sinks("start_call", context)
    workers = {
        "pipeline": [pipeline()._thread],
        "spans": [spans._thread, *exporters],
        "store": [store._thread],
    }
    events = shifted_events(recording.neutral, copies)
    body = [e for e in recording.neutral if type(e).__name__ != "SessionClosed"]
    blocks = -(-copies // BLOCK)
    warm = max(1, blocks // 10)
    run = LongRun([], 0, 0.0)
    if trace_memory:
        tracemalloc.start(1)
    for block in range(blocks):
        cpu = {k: sum(thread_cpu(t) for t in v) for k, v in workers.items()}
        loop = time.thread_time()
        for _ in range(min(BLOCK, copies - block * BLOCK)):
            for _ in range(len(body)):
                recorder.feed(next(events))
            pipeline().drain(60.0)  # the pipeline's queue holds at most 10,000 records
        spans.flush(60.0)
        store.flush(60.0)
        used = {k: sum(thread_cpu(t) for t in v) - cpu[k] for k, v in workers.items()}
        run.blocks.append({"loop": time.thread_time() - loop, **used})
        if trace_memory and block == warm - 1:
            run.before = _ours(tracemalloc.take_snapshot())
    if trace_memory:
        run.after = _ours(tracemalloc.take_snapshot())
        tracemalloc.stop()
    for event in events:  # the close
        recorder.feed(event)
    pipeline().drain(60.0)
    spans.flush(60.0)
    store.close()
    provider.shutdown()
    if handle.internal_errors:
        raise handle.internal_errors[0]
    run.turns = recorder._turns
    if run.turns < copies * recording.turns * 0.9:
        raise RuntimeError(f"only {run.turns} turns were recorded: the replay measured nothing")
    run.turns_per_block = run.turns / copies * BLOCK
    return run


def measure(recording: Recording, turns: int) -> list[Row]:
    copies = max(2 * BLOCK, -(-turns // recording.turns))
    timing = replay_long(recording, copies, trace_memory=False)
    memory = replay_long(recording, copies, trace_memory=True)
    blocks = len(timing.blocks)
    warm = max(1, blocks // 10)
    tenth = max(1, blocks // 10)

    def per_turn(chosen: list[dict[str, float]], key: str | None = None) -> float:
        values = [sum(b.values()) if key is None else b[key] for b in chosen]
        return median(values) / timing.turns_per_block * 1e6

    first = timing.blocks[warm : warm + tenth]
    last = timing.blocks[-tenth:]
    parts = ", ".join(
        f"{k} {per_turn(first, k):.0f}→{per_turn(last, k):.0f}" for k in timing.blocks[0]
    )
    return [
        Row(
            "3 long call",
            f"memory growth, turnscope's allocations ({memory.turns:,} turns)",
            (memory.after - memory.before) / 1e6,
            "MB",
            target=TARGET_MB,
            note=f"{memory.before / 1e6:.1f} MB after warm-up",
            signed=True,
        ),
        Row(
            "3 long call",
            "CPU per turn, last tenth of the call",
            per_turn(last),
            "µs",
            per_turn(first),
            "first tenth",
            TARGET_FLAT,
            target_on_ratio=True,
            note=f"µs/turn by thread: {parts}",
        ),
    ]


async def main(turns: int) -> list[Row]:
    recording = await record(40)
    return measure(recording, turns)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--turns", type=int, default=10_000)
    args = parser.parse_args()
    os.environ.setdefault("TURNSCOPE_DB", "off")
    print_table(asyncio.run(main(args.turns)))
