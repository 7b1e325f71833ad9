"""`turnscope compare` on real stores: a slower profile is found worse beyond noise, the
same calls are not, and --fail-on gates CI on it."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from tests.report.stores import store_as
from turnscope.cli import main
from turnscope.report.compare import MIN_VALUES, compare_values

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, simulations: SimulationCache) -> Path:
    """One store: a fast run (tag v1), a slow run (tag v2), and the fast run again (tag v1b)."""
    path = tmp_path_factory.mktemp("compare") / "runs.db"
    fast, slow = simulations.longs("fast", "slow")
    store_as(path, fast, "fast-1", tags=("v1",))
    store_as(path, slow, "slow-1", tags=("v2",))
    store_as(path, fast, "fast-2", tags=("v1b",))
    return path


def _compare(path: Path, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(main, ["compare", "--db", str(path), *args, "--json"])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)


def test_a_slower_run_is_worse_and_fails_the_gate(runs: Path) -> None:
    code, data = _compare(runs, "--base", "tag=v1", "--new", "tag=v2", "--fail-on", "e2e,cost")
    assert data["schema"] == "turnscope.compare/1"
    e2e = next(m for m in data["metrics"] if m["metric"] == "e2e")
    assert e2e["base_count"] >= MIN_VALUES
    assert e2e["p95"]["new"] > e2e["p95"]["base"]
    assert e2e["verdict"] == "worse"
    assert e2e["p95"]["low"] > 0
    assert code == 1
    assert data["failed_on"] == ["e2e"]
    assert data["undecided"] == ["call_cost"]  # one call a side: too few for a verdict
    cost = next(m for m in data["metrics"] if m["metric"] == "call_cost")
    assert cost["verdict"] == "too few"


def test_the_other_way_round_is_better_and_passes(runs: Path) -> None:
    code, data = _compare(runs, "--base", "tag=v2", "--new", "tag=v1", "--fail-on", "e2e")
    e2e = next(m for m in data["metrics"] if m["metric"] == "e2e")
    assert e2e["verdict"] == "better"
    assert code == 0


def test_the_same_calls_again_are_the_same(runs: Path) -> None:
    code, data = _compare(runs, "--base", "tag=v1", "--new", "tag=v1b", "--fail-on", "e2e")
    assert code == 0
    assert data["undecided"] == []
    verdicts = {m["metric"]: m["verdict"] for m in data["metrics"]}
    assert verdicts["e2e"] == "same"
    assert "worse" not in verdicts.values()
    text = CliRunner().invoke(
        main, ["compare", "--db", str(runs), "--base", "tag=v1", "--new", "tag=v2"],
        env={"COLUMNS": "80"},
    )  # fmt: skip
    assert text.exit_code == 0  # no --fail-on: a report, not a gate
    lines = text.output.splitlines()
    assert all(len(line) <= 80 for line in lines)
    _, worse = _compare(runs, "--base", "tag=v1", "--new", "tag=v2")
    for metric in worse["metrics"]:  # each verdict whole, under its metric's name
        at = next(i for i, line in enumerate(lines) if line.split()[:1] == [metric["metric"]])
        assert lines[at + 1].split()[1:2] == metric["verdict"].split()[:1], lines[at + 1]


def test_two_stores_and_bad_sides(runs: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    copy.write_bytes(runs.read_bytes())
    code, data = _compare(runs, "--base", f"db={runs}", "--base", "tag=v1",
                          "--new", f"db={copy}", "--new", "tag=v1")  # fmt: skip
    assert code == 0
    e2e = next(m for m in data["metrics"] if m["metric"] == "e2e")
    assert e2e["p50"]["difference"] == 0
    bad = CliRunner().invoke(main, ["compare", "--db", str(runs), "--base", "colour=red"])
    assert bad.exit_code == 2
    assert "KEY=VALUE" in bad.output
    none = CliRunner().invoke(
        main, ["compare", "--db", str(runs), "--base", "tag=nope", "--new", "tag=v1"]
    )
    assert none.exit_code == 1
    assert "no calls match the base side" in none.output


@pytest.mark.parametrize("given", [("--base", "tag=v1"), ("--new", "tag=v2")])
def test_one_side_alone_is_refused(runs: Path, given: tuple[str, str]) -> None:
    """The newcomer's input: `--base tag=basic` alone compared it with every call, the base
    calls included, and said nothing."""
    alone = CliRunner().invoke(main, ["compare", "--db", str(runs), *given])
    assert alone.exit_code == 2
    missing = "--new" if given[0] == "--base" else "--base"
    assert f"{missing} KEY=VALUE is missing" in alone.output


def test_a_gate_on_a_metric_it_cannot_judge_fails(runs: Path) -> None:
    """The newcomer's input: `--fail-on e2e,cost` with every verdict `too few` passed. No
    evidence proves nothing, as for `check`; the sibling: a metric no call has at all."""
    code, data = _compare(runs, "--base", "tag=v1", "--new", "tag=v1b", "--fail-on", "cost")
    assert (code, data["failed_on"], data["undecided"]) == (1, [], ["call_cost"])
    code, data = _compare(
        runs, "--base", "tag=v1", "--new", "tag=v1b", "--fail-on", "realtime_ttft"
    )
    assert (code, data["undecided"]) == (1, ["realtime_ttft"])  # a pipeline: no values
    text = CliRunner().invoke(
        main, ["compare", "--db", str(runs), "--base", "tag=v1", "--new", "tag=v1b",
               "--fail-on", "e2e,cost"],
    )  # fmt: skip
    assert text.exit_code == 1
    assert "no verdict on call_cost (too few)" in text.output


def test_the_verdict_is_seeded_and_needs_enough_values() -> None:
    base = [0.2 + 0.001 * n for n in range(40)]
    new = [v + 0.05 for v in base]
    first = compare_values("e2e", base, new)
    assert first == compare_values("e2e", base, new)  # the same data, the same interval
    assert first.verdict == "worse"
    assert compare_values("e2e", base[:5], new[:5]).verdict == "too few"


@pytest.fixture(scope="module")
def nudged(tmp_path_factory: pytest.TempPathFactory, simulations: SimulationCache) -> Path:
    """The same call twice: 'v1', and 'v2' whose turns' e2e is 0.2 ms shorter, whose LLM
    first token is 0.4 ms longer, and whose cost is $0.00001 lower — differences below the
    last digit compare prints."""
    import sqlite3

    path = tmp_path_factory.mktemp("nudged") / "nudged.db"
    basic = simulations.recorded("basic")
    store_as(path, basic, "call-v1", tags=("v1",))
    store_as(path, basic, "call-v2", tags=("v2",))
    with sqlite3.connect(path) as raw:
        raw.execute(
            "UPDATE turns SET e2e = e2e - 0.0002, llm_ttft = llm_ttft + 0.0004 "
            "WHERE call_id = 'call-v2'"
        )
        raw.execute("UPDATE calls SET cost_usd = cost_usd - 0.00001 WHERE call_id = 'call-v2'")
    return path


NEGATIVE_ZERO = re.compile(r"(?<![\d.])[-+]0(\.0+)?(?![\d.])")
"""A zero shown with a sign ('-0', '+0', '-0.0000'): a change where the digits show none."""


def test_a_difference_that_rounds_to_zero_is_printed_0(nudged: Path) -> None:
    """The newcomer's input: e2e 0.2 ms faster printed Δ p50 '-0'."""
    _, data = _compare(nudged, "--base", "tag=v1", "--new", "tag=v2")
    e2e = next(m for m in data["metrics"] if m["metric"] == "e2e")
    assert -0.0005 < e2e["p50"]["difference"] < 0  # measured: smaller than the shown digit
    text = CliRunner().invoke(
        main, ["compare", "--db", str(nudged), "--base", "tag=v1", "--new", "tag=v2"],
        env={"COLUMNS": "100"},
    )  # fmt: skip
    assert text.exit_code == 0, text.output
    assert NEGATIVE_ZERO.search(text.output) is None, text.output
    e2e_row = next(line for line in text.output.splitlines() if line.split()[:1] == ["e2e"])
    assert e2e_row.split()[2] == "0", e2e_row  # Δ p50
    cost_row = next(line for line in text.output.splitlines() if line.split()[:1] == ["call_cost"])
    assert cost_row.split()[2] == "0.0000", cost_row  # $0.00001 lower: its sibling in dollars
    assert "+0" not in text.output  # 0.4 ms longer: the positive sibling, '0' too
