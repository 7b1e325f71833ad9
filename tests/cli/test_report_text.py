"""The terminal report a user can act on (issue 21 item 2), on real stores."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from tests.conftest import store_call
from tests.report.stores import store_as
from turnscope.cli import main

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache

NARROW = {"COLUMNS": "80", "NO_COLOR": "1"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, simulations: SimulationCache) -> Path:
    path = tmp_path_factory.mktemp("text") / "s.db"
    store_as(path, simulations.recorded("basic"), "call-basic", user_id="alice", tags=("demo",))
    store_as(path, simulations.recorded("errors"), "call-errors", shift=10, user_id="bob")
    return path


def _report(store: Path, *args: str, columns: int = 80) -> str:
    env = {**NARROW, "COLUMNS": str(columns)}
    result = CliRunner().invoke(main, ["report", "--db", str(store), *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_header_errors_and_legend_first(store: Path) -> None:
    output = _report(store, "--call", "call-errors")
    head = output.splitlines()[:2]
    assert head[0].startswith("call call-errors")
    assert "turns" in head[0]
    assert "-" in head[0].split()[2]  # the local date
    assert "session call-errors" in head[1]
    assert "closed: user_initiated" in head[1]
    assert "user bob" in head[1]
    assert output.index("Per turn, in ms") < output.index(" e2e ")  # the legend before
    assert "APIConnectionError" in output
    assert "APIStatusError" in output
    error_rows = [line for line in output.splitlines() if " llm " in line or " tts " in line]
    assert any("yes" in line for line in error_rows)  # the LLM error was recoverable
    assert any(" no " in line for line in error_rows)  # the TTS one was not
    assert "scripted connection" in output  # the message (folded at 80 columns)
    assert "first greeting" not in output  # the user spoke first
    assert all(len(line) <= 80 for line in output.splitlines())


def test_a_header_too_wide_for_the_terminal_is_one_item_a_line(
    tmp_path: Path, simulations: SimulationCache
) -> None:
    path = tmp_path / "long.db"
    store_as(
        path,
        simulations.recorded("basic"),
        "call-long",
        user_id="caller@example.com",
        tags=("production", "eu-west-1", "beta"),
        room="support-lobby-eu-west-1",
    )
    head = [line.rstrip() for line in _report(path, "--call", "call-long").splitlines()[1:6]]
    assert head == [
        "session call-long",
        "room support-lobby-eu-west-1",
        "closed: user_initiated",
        "user caller@example.com",
        "tags production, eu-west-1, beta",
    ]  # never "tags production,⏎eu-west-1": each item whole
    wide = _report(path, "--call", "call-long", columns=160).splitlines()[1]
    assert wide.rstrip() == (
        "session call-long  ·  room support-lobby-eu-west-1  ·  closed: user_initiated  ·  "
        "user caller@example.com  ·  tags production, eu-west-1, beta"
    )


@pytest.mark.parametrize("columns", [60, 56, 52])
def test_the_calls_length_keeps_its_unit_at_any_width(store: Path, columns: int) -> None:
    """The newcomer's input: at 60 columns the first line ended '·  20.7 ' and the next
    began 's'. The sibling: narrower still, a figure and its unit stay together."""
    lines = [line.rstrip() for line in _report(store, "--call", "call-basic", columns=columns)
             .split("\n\n")[0].splitlines()]  # fmt: skip
    assert all(len(line) <= columns for line in lines)
    assert any(line.endswith("s") and line.split()[-1][:-1].replace(".", "").isdigit()
               for line in lines), lines  # fmt: skip
    assert not any(line == "s" or line.startswith("s ") for line in lines), lines


def test_the_greeting_only_when_there_was_one(store: Path) -> None:
    assert "first greeting after" in _report(store, "--call", "call-basic")


def test_a_turn_that_asked_no_model_shows_no_tokens(store: Path) -> None:
    """The greeting (``say``, no LLM) spent no tokens: "–", not "0/0"; every turn that asked
    the LLM shows its counts."""
    rows = {}
    for line in _report(store, "--call", "call-basic", columns=120).splitlines():
        cells = line.split()
        if cells and cells[0].isdigit() and cells[-1].startswith("$"):
            rows[int(cells[0])] = (line, cells[-2])
    greeting = [tokens for line, tokens in rows.values() if " say" in line]
    answers = [tokens for line, tokens in rows.values() if " say" not in line]
    assert greeting == ["–"]
    assert answers
    assert all(t != "–" and "/" in t and int(t.split("/")[0]) > 0 for t in answers)


def test_json_lists_errors_with_their_details(store: Path) -> None:
    data = json.loads(_report(store, "--call", "call-errors", "--json"))
    assert data["schema"] == "turnscope.report/1"
    found = {(e["component"], e["detail"], e["recoverable"]) for e in data["errors"]}
    assert found == {("llm", "APIConnectionError", 1), ("tts", "APIStatusError", 0)}
    assert all(e["message"] for e in data["errors"])


def test_several_calls_and_the_summary_show_cost_totals(store: Path) -> None:
    both = _report(store, "--last", "2")
    assert "over 2 priced call(s)" in both
    data = json.loads(_report(store, "--summary", "--json"))
    calls = json.loads(_report(store, "--last", "2", "--json"))["calls"]
    assert data["totals"]["calls"] == 2
    assert data["totals"]["cost_usd"] == pytest.approx(sum(c["cost_usd"] for c in calls))
    assert "over 2 priced call(s)" in _report(store, "--summary")


def test_not_captured_where_content_capture_was_off(
    tmp_path: Path, simulations: SimulationCache
) -> None:
    path = tmp_path / "private.db"
    store_call(path, simulations.recorded("basic"), capture_content=False)
    output = _report(path, columns=200)
    assert output.count("(not captured)") >= 6  # the user's and the agent's, each turn
    assert "Paris" not in output


@pytest.fixture(scope="module")
def cut_off(tmp_path_factory: pytest.TempPathFactory, simulations: SimulationCache) -> Path:
    """The bargein call three times: as LiveKit kept it (the whole written reply: the
    simulated output reports no synchronized transcript), as a synchronized output keeps it
    (only the words played), and with the model's output not kept (what was written
    unknown)."""
    import sqlite3

    path = tmp_path_factory.mktemp("cut-off") / "cut.db"
    bargein = simulations.recorded("bargein")
    for call_id in ("call-kept", "call-synced", "call-unknown"):
        store_as(path, bargein, call_id)
    with sqlite3.connect(path) as raw:
        raw.execute(
            "UPDATE turns SET agent_text = 'Sure. Let me tell you' "
            "WHERE call_id = 'call-synced' AND interrupted = 1"
        )
        raw.execute("UPDATE components SET output = NULL WHERE call_id = 'call-unknown'")
    return path


def _cut_line(output: str) -> str:
    """The interrupted reply's cell, its folded lines joined (and the replies below it)."""
    lines = output.splitlines()
    first = next(i for i, line in enumerate(lines) if "cut off" in line)
    column = lines[first].index("cut off")
    cell = []
    for line in lines[first:]:
        part = line[column:].split("  ")[0].strip()
        if not part:
            break
        cell.append(part)
    return " ".join(cell)


