"""The CLI in-process, against real stores."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from tests.conftest import store_call
from turnscope.cli import main
from turnscope.records import Breakdown
from turnscope.store import open_for_writing

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One `turnscope demo` run (at test speed), shared by the tests that read its store."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    result = CliRunner().invoke(main, ["demo", "--speed", "4", "--db", str(path)])
    assert result.exit_code == 0, result.output
    return path, result.output


def test_demo_prints_a_breakdown_for_every_turn(demo_store: tuple[Path, str]) -> None:
    _, output = demo_store
    assert "turnscope demo" in output
    assert "e2e is server-side" in output
    assert "call cost $" in output
    assert output.count("cost $") >= 4  # each turn as it is recorded, and the call
    timing_rows = [line.split() for line in output.splitlines() if line.strip()[:1].isdigit()]
    # the turn, e2e, then each part some turn spent time in (the others have no column)
    header = next(line.split() for line in output.splitlines() if line.split()[:2] == ["#", "e2e"])
    assert {"endp", "llm", "tts", "oth"} <= set(header)
    assert len(header) <= 2 + len(Breakdown.PARTS)
    breakdowns = [row for row in timing_rows if len(row) == len(header) and row[1].isdigit()]
    assert len(breakdowns) == 3  # the three user turns; the greeting has no e2e
    for row in breakdowns:
        e2e, parts = int(row[1]), [int(x) for x in row[2:] if x.lstrip("-").isdigit()]
        assert abs(e2e - sum(parts)) <= 5  # the parts add up (ms rounding)


def test_report_json_has_turns_and_percentiles(demo_store: tuple[Path, str]) -> None:
    path, _ = demo_store
    result = CliRunner().invoke(main, ["report", "--db", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert "server-side" in data["note"]
    (call,) = data["calls"]
    assert call["session_id"] == "demo-basic"
    assert call["tags"] == ["demo", "basic"]
    assert [t["outcome"] for t in data["turns"]] == ["answered"] * 4
    assert data["percentiles"]["e2e"]["count"] == 3
    assert call["cost_usd"] > 0
    assert call["unpriced"] == []
    assert set(call["cost_by_component"]) == {"stt", "llm", "tts"}
    assert sum(t["cost_usd"] for t in data["turns"]) <= call["cost_usd"]
    assert set(data["percentiles"]["e2e"]) >= {"p50", "p90", "p95", "p99", "max"}


def test_report_summary_gives_only_aggregates(demo_store: tuple[Path, str]) -> None:
    path, _ = demo_store
    text = CliRunner().invoke(main, ["report", "--db", str(path), "--summary"])
    assert text.exit_code == 0
    assert "latency percentiles" in text.output
    assert "agent said" not in text.output
    data = json.loads(
        CliRunner().invoke(main, ["report", "--db", str(path), "--summary", "--json"]).output
    )
    assert "turns" not in data
    assert data["percentiles"]["llm_ttft"]["count"] == 4


def test_check_passes_fails_and_refuses_malformed_budgets(demo_store: tuple[Path, str]) -> None:
    path, _ = demo_store
    runner = CliRunner()
    ok = runner.invoke(
        main,
        ["check", "--db", str(path), "--budget", "p95(e2e)<=5s", "--budget", "max(other)<50ms"],
    )
    assert ok.exit_code == 0, ok.output
    assert "PASS  p95(e2e)<=5s" in ok.output
    assert "2 passed, 0 failed" in ok.output
    bad = runner.invoke(main, ["check", "--db", str(path), "--budget", "p50(llm_ttft)<=10ms"])
    assert bad.exit_code == 1
    assert "FAIL  p50(llm_ttft)<=10ms" in bad.output
    assert "measured" in bad.output
    malformed = runner.invoke(main, ["check", "--db", str(path), "--budget", "p95 e2e < 1"])
    assert malformed.exit_code == 2
    assert malformed.output.count("\n") == 1
    assert "cannot read budget" in malformed.output
    unknown = runner.invoke(main, ["check", "--db", str(path), "--budget", "p95(latency)<1s"])
    assert unknown.exit_code == 2
    assert "unknown metric" in unknown.output


@pytest.mark.parametrize("command", [["report"], ["check", "--budget", "p95(e2e)<1s"]])
def test_a_bad_path_or_an_empty_store_is_one_line_and_nonzero(
    tmp_path: Path, command: list[str]
) -> None:
    runner = CliRunner()
    missing = runner.invoke(main, [*command, "--db", str(tmp_path / "nope.db")])
    assert missing.exit_code == 1
    assert missing.output.count("\n") == 1
    assert "no turnscope store" in missing.output
    empty = tmp_path / "empty.db"
    open_for_writing(empty).close()
    nothing = runner.invoke(main, [*command, "--db", str(empty)])
    assert nothing.exit_code == 1
    assert nothing.output.count("\n") == 1
    assert "no calls" in nothing.output


def test_prune_deletes_old_calls_only(tmp_path: Path, simulations: SimulationCache) -> None:
    path = tmp_path / "s.db"
    store_call(path, simulations.recorded("tool_with_preamble"))
    runner = CliRunner()
    kept = runner.invoke(main, ["prune", "--db", str(path), "--older-than", "1d"])
    assert kept.exit_code == 0
    assert "pruned 0 call(s)" in kept.output
    gone = runner.invoke(main, ["prune", "--db", str(path), "--older-than", "0s"])
    assert gone.exit_code == 0
    assert "pruned 1 call(s)" in gone.output
    empty = runner.invoke(main, ["report", "--db", str(path)])
    assert empty.exit_code == 1
    assert runner.invoke(main, ["prune", "--db", str(path), "--older-than", "soon"]).exit_code == 2


def test_every_command_has_help() -> None:
    for command in (
        [],
        ["demo"],
        ["calls"],
        ["report"],
        ["check"],
        ["compare"],
        ["prune"],
        ["doctor"],
    ):
        result = CliRunner().invoke(main, [*command, "--help"])
        assert result.exit_code == 0
        assert "Usage" in result.output


def test_the_command_list_matches_each_commands_own_help() -> None:
    import click

    from turnscope.cli import COMMANDS, SHORT_HELP

    assert list(SHORT_HELP) == list(COMMANDS)
    listed = CliRunner().invoke(main, ["--help"]).output
    context = click.Context(main)
    assert isinstance(main, click.Group)
    for name in COMMANDS:
        command = main.get_command(context, name)
        assert command is not None
        said = " ".join((command.help or "").split())
        assert said.startswith(SHORT_HELP[name].split(";")[0].rstrip(".").split(", and")[0]), name
        assert name in listed


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        (["repot"], "did you mean 'report'?"),  # the newcomer's
        (["calss", "--limit", "3"], "did you mean 'calls'?"),
        (["Check"], "did you mean 'check'?"),
        (["price"], "did you mean 'prices' or 'prune'?"),
        (["lint"], "the commands: demo, calls, report, check, compare, prune, doctor, prices"),
    ],
)
def test_a_mistyped_command_names_the_one_meant_in_one_line(typed: list[str], meant: str) -> None:
    result = CliRunner().invoke(main, typed)
    assert result.exit_code == 2  # a usage error, as click exits for one
    assert result.output == f"turnscope: no such command {typed[0]!r}; {meant}\n"


@pytest.mark.parametrize(
    ("command", "meant"),
    [
        (["check", "--budget", "p95(ee2e)<=1s"], "did you mean 'e2e'? (known: "),
        (["check", "--budget", "p95(llm_tfft)<800ms"], "did you mean 'llm_ttft'? (known: "),
        (["compare", "--base", "tag=a", "--new", "tag=b", "--fail-on", "e2e,cots"],
         "did you mean 'cost'? (known: "),
        (["compare", "--base", "tags=a", "--new", "tag=b"],
         "did you mean 'tag'? write KEY=VALUE with KEY one of db, tag, "),
        # what users call the e2e is closest in letters to total_latency, which is not it
        (["check", "--budget", "p95(response_latency)<=1s"], "did you mean 'e2e'? (known: "),
        (["check", "--budget", "p95(e2e_latency)<=1.5s"], "did you mean 'e2e'? (known: "),
        (["check", "--budget", "p95(latency)<=1s"], "did you mean 'e2e'? (known: "),
        (["check", "--budget", "p50(ttft)<=600ms"], "did you mean 'llm_ttft'? (known: "),
        (["compare", "--base", "tag=a", "--new", "tag=b", "--fail-on", "response_time"],
         "did you mean 'e2e'? (known: "),
    ],
)  # fmt: skip
def test_a_mistyped_metric_names_the_one_meant(
    tmp_path: Path, command: list[str], meant: str
) -> None:
    """The sibling: a metric name is mistyped as often as a command (read before any store)."""
    result = CliRunner().invoke(main, [*command, "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 2
    (line,) = result.output.splitlines()
    assert f": {meant}" in line or f"; {meant}" in line


@pytest.mark.parametrize("command", [["report"], ["calls"], ["check", "--budget", "p95(e2e)<1s"]])
@pytest.mark.parametrize("kind", ["folder", "not-a-store"])
def test_a_store_named_by_turnscope_db_that_cannot_be_read_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], kind: str
) -> None:
    """The newcomer's `TURNSCOPE_DB=/tmp/somefolder turnscope report`: the line named the
    folder, not that the value came from TURNSCOPE_DB (no --db was given)."""
    path = tmp_path / "calls"
    if kind == "folder":
        path.mkdir()
        said = f"{path} is a folder"
    else:
        path.write_text("LANGFUSE_PUBLIC_KEY=pk-lf-1\n" * 40)
        said = f"{path} is not a turnscope store"
    monkeypatch.setenv("TURNSCOPE_DB", str(path))
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1
    assert result.output.startswith(f"turnscope: TURNSCOPE_DB: {said}")
    assert result.output.count("\n") == 1
    if kind == "not-a-store":  # given with --db, the line is about --db's file as it was
        named = CliRunner().invoke(main, [*command, "--db", str(path)])
        assert named.output.startswith(f"turnscope: {said}")


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (["report", "--html", ""], "--html"),  # the newcomer's: "Device or resource busy"
        (["report", "--db", ""], "--db"),
        (["calls", "--db", "  "], "--db"),
        (["prices", "--prices", ""], "--prices"),
        (["compare", "--db", "", "--base", "tag=a", "--new", "tag=b"], "--db"),
    ],
)
def test_an_empty_path_is_said_to_be_empty(command: list[str], option: str) -> None:
    """click reads `''` as the current folder, and the error was then about that folder."""
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 2
    assert f"Invalid value for '{option}': the path is empty; name a file" in result.output


@pytest.mark.parametrize(
    ("command", "meant"),
    [
        (["demo", "--scenario", "bargin"],
         "'bargin' is not one of the choices; did you mean 'bargein'?"),
        (["demo", "--profile", "realstic"], "did you mean 'realistic'?"),
        (["demo", "--stack", "exmaple"], "did you mean 'example'?"),
    ],
)  # fmt: skip
def test_a_mistyped_demo_choice_names_the_one_meant(command: list[str], meant: str) -> None:
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 2
    assert meant in result.output


def test_a_demo_choice_like_none_lists_them_all() -> None:
    result = CliRunner().invoke(main, ["demo", "--scenario", "zzz"])
    assert result.exit_code == 2
    assert "'zzz' is not one of 'away', 'bad_tool_calls', 'bargein'" in result.output
