"""The HTML report in headless Chromium shows a failed tool as the terminal does: flagged
``tools×N (n failed)`` on its turn, listed with its name and message, no first greeting for
a call the caller opened (newcomer6, findings 1 and 5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from tests.failed_tools import mixed_tools
from tests.report.conftest import chromium
from tests.report.stores import store_as
from turnscope.cli import main

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Browser

    from tests.conftest import SimulationCache
    from tests.report.conftest import OpenedReport


@pytest.fixture(scope="module")
def page_file(tmp_path_factory: pytest.TempPathFactory, simulations: SimulationCache) -> Path:
    """Simulated and stored before the browser opens (see ``chromium``)."""
    db = tmp_path_factory.mktemp("failed_tools_html") / "calls.db"
    store_as(db, simulations.recorded("bad_tool_calls"), "call-bad", shift=-60)
    store_as(db, mixed_tools(), "call-mixed")
    out = db.with_suffix(".html")
    result = CliRunner().invoke(
        main, ["report", "--db", str(db), "--html", str(out), "--last", "2"]
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def browser(page_file: Path) -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def test_failed_tools_are_flagged_and_listed_with_their_messages(
    page_file: Path, open_report: OpenedReport
) -> None:
    page = open_report.page
    page.goto(page_file.as_uri())
    assert open_report.errors == []
    sections = page.locator("section.call")
    assert sections.count() == 2
    shown = {}
    for i in range(2):
        section = sections.nth(i)
        title = section.locator("h2").first.text_content() or ""
        shown["call-bad" if "call-bad" in title else "call-mixed"] = section
    bad, mixed = shown["call-bad"], shown["call-mixed"]

    flags = bad.locator("table.turns tbody tr td:nth-child(5)").all_text_contents()
    assert flags == ["answered tools×1 (1 failed)"] * 2  # and no errors× beside it
    events = bad.locator("table.events tbody tr").all()
    rows = [row.locator("td").all_text_contents() for row in events]
    assert len(rows) == 2
    assert all("tool" in row and "error" in row for row in rows)
    assert any("get_wether" in row for row in rows)
    assert any("Unknown function: get_wether" in cell for row in rows for cell in row)
    summary = bad.locator("p.call-summary").text_content() or ""
    assert "errors: tool 2 (0 unrecoverable)" in summary
    assert "first greeting" not in summary  # the caller spoke first

    flags = mixed.locator("table.turns tbody tr td:nth-child(5)").all_text_contents()
    assert flags.count("answered tools×2 (1 failed)") == 1
    assert not [f for f in flags if "errors×" in f]
    summary = mixed.locator("p.call-summary").text_content() or ""
    assert "errors: tool 1 (0 unrecoverable)" in summary
    assert "first greeting after" in summary
