"""Store and report at scale: ingest 1,000,000 turns, then report over all of them.

Ingest: the priced turns of a recorded call, again and again as calls of their own (fresh call
ids), go through ``LocalStore``'s real write path: rows built by ``on_turn`` on the caller's
thread, queued, written by the store's thread in batched transactions to a SQLite file. The
producer waits whenever the queue is nearly full, as the store would otherwise drop (a live
agent never makes turns this fast). Turns per second is wall time from the first turn until
the last row is committed; every row is counted afterwards.

Reads, as a user runs them (a fresh process each, interpreter start included), over the
whole store: ``turnscope report --summary``, ``turnscope calls`` and ``turnscope check``
(a latency, a rate and a cost budget); and ``turnscope report --html FILE`` over a store of
1,000 turns. The baseline is ``turnscope --help``: the CLI's start-up alone. Each runs three
times (median).

Run: python3 -m uv run python -m benchmarks.store_scale [--turns 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import fields, replace
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.common import Recording, Row, median, priced, print_table, record
from turnscope.records import CallContext, Turn
from turnscope.store.writer import QUEUE_LIMIT, LocalStore

if TYPE_CHECKING:
    from turnscope.records import Call

INGEST_TARGET = 20_000.0
READ_TARGET = 1.0
"""Seconds for --summary, calls and check over the whole store (issue 21)."""
HTML_TARGET = 2.0
HTML_TURNS = 1_000


def ingest(path: Path, turns: list[Turn], call: Call, total: int) -> tuple[float, int]:
    """Write ``total`` turns (calls of ``len(turns)`` turns each); (seconds, calls)."""
    store = LocalStore(path, max_mb=1_000_000)
    calls = -(-total // len(turns))
    started = time.perf_counter()
    written = 0
    for number in range(calls):
        call_id = f"bench-{number:07d}"
        store.start_call(CallContext(call_id=call_id, session_id=call_id))
        chunk = turns[: total - written]
        for turn in chunk:
            store.on_turn(_as_call(turn, call_id))
        written += len(chunk)
        store.on_call(replace(call, call_id=call_id, turns=len(chunk)))
        if store._queue.qsize() > QUEUE_LIMIT - 2 * len(turns):
            # nearly full: let the writer empty most of it (polling it closely would keep
            # taking the interpreter lock from the writer between its inserts)
            while store._queue.qsize() > QUEUE_LIMIT // 4:
                time.sleep(0.02)
    if not store.close(timeout=300):
        raise RuntimeError("the store did not finish writing in five minutes")
    elapsed = time.perf_counter() - started
    if store.dropped:
        raise RuntimeError(f"the store dropped {store.dropped} records")
    return elapsed, calls


_TURN_FIELDS = attrgetter(*(f.name for f in fields(Turn)))
assert fields(Turn)[0].name == "call_id"


def _as_call(turn: Turn, call_id: str) -> Turn:
    """``turn`` as a turn of call ``call_id``: ``dataclasses.replace`` with the fields passed
    positionally, half its cost — making the turns is the producer's work, not the store's."""
    return Turn(call_id, *_TURN_FIELDS(turn)[1:])


def _count(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("SELECT COUNT(*) FROM turns").fetchone()[0])


def _cli() -> list[str]:
    beside = Path(sys.executable).parent / "turnscope"
    found = str(beside) if beside.exists() else shutil.which("turnscope")
    if found is None:
        raise RuntimeError("the turnscope command is not installed")
    return [found]


def _timed_cli(*args: str, repeat: int = 3) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Median wall seconds of ``turnscope args`` (each run a fresh process)."""
    times = []
    done: subprocess.CompletedProcess[str] | None = None
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run([*_cli(), *args], capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            break
    assert done is not None
    return median(times), done


def measure(recording: Recording, total: int, *, repeat: int = 3) -> list[Row]:
    turns, call = priced(recording)
    directory = Path(tempfile.mkdtemp(prefix="turnscope-bench-"))
    big = directory / "big.db"
    seconds, calls = ingest(big, turns, call, total)
    stored = _count(big)
    if stored != total:
        raise RuntimeError(f"the store holds {stored} turns, not {total}")
    startup, _ = _timed_cli("--help", repeat=repeat)
    rows = [
        Row(
            "5 store at scale",
            "ingest through LocalStore",
            total / seconds,
            "turns/s",
            target=INGEST_TARGET,
            higher_is_better=True,
            note=f"{total:,} turns in {calls:,} calls, {big.stat().st_size / 1e6:,.0f} MB",
        ),
        *_reads(big, total, startup, repeat),
    ]
    small = directory / "small.db"
    ingest(small, turns, call, HTML_TURNS)
    page = directory / "report.html"
    last = str(-(-HTML_TURNS // len(turns)))
    html, done = _timed_cli(
        "report", "--html", str(page), "--db", str(small), "--last", last, repeat=repeat
    )
    if done.returncode != 0 and "no such option" in done.stderr.lower():
        rows.append(
            Row(
                "5 store at scale",
                f"report --html over {HTML_TURNS:,} turns",
                float("nan"),
                "s",
                note="not available: this build has no `report --html`",
            )
        )
    elif done.returncode != 0 or not page.exists():
        raise RuntimeError(f"turnscope report --html failed: {done.stderr.strip()}")
    else:
        rows.append(
            Row(
                "5 store at scale",
                f"report --html over {HTML_TURNS:,} turns",
                html,
                "s",
                startup,
                "turnscope --help",
                HTML_TARGET,
            )
        )
    shutil.rmtree(directory, ignore_errors=True)
    return rows


READS = {
    "report --summary": ("report", "--summary"),
    "calls": ("calls",),
    "check (3 budgets)": (
        "check", "--budget", "p95(e2e)<=1.5s", "--budget", "error_rate<=5%",
        "--budget", "p95(call_cost)<=$1",
    ),
}  # fmt: skip


def _reads(big: Path, total: int, startup: float, repeat: int) -> list[Row]:
    """``--summary``, ``calls`` and ``check`` over the whole store, against start-up."""
    rows = []
    for label, args in READS.items():
        seconds, done = _timed_cli(*args, "--db", str(big), repeat=repeat)
        if done.returncode not in (0, 1) or "Traceback" in done.stderr:
            raise RuntimeError(f"turnscope {label} failed: {done.stderr.strip()}")
        rows.append(
            Row(
                "5 store at scale",
                f"{label} over {total:,} turns",
                seconds,
                "s",
                startup,
                "turnscope --help",
                READ_TARGET,
            )
        )
    return rows


async def main(turns: int) -> list[Row]:
    return measure(await record(20), turns)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--turns", type=int, default=1_000_000)
    args = parser.parse_args()
    print_table(asyncio.run(main(args.turns)))
