"""Reliability under backend faults, each figure against a healthy backend in the same run.

- Exit: seconds from ``aflush(T)`` to the agent process's exit, with 300 turns queued for a
  backend that accepts the connection and never answers (a black hole). Target: ≤ T + 0.5 s.
- Outage: the share of turns delivered when the backend answers 503 for a while, then
  recovers (turns keep coming meanwhile). Target: all of them.
- Memory: the process's memory growth while turns keep coming to a black-holed backend after
  its queues are full. Target: bounded by the queues (≤ ``MEMORY_TARGET_MB`` beyond them).
- Loop lag: the agent loop's lateness p99 while turns go to a black-holed backend, minus the
  same with a healthy one (signed, ms).

The default run is short (a 5 s outage, 5 s of memory watch); ``--outage 30`` and
``--memory-seconds 600`` give the issue's 30-second outage and 10-minute watch.

Run: python3 -m uv run python -m benchmarks.reliability [--outage 30] [--memory-seconds 600]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from livekit.agents import AgentSession
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from tests.otlp_receiver import OTLPReceiver

from benchmarks.common import Recording, Row, percentile, priced, print_table, record
from turnscope.export.exporters import EXPORT_TIMEOUT, build_tracer_provider
from turnscope.export.spans import SpanSink
from turnscope.instrument import Instrumentation
from turnscope.pricing import shared_pricer
from turnscope.records import CallContext

if TYPE_CHECKING:
    from turnscope.records import Turn

FLUSH_TIMEOUT = 2.0
EXIT_TARGET = FLUSH_TIMEOUT + 0.5
EXIT_TURNS = 300
OUTAGE_RATE = 10.0
"""Turns per second sent during the outage (a busy agent process)."""
MEMORY_TARGET_MB = 20.0
"""Memory growth allowed once the queues are full: allocator noise, not a queue."""
LAG_TICK = 0.01
LAG_TARGET_MS = 5.0


def _exit_time(turns: list[Turn], url: str) -> float:
    """Seconds from the child's ``aflush`` call to its exit (see tests/export/flush_child)."""
    with tempfile.NamedTemporaryFile(suffix=".pickle", delete=False) as file:
        file.write(pickle.dumps(turns))
    env = {
        **os.environ,
        "LANGFUSE_PUBLIC_KEY": "pk-lf-bench",
        "LANGFUSE_SECRET_KEY": "sk-lf-bench",
        "LANGFUSE_BASE_URL": url,
        "TURNSCOPE_DB": "off",
    }
    command = [file.name, str(EXIT_TURNS), str(FLUSH_TIMEOUT)]
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.export.flush_child", *command],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    started = float(child.stdout.readline().split()[1])
    child.communicate(timeout=120)
    exited = time.time()
    Path(file.name).unlink()
    return exited - started


def _sink(receiver: OTLPReceiver) -> SpanSink:
    exporter = OTLPSpanExporter(endpoint=f"{receiver.url}/v1/traces", timeout=EXPORT_TIMEOUT)
    provider = build_tracer_provider([(exporter, "OTLP", receiver.url)], Resource.create({}))
    return SpanSink(provider)


def _delivered_share(turns: list[Turn], outage: float) -> float:
    """Send turns at ``OUTAGE_RATE`` for ``outage`` s of 503s, then recover; the share of
    them whose root span the backend kept."""
    receiver = OTLPReceiver(status=503 if outage else 200).start()
    sink = _sink(receiver)
    call_id = turns[0].call_id
    sink.start_call(CallContext(call_id=call_id, session_id=call_id))
    count = max(1, int(max(outage, 1.0) * OUTAGE_RATE))
    for n in range(count):
        sink.on_turn(dataclasses.replace(turns[n % len(turns)], index=n + 1))
        time.sleep(max(outage, 1.0) / count)
    receiver.status = 200
    sink.flush(120)
    roots = {s.name for s in receiver.delivered() if s.name.startswith("turn ")}
    receiver.stop()
    return len(roots) / count


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _memory_growth(turns: list[Turn], seconds: float, black_hole: bool) -> float:
    """MB the process grows while turns keep coming for ``seconds`` after the queues filled."""
    from turnscope.export import processor

    receiver = OTLPReceiver(black_hole=black_hole).start()
    sink = _sink(receiver)
    call_id = turns[0].call_id
    sink.start_call(CallContext(call_id=call_id, session_id=call_id))
    n = 0
    spans_per_turn = 8
    while n * spans_per_turn < 2 * processor.QUEUE_LIMIT:  # fill the queues first
        sink.on_turn(dataclasses.replace(turns[n % len(turns)], index=n + 1))
        n += 1
    _drained(sink, 60)
    before = _rss_mb()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for _ in range(100):
            sink.on_turn(dataclasses.replace(turns[n % len(turns)], index=n + 1))
            n += 1
        time.sleep(0.05)
    _drained(sink, 60)
    growth = _rss_mb() - before
    receiver.stop()
    return growth


