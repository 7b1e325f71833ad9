"""Run every benchmark and print one table: figure, baseline, ratio, target, pass/miss.

Run: python3 -m uv run python -m benchmarks [--quick] [--only NAME ...]

``--quick`` runs each at a tiny size (seconds, for CI: the figures are meaningless).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks import agent_impact, long_call, per_turn, reliability, store_scale, throughput
from benchmarks.common import Recording, Row, print_table, record

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(frozen=True)
class Sizes:
    recorded_turns: int
    per_turn_repeat: int
    impact_turns: int
    impact_speed: float
    impact_rounds: int
    impact_warmup: int
    """Turns of the untimed session each agent-impact process plays first."""
    long_turns: int
    export_turns: int
    store_turns: int
    cli_repeat: int
    outage: float
    """Seconds of backend outage (reliability); ``python -m benchmarks.reliability --outage
    30 --memory-seconds 600`` runs the 30-second outage and the 10-minute watch."""
    span_queue: int | None
    """The span queue's limit in the reliability benchmark's memory watch (None: the
    shipped ``QUEUE_LIMIT``); filling it is most of that benchmark's time."""


FULL = Sizes(40, 15, 15, 4.0, 2, 2, 10_000, 5_000, 1_000_000, 3, 5.0, None)
QUICK = Sizes(4, 1, 2, 8.0, 1, 1, 60, 40, 500, 1, 1.0, 2_000)

NAMES = ("per_turn", "agent_impact", "long_call", "throughput", "store_scale", "reliability")


def benchmarks(sizes: Sizes) -> dict[str, Callable[[Recording], list[Row]]]:
    return {
        "per_turn": lambda r: asyncio.run(per_turn.measure(r, sizes.per_turn_repeat)),
        "agent_impact": lambda r: agent_impact.measure(
            sizes.impact_turns,
            sizes.impact_speed,
            rounds=sizes.impact_rounds,
            warmup=sizes.impact_warmup,
        ),
        "long_call": lambda r: _in_loop(lambda: long_call.measure(r, sizes.long_turns)),
        "throughput": lambda r: _in_loop(lambda: throughput.measure(r, sizes.export_turns)),
        "store_scale": lambda r: _in_loop(
            lambda: store_scale.measure(r, sizes.store_turns, repeat=sizes.cli_repeat)
        ),
        "reliability": lambda r: reliability.measure(
            r, sizes.outage, sizes.outage, span_queue=sizes.span_queue
        ),
    }


def _in_loop(function: Callable[[], list[Row]]) -> list[Row]:
    """Run ``function`` inside an event loop (LiveKit's session objects want one)."""

    async def call() -> list[Row]:
        return function()

    return asyncio.run(call())


def run(sizes: Sizes, only: tuple[str, ...] = NAMES) -> list[Row]:
    """Every chosen benchmark, in order; the rows of all of them. Their files (stores, the
    big one included) live in one temporary folder, removed at the end."""
    with tempfile.TemporaryDirectory(prefix="turnscope-bench-") as root:
        tempfile.tempdir = root
        # the benchmarks' own sessions write their default store here, never the user's
        os.environ["TURNSCOPE_DB"] = str(Path(root) / "default.db")
        try:
            recording = asyncio.run(record(sizes.recorded_turns))
            rows: list[Row] = []
            chosen = benchmarks(sizes)
            for name in only:
                started = time.perf_counter()
                found = chosen[name](recording)
                print(f"# {name}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
                rows += found
            return rows
        finally:
            tempfile.tempdir = None


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for CI")
    parser.add_argument("--only", nargs="+", choices=NAMES, default=list(NAMES))
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = run(QUICK if args.quick else FULL, tuple(args.only))
    print(
        f"turnscope benchmarks — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{time.perf_counter() - started:.0f} s"
    )
    print_table(rows)
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                [{**asdict(r), "ratio": r.ratio, "passed": r.passed} for r in rows], indent=2
            )
        )


if __name__ == "__main__":
    main()
