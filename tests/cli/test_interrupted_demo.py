"""`turnscope demo` stopped mid-call (Ctrl-C, SIGTERM) leaves a closed call, not one "in
progress" forever that then becomes the default `report`.

The newcomer's input: Ctrl-C about 9 s into `turnscope demo`; the store kept a call with no
end, and `turnscope report` showed `1 turns · in progress`. Real processes: the signal and
the exit are the point.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from turnscope.cli import main

if TYPE_CHECKING:
    from pathlib import Path

HANG_GUARD = 120.0
"""Seconds after which a demo that has not exited is killed and the test fails (a hang,
not a timing claim: the demo waits at most a few seconds after the signal)."""


def _interrupt_after_the_first_turn(db: Path, number: signal.Signals) -> tuple[int, str, str]:
    """Start `turnscope demo`, send ``number`` once it has printed its first turn, and
    return its exit code, stdout and stderr."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from turnscope.cli import main; main(prog_name='turnscope')",
         "demo", "--speed", "2", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
    )  # fmt: skip
    guard = threading.Timer(HANG_GUARD, process.kill)
    guard.start()
    try:
        assert process.stdout is not None
        seen = []
        for line in process.stdout:
            seen.append(line)
            if line.startswith("  turn 1:"):
                process.send_signal(number)
                break
        out, err = process.communicate()
    finally:
        guard.cancel()
    assert process.returncode != -signal.SIGKILL, "the demo hung after the signal"
    return process.returncode, "".join(seen) + out, err


@pytest.mark.parametrize(
    ("number", "code", "said"),
    [(signal.SIGINT, 1, "Aborted!"), (signal.SIGTERM, 143, "")],
    ids=["ctrl-c", "sigterm"],
)
def test_a_demo_stopped_mid_call_stores_the_call_closed_as_interrupted(
    tmp_path: Path, number: signal.Signals, code: int, said: str
) -> None:
    db = tmp_path / "demo.db"
    returncode, out, err = _interrupt_after_the_first_turn(db, number)
    assert returncode == code, (out, err)
    assert err.strip() == said  # quiet: no traceback, no LiveKit noise
    assert "stored in" not in out  # the report of a whole call is not printed
    connection = sqlite3.connect(db)
    rows = connection.execute(
        "SELECT ended_at, close_reason, turns, summary IS NOT NULL, cost_usd FROM calls"
    ).fetchall()
    ((ended_at, reason, turns, summarized, cost),) = rows
    assert ended_at is not None
    assert reason == f"interrupted ({number.name})"
    assert turns >= 1
    assert summarized
    stored = connection.execute("SELECT COUNT(*), SUM(cost_usd) FROM turns").fetchone()
    assert stored[0] == turns
    assert cost == pytest.approx(stored[1])
    report = CliRunner().invoke(main, ["report", "--db", str(db)], env={"COLUMNS": "200"})
    assert report.exit_code == 0, report.output
    assert f"closed: interrupted ({number.name})" in report.output
    assert "in progress" not in report.output
    listed = CliRunner().invoke(main, ["calls", "--db", str(db)], env={"COLUMNS": "200"})
    assert " open " not in listed.output
