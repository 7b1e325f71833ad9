"""Text from a call reaches the terminal literally (issue 19 item 6): rich markup neither
raises nor styles, ``[link=…]`` makes no hyperlink, and escape sequences and other control
characters are shown as visible escapes — through a pipe and on a colour terminal alike."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner
from rich.console import Console

from tests.report.stores import store_as
from turnscope.cli import main
from turnscope.records import ErrorRecord, ToolRecord
from turnscope.report.literal import literal, visible

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache

HOSTILE_USER = "[/bold] [link=https://evil.example]click[/link] \x1b[2J\x1b]0;owned\x07 done\r"
HOSTILE_AGENT = "[bold red]alarm[/] \x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\ \u202etxt"
HOSTILE_ERROR = "[/] boom \x1b[31mred\x1b[0m \x9b2J"
HOSTILE_ID = "user-[/i]\x1b[1m"


def test_visible_escapes_controls_and_keeps_words() -> None:
    assert visible("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert visible("bell\x07 cr\r del\x7f csi\x9b") == "bell\\x07 cr\\x0d del\\x7f csi\\x9b"
    assert visible("\u202eevil\u2066") == "\\u202eevil\\u2066"
    assert visible("line one\nline two\tthen é 🙂") == "line one\nline two\tthen é 🙂"
    assert visible("half \ud83d emoji") == "half \\ud83d emoji"
    assert visible(None) == ""


def test_literal_is_never_markup() -> None:
    console = Console(record=True, force_terminal=True, width=200)
    console.print(literal("[/bold] [link=https://x.example]y[/link] [red]z[/red]"))
    text = console.export_text(styles=True)
    assert "[/bold] [link=https://x.example]y[/link] [red]z[/red]" in text
    assert "\x1b]8;" not in text  # no hyperlink
    assert "\x1b[31m" not in text  # no red


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory, simulations: SimulationCache) -> Path:
    recorded = simulations.recorded("tool_with_preamble")
    turns = []
    for turn in recorded.turns:
        tools = tuple(
            dataclasses.replace(t, arguments='{"city": "[/b]\x1b[5mParis"}') for t in turn.tools
        )
        turns.append(
            dataclasses.replace(
                turn,
                user_text=HOSTILE_USER,
                agent_text=HOSTILE_AGENT,
                tools=tools,
                errors=(
                    ErrorRecord(turn.started_at, "llm", "[/]Error\x1b[0m", HOSTILE_ERROR, True),
                ),
            )
        )
    assert any(t.tools for t in turns)
    assert all(isinstance(t, ToolRecord) for turn in turns for t in turn.tools)
    path = tmp_path_factory.mktemp("hostile") / "s.db"
    store_as(
        path, recorded, "hostile-call", turns=turns, user_id=HOSTILE_ID, tags=("[/tag]\x1b[7m",)
    )
    return path


@pytest.mark.parametrize("colour", [False, True], ids=["pipe", "terminal"])
@pytest.mark.parametrize(
    "command",
    [["report"], ["report", "--last", "1"], ["calls"], ["report", "--summary"]],
    ids=" ".join,
)
def test_hostile_text_is_shown_literally(
    hostile_store: Path, colour: bool, command: list[str]
) -> None:
    env = {"FORCE_COLOR": "1", "TERM": "xterm-256color"} if colour else {"NO_COLOR": "1"}
    env["COLUMNS"] = "1000"  # wide enough that no cell folds, so the words can be found
    result = CliRunner().invoke(main, [*command, "--db", str(hostile_store)], env=env)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    # our own colours (SGR) are allowed; no other escape sequence
    assert "\x1b" not in _plain(result.output), repr(result.output)
    assert "\x07" not in result.output
    assert "\r" not in result.output
    assert "\x9b" not in result.output
    assert "\x1b]8;" not in result.output  # no OSC 8 hyperlink
    flat = " ".join(_plain(result.output).split())
    if command[0] == "report" and "--summary" not in command:
        assert "[/bold] [link=https://evil.example]click[/link] \\x1b[2J" in flat
        assert "\\x1b]0;owned\\x07" in flat
        assert "[/] boom \\x1b[31mred\\x1b[0m \\x9b2J" in flat
        assert "\\u202etxt" in flat
    if command[0] == "calls":
        assert "user-[/i]\\x1b[1m" in flat


def test_json_keeps_the_exact_words(hostile_store: Path) -> None:
    result = CliRunner().invoke(main, ["report", "--json", "--db", str(hostile_store)])
    assert result.exit_code == 0
    assert "\x1b" not in result.output  # JSON escapes it
    data = json.loads(result.output)
    assert data["turns"][1]["user_text"] == HOSTILE_USER
    assert {e["message"] for e in data["errors"]} == {HOSTILE_ERROR}


def _plain(output: str) -> str:
    """The output without our own colour codes (ESC [ ... m)."""
    return re.sub(r"\x1b\[[0-9;]*m", "", output)
