"""Calls played faster than real time are named beside a budget or a comparison over them.

The newcomer's input: two `turnscope demo --speed N` calls and a real-time one in one store;
`turnscope check --budget 'p95(e2e)<=1.5s'` passed on latencies the speed had shortened,
and said nothing about it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from tests.report.stores import store_as
from turnscope.cli import main
from turnscope.report.queries import select_calls
from turnscope.report.speeds import SPEED_KEY, speed_of, speeds_of
from turnscope.store import open_for_reading

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache


def _note(output: str) -> str:
    """The note under a command's figures, its wrapped lines joined ('' when none)."""
    lines = output.splitlines()
    start = next((n for n, line in enumerate(lines) if line.startswith("note:")), len(lines))
    taken = []
    for line in lines[start:]:
        if not line.strip():
            break
        taken.append(line.strip())
    return " ".join(taken)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory, simulations: SimulationCache) -> Path:
    """Real time: a live call, a user's own ``speed`` (a TTS speaking rate), a demo at 1x.
    Not: a demo at 8x (today's key), one at 4x (an older demo's ``speed``), a test's own."""
    path = tmp_path_factory.mktemp("speeds") / "mixed.db"
    basic = simulations.recorded("basic")
    calls: dict[str, dict[str, Any]] = {
        "live": {"tags": ("prod",)},
        "speaking-rate": {"tags": ("prod",), "metadata": {"speed": 1.2}},
        "demo-1x": {"tags": ("demo", "basic"), "metadata": {SPEED_KEY: 1.0}},
        "demo-8x": {"tags": ("demo", "basic"), "metadata": {SPEED_KEY: 8.0}},
        "old-demo-4x": {"tags": ("demo", "basic"), "metadata": {"speed": 4}},
        "simulated-8x": {"tags": ("ci",), "metadata": {SPEED_KEY: 8}},
    }
    for n, (call_id, context) in enumerate(calls.items()):
        store_as(path, basic, call_id, shift=n * 600.0, **context)
    return path


def test_speeds_are_read_from_the_calls_metadata(mixed: Path) -> None:
    connection = open_for_reading(mixed)
    assert speeds_of(connection, None) == {8.0: 2, 4.0: 1}
    assert speeds_of(connection, ["live", "speaking-rate", "demo-1x"]) == {}
    assert speeds_of(connection, ["old-demo-4x", "live"]) == {4.0: 1}
    assert speeds_of(connection, []) == {}