def test_a_reply_cut_off_says_its_text_is_what_was_written(cut_off: Path) -> None:
    """The newcomer's input: 'cut off after 521 ms:' and the whole written story, as if
    it had been heard."""
    cell = _cut_line(_report(cut_off, "--call", "call-kept", columns=120))
    assert cell.startswith("cut off after ")
    assert " ms; written, not all heard: Sure. Let me tell you about the old lighthouse" in cell
    assert "the lamp went out." in cell  # the whole written reply, said to be that


def test_a_synchronized_transcript_is_what_was_heard_beside_what_was_written(
    cut_off: Path,
) -> None:
    cell = _cut_line(_report(cut_off, "--call", "call-synced", columns=120))
    assert " ms; heard: Sure. Let me tell you written: Sure. Let me tell you about the" in cell


def test_without_the_written_reply_the_text_may_run_past_what_was_heard(
    cut_off: Path,
) -> None:
    cell = _cut_line(_report(cut_off, "--call", "call-unknown", columns=120))
    assert " ms; maybe not all heard: Sure. Let me tell you about" in cell
    assert "written:" not in cell


@pytest.mark.parametrize(("idle", "shown"), [(2e-7, None), (0.0, None), (0.0012, "$0.00120")])
def test_idle_stt_cost_only_when_it_shows(
    store: Path, tmp_path: Path, idle: float, shown: str | None
) -> None:
    """The newcomer's input: 'of the STT, $0.00000 was idle audio outside user turns' (the
    preemptive demo). Said only when the amount shows as more than zero."""
    import sqlite3

    copy = tmp_path / "idle.db"
    copy.write_bytes(store.read_bytes())
    with sqlite3.connect(copy) as raw:
        raw.execute("UPDATE calls SET cost_idle_stt = ? WHERE call_id = 'call-basic'", (idle,))
    line = next(
        line for line in _report(copy, "--call", "call-basic", columns=200).splitlines()
        if line.startswith("call cost")
    )  # fmt: skip
    if shown is None:
        assert "idle audio" not in line
    else:
        assert f"of the STT, {shown} was idle audio outside user turns" in line


@pytest.mark.parametrize(("callback", "shown"), [(0.0004, False), (0.0006, True)])
def test_a_part_that_shows_no_whole_ms_in_any_turn_has_no_column(
    store: Path, tmp_path: Path, callback: float, shown: bool
) -> None:
    """The newcomer's input: `cb` and `play` columns of zeros in every demo (sub-ms values).
    The sibling: one turn's 0.6 ms shows as 1, and the column is back."""
    import sqlite3

    copy = tmp_path / "parts.db"
    copy.write_bytes(store.read_bytes())
    with sqlite3.connect(copy) as raw:
        raw.execute("UPDATE turns SET turn_callback = 0.0001, playback = 0.0003")
        raw.execute(
            "UPDATE turns SET turn_callback = ? WHERE call_id = 'call-basic' AND turn = 2",
            (callback,),
        )
    header = next(
        line for line in _report(copy, "--call", "call-basic", columns=120).splitlines()
        if line.split()[:2] == ["#", "e2e"]
    )  # fmt: skip
    assert ("cb" in header.split()) is shown
    assert "play" not in header.split()
