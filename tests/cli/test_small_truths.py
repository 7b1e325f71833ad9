"""Small truths of the CLI: valid JSON from an empty store, a demo that stops before playing
a call it cannot store, a speed that says what it does, private files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from tests.conftest import store_call
from turnscope.cli import main
from turnscope.store import open_for_writing

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache


@pytest.mark.parametrize("extra", [[], ["--summary"], ["--last", "3"]])
def test_report_json_on_an_empty_store_is_valid_json_with_no_calls(
    tmp_path: Path, extra: list[str]
) -> None:
    empty = tmp_path / "empty.db"
    open_for_writing(empty).close()
    result = CliRunner().invoke(main, ["report", "--db", str(empty), "--json", *extra])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    if "--summary" in extra:  # the summary counts calls instead of listing them
        assert data["totals"]["calls"] == 0
    else:
        assert data["calls"] == []
    assert data["percentiles"] == {}
    assert data.get("turns", []) == []


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("parent is a file", "(choose another --db or TURNSCOPE_DB)"),
        ("not a store", "exists and is not a SQLite file"),
        ("a folder", "is a folder; point TURNSCOPE_DB at a file"),
    ],
)
def test_demo_on_an_unwritable_store_stops_before_playing(
    tmp_path: Path, kind: str, says: str
) -> None:
    if kind == "parent is a file":
        (tmp_path / "notes.txt").write_text("mine")
        db = tmp_path / "notes.txt" / "demo.db"
    elif kind == "a folder":
        db = tmp_path / "stores"
        db.mkdir()
    else:
        db = tmp_path / "demo.db"
        db.write_text("a text file, not SQLite\n" * 100)
    result = CliRunner().invoke(main, ["demo", "--speed", "8"], env={"TURNSCOPE_DB": str(db)})
    assert result.exit_code == 1
    assert result.output.startswith("turnscope: cannot write the store")
    assert str(db) in result.output
    assert says in result.output
    assert "--db)" not in result.output or kind == "parent is a file"  # one fix, not two
    assert result.output.count("\n") == 1  # one line, no traceback
    assert "turn 1" not in result.output  # nothing was played


def test_speed_says_latencies_shrink_by_it() -> None:
    help_text = CliRunner().invoke(main, ["demo", "--help"]).output
    assert "every latency shrinks by N" in " ".join(help_text.split())


def test_the_html_report_is_private(tmp_path: Path, simulations: SimulationCache) -> None:
    previous = os.umask(0)  # a permissive umask must not make the report readable by others
    try:
        _write_reports(tmp_path, simulations)
    finally:
        os.umask(previous)


def _write_reports(tmp_path: Path, simulations: SimulationCache) -> None:
    db = tmp_path / "calls.db"
    store_call(db, simulations.recorded("basic"))
    for name in ("new.html", "existing.html"):
        out = tmp_path / name
        if name == "existing.html":
            out.write_text("an old report")
            out.chmod(0o644)
        result = CliRunner().invoke(main, ["report", "--db", str(db), "--html", str(out)])
        assert result.exit_code == 0, result.output
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        assert "<html" in out.read_text()
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".html") == [
        "existing.html",
        "new.html",
    ]


def test_a_store_folder_turnscope_creates_is_never_committed(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    open_for_writing(tmp_path / ".turnscope" / "turnscope.db").close()
    (tmp_path / "agent.py").write_text("print('hi')\n")
    status = subprocess.run(
        ["git", "-C", str(tmp_path), "status", "--porcelain", "--untracked-files=all"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert status.splitlines() == ["?? agent.py"]


def test_a_folder_turnscope_did_not_create_gets_no_gitignore(tmp_path: Path) -> None:
    open_for_writing(tmp_path / "turnscope.db").close()
    assert not (tmp_path / ".gitignore").exists()