def test_a_rate_budget_alone_needs_no_note(mixed: Path) -> None:
    """The newcomer's sibling input: the note came under `error_rate<=5%` alone, a share of
    turns that no playback speed changes."""
    args = ["check", "--db", str(mixed), "--budget", "error_rate<=50%"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert _note(result.output) == ""
    cost = CliRunner().invoke(main, [*args, "--budget", "p95(call_cost)<=$1"]).output
    assert "so latency and cost budgets mean little" in _note(cost)


def test_check_names_the_calls_not_played_at_real_time(mixed: Path) -> None:
    budget = ["check", "--db", str(mixed), "--budget", "p95(e2e)<=10s"]
    result = CliRunner().invoke(main, budget, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    note = _note(result.output)
    assert note.startswith("note: 3 of these 6 calls were not played at real time")
    assert "2 at 8x, 1 at 4x" in note
    assert max(map(len, result.output.splitlines())) <= 80  # wrapped, not cut mid-word
    as_json = json.loads(CliRunner().invoke(main, [*budget, "--json"]).output)
    assert as_json["not_real_time"] == [{"speed": 8.0, "calls": 2}, {"speed": 4.0, "calls": 1}]
    real = CliRunner().invoke(main, [*budget, "--tag", "prod"])
    assert real.exit_code == 0
    assert "note" not in real.output  # a user's own `speed` is not a playback speed
    assert (
        json.loads(CliRunner().invoke(main, [*budget, "--tag", "prod", "--json"]).output)[
            "not_real_time"
        ]
        == []
    )


def test_compare_says_whether_the_sides_share_one_speed(mixed: Path) -> None:
    def note(base: str, new: str) -> str:
        args = ["compare", "--db", str(mixed), "--base", base, "--new", new]
        result = CliRunner().invoke(main, args, env={"COLUMNS": "100"})
        assert result.exit_code == 0, result.output
        return _note(result.output)

    assert note("tag=prod", "session=demo-1x") == ""
    mixed_sides = note("tag=prod", "tag=demo")
    assert "base: all 2 at real time; new: 1 at 8x, 1 at 4x of 3" in mixed_sides
    assert "mix speeds" in mixed_sides
    alike = note("session=demo-8x", "tag=ci")
    assert "every call of both sides at 8x" in alike


def test_a_calls_header_says_it_was_not_played_at_real_time(mixed: Path) -> None:
    def header(call: str) -> str:
        args = ["report", "--db", str(mixed), "--call", call]
        result = CliRunner().invoke(main, args, env={"COLUMNS": "100"})
        assert result.exit_code == 0, result.output
        return result.output.split("\n\n")[0]

    assert "played at 8x speed, not real time" in header("demo-8x")
    assert "played at 4x speed" in header("old-demo-4x")
    assert "played at" not in header("speaking-rate")
    assert "played at" not in header("demo-1x")


@pytest.mark.parametrize(
    "metadata",
    [{SPEED_KEY: 2}, {SPEED_KEY: 0}, {SPEED_KEY: -3}, {SPEED_KEY: "8"}, {SPEED_KEY: True},
     {SPEED_KEY: float("inf")}, {SPEED_KEY: 0.5}, {"speed": 3}, {}],
)  # fmt: skip
def test_one_call_and_many_are_read_by_one_rule(
    metadata: dict[str, Any], tmp_path: Path, simulations: SimulationCache
) -> None:
    """The header's rule (Python, over a call read) and the verdicts' (SQL) agree, on odd
    values too: text, booleans, zero, negative, infinite (JSON without it, as SQLite reads)."""
    path = tmp_path / "one.db"
    store_as(path, simulations.recorded("basic"), "one", tags=("demo",), metadata=metadata)
    connection = open_for_reading(path)
    (call,) = select_calls(connection)
    found = speed_of(call)
    assert speeds_of(connection, None) == ({} if found is None else {found: 1})
    expected: Any = metadata.get(SPEED_KEY, metadata.get("speed"))
    if type(expected) in (int, float) and 0 < expected < float("inf") and expected != 1:
        assert found == expected
    else:
        assert found is None


def test_the_call_list_marks_calls_not_played_at_real_time(mixed: Path) -> None:
    args = ["calls", "--db", str(mixed)]
    listed = json.loads(CliRunner().invoke(main, [*args, "--json"]).output)["calls"]
    assert {c["call_id"]: c["speed"] for c in listed} == {
        "live": None, "speaking-rate": None, "demo-1x": None,
        "demo-8x": 8.0, "old-demo-4x": 4.0, "simulated-8x": 8.0,
    }  # fmt: skip
    text = CliRunner().invoke(main, args, env={"COLUMNS": "80"}).output
    marked: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("session "):
            session = line.split()[1]
        elif line.startswith("played at"):
            marked[session] = line.strip()
    assert marked == {
        "demo-8x": "played at 8x speed",
        "old-demo-4x": "played at 4x speed",
        "simulated-8x": "played at 8x speed",
    }


def test_a_slower_speed_is_said_as_longer() -> None:
    from turnscope.cli.compare import _speed_note

    assert "2 times longer than at real time" in _speed_note(({0.5: 2}, 2), ({0.5: 3}, 3))
    assert "4 times shorter" in _speed_note(({4.0: 1}, 1), ({4.0: 2}, 2))
    assert "mix speeds" in _speed_note(({4.0: 1}, 2), ({4.0: 2}, 2))  # base: one at real time


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["report", "--summary"], "note: 3 of these 6 calls were not played at real time"),
        (["report", "--trend", "day"], "note: 3 of these 6 calls were not played"),
        (["report", "--last", "2"], "note: 2 of these 2 calls were not played"),
        (["report", "--summary", "--tag", "ci"], "note: this call was not played"),
        (["check", "--call", "demo-8x", "--budget", "p95(e2e)<=9s"], "note: this call was"),
        (["report", "--summary", "--tag", "prod"], ""),
        (["report", "--call", "demo-8x"], ""),  # its header says so already
    ],
)
def test_figures_over_calls_not_at_real_time_say_so(
    mixed: Path, args: list[str], said: str
) -> None:
    """The newcomer's sibling inputs: `--summary` and `--trend` over 8 sped-up calls of 10
    said nothing, where `check` and `compare` did."""
    result = CliRunner().invoke(main, [*args, "--db", str(mixed)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert _note(result.output).startswith(said) if said else _note(result.output) == ""


def test_the_summarys_json_lists_them(mixed: Path) -> None:
    args = ["report", "--summary", "--json", "--db", str(mixed)]
    data = json.loads(CliRunner().invoke(main, args).output)
    assert data["not_real_time"] == [{"speed": 8.0, "calls": 2}, {"speed": 4.0, "calls": 1}]
    trend = json.loads(CliRunner().invoke(main, [*args[:1], "--trend", "day", *args[2:]]).output)
    assert trend["not_real_time"] == data["not_real_time"]
