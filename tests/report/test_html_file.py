"""`turnscope report --html` without a browser: the file, its policy, and one-line errors."""

from __future__ import annotations

import html
import json
import re
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from tests.conftest import store_call
from turnscope.cli import main
from turnscope.report.html import render_html, script_json
from turnscope.store import open_for_writing

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache

HOSTILE = "</script><img src=x onerror=alert(1)>\u2028\u2029 & <!-- é 🙂"


def test_embedded_json_cannot_close_its_element_and_reads_back_exactly() -> None:
    text = script_json({"said": HOSTILE})
    assert not set("<>&\u2028\u2029") & set(text)
    assert json.loads(text) == {"said": HOSTILE}
    assert "é 🙂" in text  # other text stays readable (and small)


def test_the_policy_admits_only_this_files_own_code_and_no_network() -> None:
    page = render_html({"calls": []}, title='a "quoted" </title> title')
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert policy is not None
    content = html.unescape(policy[1])  # as the browser reads the attribute
    directives = dict(d.strip().split(" ", 1) for d in content.split(";"))
    assert directives["default-src"] == "'none'"
    assert len(re.findall(r"'sha256-[A-Za-z0-9+/]+=*'", directives["script-src"])) == 2
    assert re.fullmatch(r"'sha256-[A-Za-z0-9+/]+=*'", directives["style-src"])
    assert "unsafe" not in content
    assert "http" not in content
    assert "<title>a &quot;quoted&quot; &lt;/title&gt; title</title>" in page
    assert "sourceMappingURL" not in page


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory, simulations: SimulationCache) -> Path:
    db = tmp_path_factory.mktemp("htmlfile") / "calls.db"
    store_call(db, simulations.recorded("tool_with_preamble"))
    store_call(db, simulations.recorded("bargein"))
    return db


def test_html_writes_one_file_for_the_chosen_calls(stored: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        main, ["report", "--db", str(stored), "--last", "2", "--html", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"wrote {out} (2 call(s), ")
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    data = re.search(r'<script type="application/json" id="turnscope-data">(.*?)</script>', page)
    assert data is not None
    calls = json.loads(data[1])["calls"]
    listed = CliRunner().invoke(main, ["report", "--db", str(stored), "--last", "2", "--json"])
    expected = json.loads(listed.output)
    # the same calls; the page newest first, as its overview table and `turnscope calls`
    assert [c["call_id"] for c in calls] == [c["call_id"] for c in expected["calls"]][::-1]
    assert sum(len(c["turns"]) for c in calls) == len(expected["turns"])
    one = CliRunner().invoke(main, ["report", "--db", str(stored), "--html", str(out)])
    assert "(1 call(s), " in one.output  # like the terminal report: the last call


def test_html_errors_are_one_line(stored: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    unwritable = runner.invoke(
        main, ["report", "--db", str(stored), "--html", str(tmp_path / "no" / "dir" / "r.html")]
    )
    assert unwritable.exit_code == 1
    assert unwritable.output.count("\n") == 1
    assert "cannot write" in unwritable.output
    empty = tmp_path / "empty.db"
    open_for_writing(empty).close()
    nothing = runner.invoke(
        main, ["report", "--db", str(empty), "--html", str(tmp_path / "r.html")]
    )
    assert nothing.exit_code == 1
    assert nothing.output.count("\n") == 1
    assert "no calls" in nothing.output
    assert not (tmp_path / "r.html").exists()
    both = runner.invoke(main, ["report", "--db", str(stored), "--json", "--html", "r.html"])
    assert both.exit_code == 2
    assert both.output.count("\n") == 1


def test_a_page_of_a_thousand_turn_call_stays_under_one_megabyte(
    simulations: SimulationCache, tmp_path: Path
) -> None:
    """docs/reports.md promises it (the file is sent around; a browser opens it at once).
    The call: the shared long call's turns again and again, later and later, to 1,000."""
    import dataclasses

    from turnscope.store.writer import LocalStore

    recorded = simulations.long()
    template = recorded.turns
    span = template[-1].ended_at - template[0].started_at + 1.0
    db, out = tmp_path / "big.db", tmp_path / "big.html"
    store = LocalStore(db)
    store.start_call(recorded.handle.context)
    for n in range(1000):
        turn, shift = template[n % len(template)], span * (n // len(template))
        store.on_turn(
            dataclasses.replace(
                turn, index=n, started_at=turn.started_at + shift, ended_at=turn.ended_at + shift
            )
        )
    store.on_call(dataclasses.replace(recorded.call, turns=1000))
    assert store.close(timeout=30)
    result = CliRunner().invoke(main, ["report", "--db", str(db), "--html", str(out)])
    assert result.exit_code == 0, result.output
    assert "(1 call(s), 1000 turn(s), " in result.output
    assert out.stat().st_size < 1_000_000
