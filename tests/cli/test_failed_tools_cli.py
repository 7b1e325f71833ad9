"""Failed tool calls in every reading command over a real store: the terminal report flags
them on ``tools×`` and lists name and message, ``--json`` and ``calls`` count them once as
errors, and ``error_rate`` catches them; the first greeting is null unless the agent spoke
first (newcomer6, findings 1 and 5)."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from tests.failed_tools import mixed_tools
from tests.report.stores import store_as
from turnscope.cli import main

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache

WIDE = {"COLUMNS": "160", "NO_COLOR": "1"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, simulations: SimulationCache) -> Path:
    db = tmp_path_factory.mktemp("failed_tools") / "calls.db"
    store_as(db, simulations.recorded("bad_tool_calls"), "call-bad")
    store_as(db, mixed_tools(), "call-mixed")
    store_as(db, simulations.recorded("bargein"), "call-barge")
    return db


def _run(store: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, [*args, "--db", str(store)], env=WIDE)
    assert result.exit_code == code, result.output
    return result.output


def _json(store: Path, *args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_run(store, *args, "--json"))
    return data


def test_the_terminal_report_shows_each_failed_tool_with_its_message(
    store: Path, simulations: SimulationCache
) -> None:
    text = _run(store, "report", "--call", "call-bad")
    assert text.count("tools×1 (1 failed)") == 2
    assert "errors×" not in text  # the failed tool is flagged once, on tools×
    assert "Unknown function: get_wether" in text
    for turn in simulations.recorded("bad_tool_calls").turns:
        (tool,) = turn.tools
        assert tool.output is not None
        assert f"tool        {tool.name}" in text
        assert tool.output[:30] in text  # LiveKit's wording varies by version
    assert "errors: tool 2 (0 unrecoverable)" in text


def test_a_failed_tool_beside_one_that_worked_is_one_failure(store: Path) -> None:
    text = _run(store, "report", "--call", "call-mixed")
    assert text.count("tools×2 (1 failed)") == 1
    assert "errors×" not in text
    assert "errors: tool 1 (0 unrecoverable)" in text
    data = _json(store, "report", "--call", "call-mixed")
    asked = next(t for t in data["turns"] if t["tools"])
    assert (asked["tools"], asked["tools_failed"], asked["errors"]) == (2, 1, 1)
    (error,) = data["errors"]
    assert (error["component"], error["detail"], error["recoverable"]) == (
        "tool",
        "get_forecst",
        1,
    )
    assert "get_forecst" in error["message"]


def test_json_lists_the_failed_tools_as_errors_and_counts_them_once(store: Path) -> None:
    data = _json(store, "report", "--call", "call-bad")
    assert [(t["tools"], t["tools_failed"], t["errors"]) for t in data["turns"]] == [(1, 1, 1)] * 2
    assert [(e["component"], e["detail"]) for e in data["errors"]] == [
        ("tool", "get_wether"),
        ("tool", "get_weather"),
    ]
    (call,) = data["calls"]
    assert call["summary"]["errors_by_component"] == {"tool": 2}
    calls = {c["call_id"]: c for c in _json(store, "calls")["calls"]}
    assert (calls["call-bad"]["errors"], calls["call-mixed"]["errors"]) == (2, 1)
    assert calls["call-barge"]["errors"] == 0


def test_error_rate_catches_failed_tools(store: Path) -> None:
    text = _run(store, "check", "--call", "call-bad", "--budget", "error_rate<=0%", code=1)
    assert "FAIL  error_rate<=0%" in text
    (budget,) = _json(store, "check", "--call", "call-mixed", "--budget", "error_rate<=50%")[
        "budgets"
    ]
    assert (budget["measured"], budget["count"]) == (pytest.approx(1 / 3), 3)
    assert budget["passed"] is True
    _run(store, "check", "--call", "call-barge", "--budget", "error_rate<=0%")  # none failed


def test_first_greeting_is_null_unless_the_agent_spoke_first(store: Path) -> None:
    for call_id in ("call-barge", "call-bad"):
        (call,) = _json(store, "report", "--call", call_id)["calls"]
        assert call["summary"]["time_to_first_greeting"] is None
        assert "first greeting" not in _run(store, "report", "--call", call_id)
    (greeted,) = _json(store, "report", "--call", "call-mixed")["calls"]
    assert 0 < greeted["summary"]["time_to_first_greeting"] < 1.0
    assert "first greeting after" in _run(store, "report", "--call", "call-mixed")


def test_a_greeting_stored_before_the_fix_is_left_out_of_json_and_html(
    tmp_path: Path, simulations: SimulationCache
) -> None:
    """Stores written before the fix hold the first audio of any reply (792 ms for a
    bargein call in the trial): the reports read it back as null all the same."""
    db = tmp_path / "old.db"
    store_as(db, simulations.recorded("bargein"), "call-old")
    with sqlite3.connect(db) as connection:
        connection.execute(
            "UPDATE calls SET summary = json_set(summary, '$.time_to_first_greeting', 0.792)"
        )
    connection.close()
    (call,) = _json(db, "report", "--call", "call-old")["calls"]
    assert call["summary"]["time_to_first_greeting"] is None
    page = tmp_path / "old.html"
    _run(db, "report", "--html", str(page))
    assert '"time_to_first_greeting":null' in page.read_text(encoding="utf-8")


def test_with_capture_off_the_store_keeps_the_error_not_the_output(
    tmp_path: Path, simulations: SimulationCache
) -> None:
    """The sibling of the store's content rule: a failed tool is still an error of its turn
    (counted, typed by the tool's name), its output-as-message is not kept."""
    from tests.conftest import store_call

    db = tmp_path / "private.db"
    store_call(db, simulations.recorded("bad_tool_calls"), capture_content=False)
    with sqlite3.connect(db) as raw:
        rows = raw.execute(
            "SELECT component, detail, message FROM events WHERE kind = 'error' ORDER BY at"
        ).fetchall()
    assert rows == [
        ("tool", "get_wether", "(not captured: content capture is off)"),
        ("tool", "get_weather", "(not captured: content capture is off)"),
    ]
    output = _run(db, "report")
    assert "Unknown function" not in output
    assert "(not captured: content capture is off)" in output