async def _lag_p99(turns: list[Turn], black_hole: bool, seconds: float) -> float:
    """The loop's lateness p99 (ms) while an agent hands turns to a span sink."""
    receiver = OTLPReceiver(black_hole=black_hole).start()
    sink = _sink(receiver)
    context = CallContext(call_id=turns[0].call_id, session_id="lag")
    handle = Instrumentation(
        AgentSession(), context, [sink], grace=0.5, capture_content=True, pricer=shared_pricer(None)
    )
    handle._start()
    lags: list[float] = []
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    n = 0
    while loop.time() < end:
        expected = loop.time() + LAG_TICK
        await asyncio.sleep(LAG_TICK)
        lags.append(max(0.0, loop.time() - expected) * 1000)
        handle._emit_turn(dataclasses.replace(turns[n % len(turns)], index=n + 1))
        n += 1
    await handle.aflush(timeout=1.0)
    receiver.stop()
    return percentile(lags, 99)


async def _priced(recording: Recording) -> list[Turn]:
    return priced(recording)[0]  # LiveKit's session objects want a running loop


def _drained(sink: SpanSink, timeout: float) -> None:
    """Wait until the sink has made spans of every turn handed to it (not exported them)."""
    deadline = time.monotonic() + timeout
    while sink._queue.unfinished_tasks and time.monotonic() < deadline:
        time.sleep(0.01)


def measure(
    recording: Recording, outage: float, memory_seconds: float, *, span_queue: int | None = None
) -> list[Row]:
    """Every figure; ``span_queue`` sets the span queue's limit for the memory watch (a smaller
    queue fills sooner: ``--quick``), None keeps the shipped one."""
    from turnscope.export import processor

    turns = asyncio.run(_priced(recording))
    healthy, black_hole = OTLPReceiver().start(), OTLPReceiver(black_hole=True).start()
    try:
        exit_healthy = _exit_time(turns, healthy.url)
        exit_hung = _exit_time(turns, black_hole.url)
    finally:
        healthy.stop()
        black_hole.stop()
    share = _delivered_share(turns, outage)
    shipped = processor.QUEUE_LIMIT
    processor.QUEUE_LIMIT = span_queue or shipped
    try:
        grown = _memory_growth(turns, memory_seconds, black_hole=True)
        grown_healthy = _memory_growth(turns, memory_seconds, black_hole=False)
    finally:
        processor.QUEUE_LIMIT = shipped
    lag_seconds = max(1.0, min(5.0, outage))
    lag_hung = asyncio.run(_lag_p99(turns, True, lag_seconds))
    lag_healthy = asyncio.run(_lag_p99(turns, False, lag_seconds))
    return [
        Row(
            "6 reliability",
            f"exit after aflush({FLUSH_TIMEOUT:g}), black-holed backend",
            exit_hung,
            "s",
            baseline=exit_healthy,
            baseline_label="healthy backend",
            target=EXIT_TARGET,
            note=f"{EXIT_TURNS} turns queued",
        ),
        Row(
            "6 reliability",
            f"turns delivered after a {outage:g} s outage (503s) that recovers",
            share,
            "share",
            baseline=1.0,
            baseline_label="all sent",
            target=1.0,
            higher_is_better=True,
        ),
        Row(
            "6 reliability",
            f"memory growth over {memory_seconds:g} s of outage, queues full",
            grown,
            "MB",
            baseline=grown_healthy if grown_healthy > 0 else None,
            baseline_label="healthy backend",
            target=MEMORY_TARGET_MB,
            signed=True,
            note=f"healthy backend: {grown_healthy:+.1f} MB"
            + (f"; span queue {span_queue:,}" if span_queue else ""),
        ),
        Row(
            "6 reliability",
            "loop lag p99 delta, black-holed minus healthy backend",
            lag_hung - lag_healthy,
            "ms",
            target=LAG_TARGET_MS,
            signed=True,
            note=f"p99 {lag_hung:.1f} ms vs {lag_healthy:.1f} ms",
        ),
    ]


def main(outage: float, memory_seconds: float) -> list[Row]:
    return measure(asyncio.run(record(8)), outage, memory_seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--outage", type=float, default=5.0, help="seconds of 503s (30: issue)")
    parser.add_argument(
        "--memory-seconds", type=float, default=5.0, help="seconds of outage watched (600: issue)"
    )
    args = parser.parse_args()
    print_table(main(args.outage, args.memory_seconds))
