"""Small things a user reads: a pipe closed by its reader, and counts that agree with
their nouns.

The newcomer's inputs: `turnscope prices | head -3` printed `turnscope: [Errno 32] Broken
pipe` (report and calls exit quietly); check's `note: 1 of these 1 calls were not played…`
and the report header's `1 turns`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from tests.report.stores import store_as
from turnscope.cli import main
from turnscope.report.speeds import SPEED_KEY

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache

_MAIN = "from turnscope.cli import main; main(prog_name='turnscope')"


@pytest.fixture(scope="module")
def one_fast_call(tmp_path_factory: pytest.TempPathFactory, simulations: SimulationCache) -> Path:
    """One call of one turn, played at 4x (as `turnscope demo --speed 4`)."""
    path = tmp_path_factory.mktemp("words") / "one.db"
    basic = simulations.recorded("basic")
    answered = next(t for t in basic.turns if t.e2e is not None)
    store_as(path, basic, "demo-basic", turns=[answered], metadata={SPEED_KEY: 4.0})
    return path


@pytest.mark.parametrize(
    "command",
    [["prices"], ["prices", "--json"], ["report", "--json"], ["check", "--budget", "p95(e2e)<9s"]],
    ids=" ".join,
)
def test_output_into_a_closed_pipe_ends_quietly(one_fast_call: Path, command: list[str]) -> None:
    """A reader gone before the first line (`| head -0`, or `head` done): exit 1, as the
    rich tables do, and nothing on stderr (nothing is wrong)."""
    read, write = os.pipe()
    os.close(read)  # no reader: the first write fails with EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-c", _MAIN, *command, "--db", str(one_fast_call)],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write)
    assert done.returncode == 1
    assert done.stderr == ""


def test_one_call_of_one_turn_is_said_in_the_singular(one_fast_call: Path) -> None:
    db = ["--db", str(one_fast_call)]
    check = CliRunner().invoke(main, ["check", *db, "--budget", "p95(e2e)<=9s"])
    assert check.exit_code == 0, check.output
    said = " ".join(check.output.split())  # the note is wrapped at the terminal's width
    assert "note: this call was not played at real time (1 at 4x" in said
    report = CliRunner().invoke(main, ["report", *db], env={"COLUMNS": "200"})
    assert "  ·  1 turn  ·  " in report.output
    assert "1 turns" not in report.output


@pytest.mark.parametrize(
    ("fast", "real", "said"),
    [
        (1, 1, "note: 1 of these 2 calls was not played at real time"),
        (2, 1, "note: 2 of these 3 calls were not played at real time"),
        (2, 0, "note: 2 of these 2 calls were not played at real time"),
    ],
)
def test_the_speed_note_agrees_with_its_counts(
    tmp_path: Path, simulations: SimulationCache, fast: int, real: int, said: str
) -> None:
    path = tmp_path / "mixed.db"
    basic = simulations.recorded("basic")
    for n in range(fast + real):
        metadata = {SPEED_KEY: 8.0} if n < fast else {}
        store_as(path, basic, f"call-{n}", shift=n * 600.0, metadata=metadata)
    check = CliRunner().invoke(main, ["check", "--db", str(path), "--budget", "p95(e2e)<=9s"])
    assert said in " ".join(check.output.split()), check.output
