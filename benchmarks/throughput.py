"""Export throughput: turns per second through SpanSink to a loopback OTLP/HTTP receiver.

Priced turn records of a recorded call go to a ``SpanSink`` whose provider exports with
``BatchSpanProcessor`` → ``OTLPSpanExporter`` (HTTP, gzip protobuf) to a receiver in another
process (which decodes every request). turnscope's side — span planning and creation on the
sink's thread, batching, encoding, gzip and the HTTP posts on the exporter's thread — shares
one interpreter lock, so it runs on one core at a time. The turns go in bursts the batch
processor's queue (2,048 spans) can hold, each followed by a flush, and the receiver must
count every span.

Figures: turns per second of wall time, and turns per CPU-second of this process (the
same figure, unaffected by other processes on a busy machine).

Run: python3 -m uv run python -m benchmarks.throughput [--turns 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from benchmarks.common import (
    Recording,
    Row,
    priced,
    print_table,
    record,
    thread_cpu,
    threads_named,
)
from benchmarks.receiver import ReceiverProcess
from turnscope.export.spans import SpanSink
from turnscope.records import CallContext

if TYPE_CHECKING:
    from turnscope.records import Turn

TARGET = 1_000.0
BURST = 200
"""Turns per burst: about 1,400 spans, within the batch processor's queue."""


def measure(recording: Recording, turns: int) -> list[Row]:
    source, _ = priced(recording)
    receiver = ReceiverProcess()
    exporter = OTLPSpanExporter(endpoint=f"{receiver.url}/v1/traces", compression=Compression.Gzip)
    provider = TracerProvider()
    before = set(threads_named("OtelBatch"))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    exporting = [t for t in threads_named("OtelBatch") if t not in before]
    sink = SpanSink(provider)
    call_id = source[0].call_id
    sink.start_call(CallContext(call_id=call_id, session_id=call_id))
    batch = [replace(source[i % len(source)], index=i + 1) for i in range(turns)]
    sink.flush(30.0)
    wall, cpu = time.perf_counter(), time.process_time()
    making, sending = thread_cpu(sink._thread), sum(thread_cpu(t) for t in exporting)
    for start in range(0, turns, BURST):
        for turn in batch[start : start + BURST]:
            sink.on_turn(turn)
        if not sink.flush(60.0):
            raise RuntimeError("the exporter did not finish a burst in a minute")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    making = thread_cpu(sink._thread) - making
    sending = sum(thread_cpu(t) for t in exporting) - sending
    provider.shutdown()
    received = receiver.stop()
    expected = sum(_spans(t) for t in batch)
    if received < expected or sink.dropped:
        raise RuntimeError(f"the receiver got {received} spans of {expected}: spans were lost")
    return [
        Row(
            "4 export throughput",
            "turns/s to OTLP/HTTP gzip protobuf (wall)",
            turns / wall,
            "turns/s",
            target=TARGET,
            higher_is_better=True,
            note=f"{turns:,} turns, {expected / turns:.1f} spans/turn",
        ),
        Row(
            "4 export throughput",
            "turns per CPU-second of the exporting process",
            turns / cpu,
            "turns/s",
            target=TARGET,
            higher_is_better=True,
            note=(
                f"µs/turn: spans made {making / turns * 1e6:.0f}, "
                f"encoded + gzip + posted {sending / turns * 1e6:.0f}"
            ),
        ),
    ]


def _spans(turn: Turn) -> int:
    from turnscope.export.spantree import turn_plan

    return len(turn_plan(turn, capture=True).walk())


async def main(turns: int) -> list[Row]:
    return measure(await record(20), turns)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--turns", type=int, default=5_000)
    args = parser.parse_args()
    print_table(asyncio.run(main(args.turns)))
