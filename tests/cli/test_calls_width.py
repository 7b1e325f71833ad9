"""The reading commands at any terminal width. `turnscope calls`: at 80 columns a call's
start and length stay on one line however wide its figures are; narrower, text folds and
every figure is printed whole (a terminal cuts a table's last columns: a cut number reads
as another number). The report's, trend's and compare's tables the same (report.fit)."""

from __future__ import annotations

import json
import re
import sqlite3
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from tests.report.stores import store_as
from turnscope.cli import main

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory, simulations: SimulationCache) -> Path:
    """Three calls; 'call-slow' lasted an hour, its e2e p50 1 s, p95 1234 ms and worst turn
    12345 ms, and it cost over a dollar: the widest figures a real call list shows."""
    db = tmp_path_factory.mktemp("width") / "wide.db"
    store_as(db, simulations.recorded("basic"), "call-slow", user_id="alice", room="lobby")
    store_as(db, simulations.recorded("errors"), "call-err", user_id="bob", tags=("prod",))
    store_as(db, simulations.recorded("bargein"), "call-barge", session_id="a-session-id-long"
             "er-than-any-column-0123456789")  # fmt: skip
    with sqlite3.connect(db) as raw:
        (summary,) = raw.execute("SELECT summary FROM calls WHERE call_id = 'call-slow'").fetchone()
        figures = {**json.loads(summary), "e2e_p50": 1.0, "e2e_p95": 1.234, "e2e_max": 12.345}
        raw.execute(
            "UPDATE calls SET summary = ?, cost_usd = 1.23456, ended_at = started_at + 3725 "
            "WHERE call_id = 'call-slow'",
            (json.dumps(figures),),
        )
        raw.execute("UPDATE turns SET e2e = 12.345 WHERE call_id = 'call-slow' AND turn = 2")
    return db


def _listed(db: Path, columns: int) -> str:
    result = CliRunner().invoke(main, ["calls", "--db", str(db)], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.output


def _expected(call: dict[str, Any]) -> list[str]:
    """The figures a reader must find whole, from the JSON (ms rounded, cost in dollars)."""

    def ms(seconds: float) -> str:
        return str(round(seconds * 1000))

    cost = call["cost_usd"]
    return [
        ms(call["e2e_p50"]),
        ms(call["e2e_p95"]),
        f"{ms(call['e2e_max'])} #{call['worst_turn']}",
        f"${cost:.4f}" if cost >= 0.01 else f"${cost:.5f}",
    ]


def test_wide_figures_keep_each_calls_start_and_length_on_one_line_at_80(wide: Path) -> None:
    """The newcomer's input: p95 1234 ms and worst 12345 ms folded '… · ' from '3725s'."""
    output = _listed(wide, 80)
    assert all(len(line) <= 80 for line in output.splitlines())
    starts = re.findall(r"^\d{4}-\d\d-\d\d \d\d:\d\d · (\d+)s +\d+ ", output, re.MULTILINE)
    assert len(starts) == 3, output  # each call's start, length and figures on one row
    assert "3725" in starts
    slow = next(line for line in output.splitlines() if " · 3725s " in line)
    assert re.search(r" 4 +1000 +1234 +12345 #2 +\$1\.2346 +0 +0$", slow), slow


@pytest.mark.parametrize("columns", [100, 80, 72, 60, 50, 40, 30])
def test_every_figure_is_printed_whole_at_any_width(wide: Path, columns: int) -> None:
    """Narrower than the table needs, each call is stacked: text folds, figures are whole
    `label value` pairs; nothing is cut ('…') and no line runs past the terminal."""
    output = _listed(wide, columns)
    assert "…" not in output
    assert all(len(line) <= columns for line in output.splitlines()), output
    listed = json.loads(CliRunner().invoke(main, ["calls", "--db", str(wide), "--json"]).output)
    for call in listed["calls"]:
        for figure in _expected(call):
            assert re.search(rf"(?<![\w.$]){re.escape(figure)}(?![\w.])", output), (figure, output)
    if columns < 72:  # stacked: every figure under its label
        assert "p95 1234" in output
        assert "worst 12345 #2" in output
        assert "cost $1.2346" in output
        assert output.count("err ") == 3
        assert output.count("int ") == 3


def test_the_help_says_what_the_list_prints(wide: Path) -> None:
    """It said 'one line per call' over a block of lines per call."""
    help_text = CliRunner().invoke(main, ["calls", "--help"]).output
    assert "one line per call" not in help_text.lower()
    assert "A block per call" in help_text
    output = _listed(wide, 80)
    block = output[output.index(" · 3725s") :].split("\n\n")[0]
    assert "session call-slow" in block
    assert "room lobby" in block


def _ms(seconds: float) -> str:
    return str(round(seconds * 1000))


@pytest.mark.parametrize("columns", [100, 80, 60, 45])
def test_no_reading_table_cuts_or_drops_a_number(wide: Path, columns: int) -> None:
    """The sibling: the report's tables, the trend and compare, which rich squeezed by
    cutting numbers ('1…') or dropping the last columns, in a narrow terminal."""
    db = ["--db", str(wide)]
    summary = json.loads(CliRunner().invoke(main, ["report", "--summary", *db, "--json"]).output)
    trend = json.loads(
        CliRunner().invoke(main, ["report", "--trend", "hour", *db, "--json"]).output
    )
    sides = ["--base", "user=alice", "--new", "user=bob"]
    compared = json.loads(CliRunner().invoke(main, ["compare", *db, *sides, "--json"]).output)
    e2e = summary["percentiles"]["e2e"]
    (period,) = trend["periods"]
    delta = next(m for m in compared["metrics"] if m["metric"] == "e2e")["p95"]
    expected = {
        ("report", "--call", "call-slow"): ["12345", "$1.2346"],
        ("report", "--summary"): [_ms(e2e[key]) for key in ("p50", "p95", "max")],
        ("report", "--trend", "hour"): [_ms(period["e2e_p95"]), f"${period['cost_usd']:.4f}"],
        ("compare", *sides): [_ms(delta["base"]), f"{delta['difference'] * 1000:+.0f}"],
    }
    for command, numbers in expected.items():
        output = _listed_by(wide, list(command), columns)
        assert all(len(line) <= columns for line in output.splitlines()), (command, output)
        if command[0] != "compare":  # compare's intervals are written low…high
            assert "…" not in output, (command, output)
        for number in numbers:
            assert re.search(rf"(?<![\w.]){re.escape(number)}(?![\w])", output), (number, output)


def _listed_by(db: Path, command: list[str], columns: int) -> str:
    env = {"COLUMNS": str(columns)}
    result = CliRunner().invoke(main, [command[0], "--db", str(db), *command[1:]], env=env)
    assert result.exit_code == 0, result.output
    return result.output
