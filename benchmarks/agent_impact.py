"""Agent impact: one seeded long simulated session, three ways, each in a fresh process.

- ``none``: no tracing at all;
- ``livekit``: LiveKit's built-in tracing (``livekit.agents.telemetry.set_tracer_provider``)
  to a loopback OTLP/HTTP receiver (gzip protobuf, BatchSpanProcessor);
- ``turnscope``: ``turnscope.instrument(session, tracer_provider=...)`` to the same kind of
  provider and receiver, with its default sinks (the local store on, in a temporary file).

The receiver runs in a process of its own. Each run measures, while the session plays:

- event-loop lag: a probe sleeps 5 ms at a time and records how late it wakes (actual minus
  scheduled), p50 / p99 / max — what every other callback of the agent also waits;
- process CPU per turn (``time.process_time``, all threads: the tracer's and exporter's
  too) from session start until every span is exported. The simulated session's own work
  (audio frames, VAD, scripted providers) dominates it, so it is noisy on a busy machine;
- turnscope's handlers' CPU on the loop (``time.thread_time`` around each handler LiveKit
  calls), and the CPU of every thread but the loop's (process CPU less the loop thread's):
  turnscope's pipeline, span and store threads, the exporter's, the executor a flush uses.

Each process first plays a short session untimed (two turns; ``--warmup``), as a worker that
has served a call already (the store open, the models' prices looked up, code warm); the three
modes run interleaved, ``rounds`` times each; figures are medians.

Run: python3 -m uv run python -m benchmarks.agent_impact [--turns 15] [--speed 4] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.common import (
    Row,
    median,
    percentile,
    print_table,
    run_child,
)
from benchmarks.receiver import ReceiverProcess

if TYPE_CHECKING:
    from collections.abc import Callable

    from livekit.agents import AgentSession
    from opentelemetry.sdk.trace import TracerProvider

MODES = ("none", "livekit", "turnscope")
PROBE_INTERVAL = 0.005


async def _probe(lags: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        scheduled = loop.time() + PROBE_INTERVAL
        await asyncio.sleep(PROBE_INTERVAL)
        lags.append(loop.time() - scheduled)


def _provider(url: str) -> TracerProvider:
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider()
    exporter = OTLPSpanExporter(endpoint=f"{url}/v1/traces", compression=Compression.Gzip)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


async def one_run(mode: str, turns: int, speed: float, url: str, warmup: int = 2) -> dict[str, Any]:
    """Play the session once in this process, traced as ``mode`` says."""
    import turnscope
    from turnscope import simulate
    from turnscope.pricing import prewarm

    provider = _provider(url) if mode != "none" else None
    handles: list[Any] = []
    if mode == "livekit":
        from livekit.agents.telemetry import set_tracer_provider

        assert provider is not None
        set_tracer_provider(provider)
    spent = [0.0]
    if mode == "turnscope":
        prewarm()  # as instrument() does before any call: not part of the session's cost
        _time_handlers(spent)

    def attach(session: AgentSession[None]) -> None:
        if mode == "turnscope":
            handles.append(turnscope.instrument(session, tracer_provider=provider))

    # a worker that has served a call already: stores open, models priced, code paths warm
    await simulate.run("long", turns=warmup, speed=speed, seed=3, on_session=attach)
    for handle in handles:
        await handle.aflush(timeout=30)
    if provider is not None:
        provider.force_flush()
    handles.clear()
    spent[0] = 0.0

    lags: list[float] = []
    stop = asyncio.Event()
    probe = asyncio.create_task(_probe(lags, stop))
    cpu, main = time.process_time(), time.thread_time()
    result = await simulate.run("long", turns=turns, speed=speed, seed=11, on_session=attach)
    for handle in handles:
        if not await handle.aflush(timeout=30):
            raise RuntimeError("turnscope did not deliver every record")
    if provider is not None:
        provider.force_flush()
    cpu, main = time.process_time() - cpu, time.thread_time() - main
    # every other thread: turnscope's, the exporter's, executors'. The two clocks are read one
    # after the other, so when no other thread worked the difference can come out a fraction
    # of a microsecond below zero (seen in a 3-turn run): no CPU time is negative.
    off_loop = max(0.0, cpu - main)
    stop.set()
    await probe
    played = len(result.chat_messages("user"))
    if provider is not None:
        provider.shutdown()
    return {
        "mode": mode,
        "turns": played,
        "cpu_per_turn": cpu / max(played, 1),
        "handlers_per_turn": spent[0] / max(played, 1),
        "off_loop_per_turn": off_loop / max(played, 1),
        "lag_p50": percentile(lags, 50),
        "lag_p99": percentile(lags, 99),
        "lag_max": max(lags) if lags else float("nan"),
    }


def _time_handlers(spent: list[float]) -> None:
    """Count the loop's CPU time in turnscope's handlers: every one LiveKit calls is made by
    ``LiveKitAdapter._guard``, so wrapping that wraps them all (the recorder's timer ticks,
    one ``advance`` a few µs long per finished speech, are left out)."""
    from turnscope.livekit.adapter import LiveKitAdapter

    guard = LiveKitAdapter._guard

    def timed_guard(self: LiveKitAdapter, handler: Callable[[Any], None]) -> Callable[[Any], None]:
        guarded = guard(self, handler)

        def timed(payload: Any) -> None:
            started = time.thread_time()
            try:
                guarded(payload)
            finally:
                spent[0] += time.thread_time() - started

        return timed

    LiveKitAdapter._guard = timed_guard  # type: ignore[method-assign]


def measure(turns: int, speed: float, rounds: int = 2, warmup: int = 2) -> list[Row]:
    receiver = ReceiverProcess()
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    directory = tempfile.mkdtemp(prefix="turnscope-bench-")
    os.environ.setdefault("TURNSCOPE_DB", str(Path(directory) / "impact.db"))
    try:
        for mode in [m for _ in range(rounds) for m in MODES]:  # interleaved: drift hits all
            out = run_child(
                "benchmarks.agent_impact",
                "--child",
                mode,
                "--turns",
                str(turns),
                "--speed",
                str(speed),
                "--url",
                receiver.url,
                "--warmup",
                str(warmup),
            )
            runs[mode].append(json.loads(out.strip().splitlines()[-1]))
    finally:
        spans = receiver.stop()
    if spans == 0:
        raise RuntimeError("the receiver got no spans: tracing did not export")
    none, livekit, ours = (
        {key: median([r[key] for r in runs[mode]]) for key in runs[mode][0] if key != "mode"}
        for mode in MODES
    )
    note = f"{ours['turns']:.0f} turns at speed {speed:g}, median of {rounds} runs"
    rows = []
    for key, label in (("lag_p50", "p50"), ("lag_p99", "p99"), ("lag_max", "max")):
        rows.append(
            Row(
                "2 agent impact",
                f"loop lag {label}: turnscope (untraced {none[key] * 1e3:.2f} ms)",
                ours[key] * 1e3,
                "ms",
                livekit[key] * 1e3,
                "LiveKit tracing",
                1.0,
                target_on_ratio=True,
                note=note if label == "p50" else "",
            )
        )
    rows.append(
        Row(
            "2 agent impact",
            f"CPU per turn: turnscope (untraced {none['cpu_per_turn'] * 1e3:.1f} ms)",
            ours["cpu_per_turn"] * 1e3,
            "ms",
            livekit["cpu_per_turn"] * 1e3,
            "LiveKit tracing",
            1.0,
            target_on_ratio=True,
            note="whole process: the simulated session's own CPU dominates",
        )
    )
    rows.append(
        Row(
            "2 agent impact",
            "turnscope's handlers on the loop, CPU per turn",
            ours["handlers_per_turn"] * 1e6,
            "µs",
            note="LiveKit's tracing works inline: not separable",
        )
    )
    rows.append(
        Row(
            "2 agent impact",
            f"CPU off the loop per turn (untraced {none['off_loop_per_turn'] * 1e6:.0f} µs)",
            ours["off_loop_per_turn"] * 1e6,
            "µs",
            livekit["off_loop_per_turn"] * 1e6,
            "LiveKit tracing",
            note="threads other than the loop's",
        )
    )
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--turns", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--speed", type=float, default=4.0)
    parser.add_argument("--warmup", type=int, default=2, help="turns of the untimed session")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run = one_run(args.child, args.turns, args.speed, args.url, args.warmup)
        print(json.dumps(asyncio.run(run)))
        sys.exit(0)
    print_table(measure(args.turns, args.speed, args.rounds, args.warmup))
