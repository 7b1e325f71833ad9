"""Long calls, replayed: 10,000 turns in one call — memory held and per-turn cost, start vs end.

The neutral events of a recorded call are replayed again and again into one recorder, each
copy later in time and with ids of its own, so the call grows to 10,000 turns. They go the
real way: recorder (as on the loop) → pipeline thread (pricing) → SpanSink (to a provider
whose exporter drops what it gets, so the benchmark keeps no spans) and the local store.
After each copy the pipeline and sinks are drained, as a live call's pauses would let them.

Memory: ``tracemalloc`` snapshots taken after the first copies (warm: caches and threads
exist) and at the end, compared counting only allocations made by turnscope's own code
(files under the ``turnscope`` package). Cost: process CPU per turn of each copy, the first
tenth of the call against the last tenth (under tracemalloc, which slows both alike).

Run: python3 -m uv run python -m benchmarks.long_call [--turns 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import TYPE_CHECKING

from livekit.agents import AgentSession
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

import turnscope
from benchmarks.common import Recording, Row, median, print_table, record, shifted_events
from turnscope.context import CallContext
from turnscope.instrument import Instrumentation
from turnscope.pipeline import pipeline
from turnscope.pricing import prewarm, shared_pricer
from turnscope.sinks.spans import SpanSink
from turnscope.sinks.store import LocalStore

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


def measure(recording: Recording, turns: int) -> list[Row]:
    prewarm()
    copies = max(2 * BLOCK, -(-turns // recording.turns))
    exporter = DroppingExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))
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
    per_block: list[float] = []
    events = shifted_events(recording.neutral, copies)
    body = [e for e in recording.neutral if type(e).__name__ != "SessionClosed"]
    blocks = -(-copies // BLOCK)
    warm = max(1, blocks // 10)
    tracemalloc.start(1)
    before = 0
    for block in range(blocks):
        started = time.process_time()
        for _ in range(min(BLOCK, copies - block * BLOCK)):
            for _ in range(len(body)):
                recorder.feed(next(events))
            pipeline().drain(60.0)  # the pipeline's queue holds at most 10,000 records
        spans.flush(60.0)
        store.flush(60.0)
        per_block.append(time.process_time() - started)
        if block == warm - 1:
            before = _ours(tracemalloc.take_snapshot())
    after = _ours(tracemalloc.take_snapshot())
    tracemalloc.stop()
    for event in events:  # the close
        recorder.feed(event)
    pipeline().drain(60.0)
    spans.flush(60.0)
    store.close()
    recorded = recorder._turns
    if handle.internal_errors:
        raise handle.internal_errors[0]
    if recorded < copies * recording.turns * 0.9:
        raise RuntimeError(f"only {recorded} turns were recorded: the replay measured nothing")
    tenth = max(1, blocks // 10)
    turns_per_block = recorded / copies * BLOCK
    start = median(per_block[warm : warm + tenth]) / turns_per_block * 1e6
    end = median(per_block[-tenth - 1 : -1] or per_block[-1:]) / turns_per_block * 1e6
    growth = (after - before) / 1e6
    provider.shutdown()
    return [
        Row(
            "3 long call",
            f"memory growth, turnscope's allocations ({recorded:,} turns)",
            growth,
            "MB",
            target=TARGET_MB,
            note=f"{before / 1e6:.1f} MB after warm-up",
        ),
        Row(
            "3 long call",
            "CPU per turn, last tenth of the call",
            end,
            "µs",
            start,
            "first tenth",
            TARGET_FLAT,
            target_on_ratio=True,
            note="under tracemalloc",
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
