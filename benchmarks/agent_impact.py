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
  too) from session start until every span is exported. The cost of tracing is that figure
  less the untraced run's: the same seeded session does the same work apart from tracing.

Run: python3 -m uv run python -m benchmarks.agent_impact [--turns 30] [--speed 4]
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

from benchmarks.common import Row, percentile, print_table, run_child
from benchmarks.receiver import ReceiverProcess

if TYPE_CHECKING:
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


async def one_run(mode: str, turns: int, speed: float, url: str) -> dict[str, Any]:
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
    if mode == "turnscope":
        prewarm()  # as instrument() does before any call: not part of the session's cost

    def attach(session: AgentSession[None]) -> None:
        if mode == "turnscope":
            handles.append(turnscope.instrument(session, tracer_provider=provider))

    lags: list[float] = []
    stop = asyncio.Event()
    probe = asyncio.create_task(_probe(lags, stop))
    cpu = time.process_time()
    result = await simulate.run("long", turns=turns, speed=speed, seed=11, on_session=attach)
    for handle in handles:
        if not await handle.aflush(timeout=30):
            raise RuntimeError("turnscope did not deliver every record")
    if provider is not None:
        provider.force_flush()
    cpu = time.process_time() - cpu
    stop.set()
    await probe
    played = len(result.chat_messages("user"))
    if provider is not None:
        provider.shutdown()
    return {
        "mode": mode,
        "turns": played,
        "cpu_per_turn": cpu / max(played, 1),
        "lag_p50": percentile(lags, 50),
        "lag_p99": percentile(lags, 99),
        "lag_max": max(lags) if lags else float("nan"),
    }


def measure(turns: int, speed: float) -> list[Row]:
    receiver = ReceiverProcess()
    runs: dict[str, dict[str, Any]] = {}
    directory = tempfile.mkdtemp(prefix="turnscope-bench-")
    os.environ.setdefault("TURNSCOPE_DB", str(Path(directory) / "impact.db"))
    try:
        for mode in MODES:
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
            )
            runs[mode] = json.loads(out.strip().splitlines()[-1])
    finally:
        spans = receiver.stop()
    if spans == 0:
        raise RuntimeError("the receiver got no spans: tracing did not export")
    none, livekit, ours = runs["none"], runs["livekit"], runs["turnscope"]
    note = f"{ours['turns']} turns at speed {speed:g}"
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
    added_ours = (ours["cpu_per_turn"] - none["cpu_per_turn"]) * 1e6
    added_livekit = (livekit["cpu_per_turn"] - none["cpu_per_turn"]) * 1e6
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
        )
    )
    rows.append(
        Row(
            "2 agent impact",
            "CPU added per turn over untraced: turnscope",
            added_ours,
            "µs",
            added_livekit,
            "LiveKit tracing",
            signed=True,
            note="each less the untraced run: noisy",
        )
    )
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--speed", type=float, default=4.0)
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(one_run(args.child, args.turns, args.speed, args.url))))
        sys.exit(0)
    print_table(measure(args.turns, args.speed))
