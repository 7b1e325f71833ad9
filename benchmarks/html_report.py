"""The HTML report over a 1,000-turn call: how big the file is, how long it takes to write
and to draw.

Simulates a `long` call once, stores its turns again and again (renumbered, shifted in
time) until the call has ``--turns`` turns, then, in this process:

- writes the HTML report (the same code as ``turnscope report --html``) next to the
  terminal report's JSON of the same call (``turnscope report --json``), the baseline;
- runs the same two as ``turnscope`` processes, where the import of the package counts too;
- opens the file in headless Chromium (Debian's ``/usr/bin/chromium``, if installed) and
  times loading it until every chart has drawn, against loading the 30-turn report.

Run: python3 -m uv run python benchmarks/html_report.py [--turns 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from click.testing import CliRunner

import turnscope
from turnscope import simulate
from turnscope.cli import main as cli
from turnscope.sinks.memory import MemorySink
from turnscope.store.writer import LocalStore

if TYPE_CHECKING:
    from collections.abc import Callable

CHROMIUM = Path("/usr/bin/chromium")


async def _recorded(turns: int) -> tuple[turnscope.Instrumentation, MemorySink]:
    sink = MemorySink()
    handles: list[turnscope.Instrumentation] = []
    await simulate.run(
        "long",
        speed=8,
        turns=turns,
        on_session=lambda s: handles.append(turnscope.instrument(s, sinks=[sink])),
    )
    await handles[0].aflush(timeout=10)
    return handles[0], sink


def build_store(
    path: Path, turns: int, handle: turnscope.Instrumentation, sink: MemorySink
) -> None:
    """One call of ``turns`` turns: the simulated ones, repeated later and later in time."""
    store = LocalStore(path)
    store.start_call(handle.context)
    template = sink.turns
    span = template[-1].ended_at - template[0].started_at + 1.0
    for n in range(turns):
        turn = template[n % len(template)]
        shift = span * (n // len(template))
        store.on_turn(
            dataclasses.replace(
                turn,
                index=n,
                started_at=turn.started_at + shift,
                ended_at=turn.ended_at + shift,
            )
        )
    (call,) = sink.calls
    store.on_call(dataclasses.replace(call, turns=turns))
    assert store.close(timeout=30)


def best(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def cli_run(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output


def process_run(*args: str) -> None:
    turnscope = Path(sys.executable).with_name("turnscope")
    subprocess.run([str(turnscope), *args], check=True, capture_output=True)


def browser_times(files: list[Path], repeat: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    found = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        for file in files:

            def load(file: Path = file) -> None:
                page = browser.new_page(viewport={"width": 1300, "height": 900})
                page.goto(file.as_uri(), wait_until="load")
                assert page.evaluate("document.querySelectorAll('canvas').length") > 0
                page.close()

            found.append(best(load, repeat))
        browser.close()
    return found


def main(turns: int, repeat: int) -> None:
    handle, sink = asyncio.run(_recorded(30))
    folder = Path(tempfile.mkdtemp(prefix="turnscope-html-bench-"))
    small, large = folder / "small.db", folder / "large.db"
    build_store(small, len(sink.turns), handle, sink)
    build_store(large, turns, handle, sink)
    html = folder / "large.html"
    json_time = best(lambda: cli_run("report", "--db", str(large), "--json"), repeat)
    html_time = best(lambda: cli_run("report", "--db", str(large), "--html", str(html)), repeat)
    cli_run("report", "--db", str(small), "--html", str(folder / "small.html"))
    size = html.stat().st_size
    print(f"one call of {turns} turns; best of {repeat} runs, in this process")
    print(f"report --json (baseline)   {json_time * 1000:8.0f} ms")
    print(f"report --html              {html_time * 1000:8.0f} ms  ({html_time / json_time:.2f}×)")
    print(f"HTML file                  {size / 1e6:8.2f} MB")
    json_process = best(lambda: process_run("report", "--db", str(large), "--json"), repeat)
    html_process = best(
        lambda: process_run("report", "--db", str(large), "--html", str(html)), repeat
    )
    version = best(lambda: process_run("--version"), repeat)
    print(f"process: turnscope --version   {version * 1000:8.0f} ms  (the import alone)")
    print(f"process: report --json         {json_process * 1000:8.0f} ms")
    print(
        f"process: report --html         {html_process * 1000:8.0f} ms"
        f"  ({html_process / json_process:.2f}× --json)"
    )
    if not CHROMIUM.exists():
        print("no /usr/bin/chromium: drawing not timed")
        return
    small_load, large_load = browser_times([folder / "small.html", html], repeat)
    print(f"Chromium: load + draw, {len(sink.turns)} turns (baseline) {small_load * 1000:6.0f} ms")
    print(
        f"Chromium: load + draw, {turns} turns            {large_load * 1000:6.0f} ms"
        f"  ({large_load / small_load:.2f}×)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    main(options.turns, options.repeat)
