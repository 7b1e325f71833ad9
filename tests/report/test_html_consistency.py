"""The HTML report says what the terminal says, the way it says it: which calls were not
played at real time, calls newest first, local times as ``2026-12-07 09:20``; and its
charts keep their own promises: one y-scale for every timeline, no axis label twice.

The newcomer's inputs (findings 4 and 12 of a first hour with turnscope): a page of
``demo --speed 4`` and ``--speed 8`` calls beside real-time ones never said so; two calls'
timelines ran 0 to 2000 ms and -500 to 2000 ms; the overview table was newest first and the call
sections oldest first; dates were in the browser's locale (``12/7/2026, 9:20:28 AM``); a
histogram of two values was labelled ``176 176 176``.
"""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from tests.conftest import store_call
from tests.report.conftest import chromium
from tests.report.stores import store_as
from turnscope.cli import main
from turnscope.report.speeds import SPEED_KEY

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Browser, Page

    from tests.conftest import SimulationCache
    from tests.report.conftest import OpenedReport


@dataclass(frozen=True)
class Stores:
    speeds: Path
    """A live call (its ``speed`` a TTS speaking rate: real time), a demo at 4x and an
    older demo at 8x (``speed`` on a call tagged demo), written in another order than they
    started."""
    alike: Path
    """Two copies of one `basic` call, both recorded at 8x."""
    preemptive: Path
    """A `preemptive` call: its preemptive overlap is below zero."""
    close: Path
    """Two turns whose e2e is 176.2 and 176.8 ms, endpointing 0.13 and 0.15 ms, and LLM
    first token 250 ms in both."""


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, simulations: SimulationCache) -> Stores:
    """Real stores of simulated calls, written before the browser opens."""
    folder = tmp_path_factory.mktemp("html-consistency")
    basic = simulations.recorded("basic")
    written: dict[str, tuple[float, dict[str, Any]]] = {  # id: (shift in s, context)
        "demo-8x": (1200.0, {"tags": ("demo", "basic"), "metadata": {"speed": 8}}),
        "live": (0.0, {"tags": ("prod",), "metadata": {"speed": 1.2}}),
        "demo-4x": (600.0, {"tags": ("demo", "basic"), "metadata": {SPEED_KEY: 4}}),
    }
    for call_id, (shift, context) in written.items():
        store_as(folder / "speeds.db", basic, call_id, shift=shift, **context)
    for n, call_id in enumerate(("alike-1", "alike-2")):
        store_as(folder / "alike.db", basic, call_id, shift=600.0 * n, metadata={SPEED_KEY: 8})
    store_call(folder / "preemptive.db", simulations.recorded("preemptive"))
    store_as(folder / "close.db", basic, "close", turns=basic.turns[:2])
    with sqlite3.connect(folder / "close.db") as db:
        rows = [r for (r,) in db.execute("SELECT rowid FROM turns ORDER BY turn")]
        for rowid, e2e, endpointing in zip(rows, (0.1762, 0.1768), (0.00013, 0.00015), strict=True):
            db.execute(
                "UPDATE turns SET e2e = ?, endpointing = ?, llm_first_token = 0.25 WHERE rowid = ?",
                (e2e, endpointing, rowid),
            )
    return Stores(
        folder / "speeds.db", folder / "alike.db", folder / "preemptive.db", folder / "close.db"
    )


@pytest.fixture(scope="module")
def browser(stores: Stores) -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


_PAGES = itertools.count()


def _page(db: Path | list[Path], open_report: OpenedReport, *options: str) -> Page:
    """The HTML report of ``db`` with ``options``, loaded; it drew without an error and
    with no axis labelled twice."""
    dbs = db if isinstance(db, list) else [db]
    out = dbs[0].parent / f"report-{next(_PAGES)}.html"
    args = ["report", *(a for d in dbs for a in ("--db", str(d))), "--html", str(out), *options]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    page = open_report.page
    page.goto(out.as_uri())
    assert open_report.errors == []
    assert _repeated_ticks(page) == []
    return page


def _repeated_ticks(page: Page) -> list[str]:
    """Every axis of every chart whose labels repeat one (``176 176 176``)."""
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('canvas')].flatMap((canvas) =>
          Object.entries(Chart.getChart(canvas).scales).flatMap(([id, scale]) => {
            const labels = scale.ticks.map((t) => String(t.label));
            return new Set(labels).size === labels.length ? []
              : [canvas.className + ' ' + (canvas.dataset.metric || '') + ' ' + id + ': ' +
                 labels.join(' ')];
          }))"""
    )
    return found


def _cells(page: Page, heading: str) -> list[str]:
    """One column of the overview table, in the order shown."""
    headings = [h.strip(" ▼▲") for h in page.locator("table.calls-overview th").all_text_contents()]
    if heading not in headings:
        return []
    column = headings.index(heading)
    rows = page.locator("table.calls-overview tbody tr").all()
    return [row.locator("td").nth(column).inner_text() for row in rows]


def _speed_flags(page: Page) -> list[str]:
    """Each call section's speed flag, in page order ('' for a call at real time)."""
    return [
        section.locator(".speed").inner_text() if section.locator(".speed").count() else ""
        for section in page.locator("section.call").all()
    ]


def _speed_note(page: Page) -> str | None:
    note = page.locator(".speed-note")
    return note.inner_text() if note.count() else None


def test_calls_played_faster_than_real_time_say_so_where_their_latencies_show(
    stores: Stores, open_report: OpenedReport
) -> None:
    page = _page(stores.speeds, open_report, "--last", "3")
    assert _cells(page, "session") == ["demo-8x", "demo-4x", "live"]
    assert _cells(page, "speed") == ["8x", "4x", "real time"]
    assert _speed_flags(page) == [
        "played at 8x speed, not real time",
        "played at 4x speed, not real time",
        "",  # a speaking rate named `speed` on a live call is no playback speed
    ]
    assert _speed_note(page) == (  # what the terminal report says under its percentiles
        "note: 2 of these 3 calls were not played at real time (1 at 8x, 1 at 4x: "
        "`turnscope demo --speed`, or a simulation): their latencies are scaled by that "
        "speed, so these histograms, percentiles and trend mean little"
    )

    # only the real-time call: no column, no flag, no note
    page = _page(stores.speeds, open_report, "--tag", "prod", "--last", "3")
    assert _speed_flags(page) == [""]
    assert _speed_note(page) is None
    page = _page(stores.speeds, open_report, "--session", "live", "--session", "demo-4x")
    assert _cells(page, "speed") == ["4x", "real time"]


def test_calls_all_at_one_speed_are_named_too(stores: Stores, open_report: OpenedReport) -> None:
    page = _page(stores.alike, open_report, "--last", "2")
    assert _cells(page, "speed") == ["8x", "8x"]
    assert (_speed_note(page) or "").startswith(
        "note: 2 of these 2 calls were not played at real time (2 at 8x: "
    )
    page = _page(stores.speeds, open_report, "--call", "demo-4x")  # one call: no table
    assert _speed_flags(page) == ["played at 4x speed, not real time"]
    assert (_speed_note(page) or "").startswith(
        "note: this call was not played at real time (1 at 4x: "
    )


def _calls_json(db: Path, *options: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(main, ["calls", "--db", str(db), "--json", *options])
    assert result.exit_code == 0, result.output
    calls: list[dict[str, Any]] = json.loads(result.output)["calls"]
    return calls


def test_call_sections_come_newest_first_like_the_overview_and_calls(
    stores: Stores, open_report: OpenedReport
) -> None:
    """Newest by when each call started, not by when it was written to the store."""
    page = _page(stores.speeds, open_report, "--last", "3")
    sections = [h.split()[1] for h in page.locator("section.call h2").all_inner_texts()]
    newest_first = [c["call_id"][:12] for c in _calls_json(stores.speeds)]
    assert newest_first == ["demo-8x", "demo-4x", "live"]
    assert sections == newest_first
    assert _cells(page, "call") == newest_first


@pytest.mark.parametrize(
    ("zone", "locale"),
    [(None, None), ("Asia/Kolkata", "de-DE")],  # this machine's; a half-hour zone, a "0,5" locale
)
def test_times_are_local_and_written_as_the_terminal_writes_them(
    stores: Stores, browser: Browser, zone: str | None, locale: str | None
) -> None:
    out = stores.speeds.with_name(f"times-{zone}.html".replace("/", "-"))
    args = ["report", "--db", str(stores.speeds), "--last", "3", "--html", str(out)]
    assert CliRunner().invoke(main, args).exit_code == 0
    context = browser.new_context(timezone_id=zone, locale=locale)
    page = context.new_page()
    page.goto(out.as_uri())
    tz = ZoneInfo(zone) if zone else None
    starts = [c["started_at"] for c in _calls_json(stores.speeds)]
    if zone is None:  # what `turnscope calls` prints, on the machine that wrote the page
        listed = CliRunner().invoke(
            main, ["calls", "--db", str(stores.speeds)], env={"COLUMNS": "120"}
        )
        minutes = re.findall(r"^(\d{4}-\d\d-\d\d \d\d:\d\d) ·", listed.output, re.MULTILINE)
        assert len(minutes) == 3
    else:
        minutes = [datetime.fromtimestamp(s, tz).strftime("%Y-%m-%d %H:%M") for s in starts]
    assert [c.strip() for c in _cells(page, "started")] == minutes
    seconds = [datetime.fromtimestamp(s, tz).strftime("%Y-%m-%d %H:%M:%S") for s in starts]
    headings = page.locator("section.call h2").all_inner_texts()
    assert [h.split(maxsplit=2)[2] for h in headings] == seconds
    generated = page.locator("#overview").inner_text()
    assert re.search(r" · generated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", generated), generated
    # the cost axes' dollars as the page's text writes them ($0.00099), whatever the locale
    dollars = page.eval_on_selector_all(
        "canvas.cost", "cs => cs.flatMap(c => Chart.getChart(c).scales.x.ticks.map(t => t.label))"
    )
    assert any("." in label for label in dollars), dollars
    assert not any("," in label for label in dollars), dollars
    context.close()


_TIMELINE_SCALES = """() => [...document.querySelectorAll('canvas.timeline')].map((c) => {
  const y = Chart.getChart(c).scales.y;
  return [y.min, y.max, y.ticks.map((t) => t.value), y.ticks.map((t) => t.label)];
})"""

_STACKS = """() => {
  const data = JSON.parse(document.getElementById('turnscope-data').textContent);
  return data.calls.flatMap((c) => c.turns.map((t) => [
    data.parts.reduce((s, p) => s + Math.min(0, t[p] || 0), 0) * 1000,
    Math.max(data.parts.reduce((s, p) => s + Math.max(0, t[p] || 0), 0), t.e2e || 0) * 1000,
  ]));
}"""


def _one_scale(page: Page, calls: int) -> tuple[float, float, list[float]]:
    """The y-scale every timeline of the page shares: (min, max, tick values)."""
    scales = page.evaluate(_TIMELINE_SCALES)
    assert len(scales) == calls
    assert all(scale == scales[0] for scale in scales), scales
    low, high, ticks, _ = scales[0]
    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1, ticks  # evenly spaced,
    assert 0 in ticks  # through 0,
    assert (ticks[0], ticks[-1]) == (low, high)  # from bound to bound
    return low, high, ticks


def test_every_timeline_shares_one_y_scale_with_a_part_below_zero(
    stores: Stores, open_report: OpenedReport
) -> None:
    page = _page([stores.alike, stores.preemptive], open_report, "--last", "3")
    low, high, ticks = _one_scale(page, 3)
    stacks = page.evaluate(_STACKS)
    deepest = min(down for down, _ in stacks)
    assert deepest < 0  # the preemptive call's overlap: drawn below zero
    step = ticks[1] - ticks[0]
    assert low <= deepest < low + step  # one step at most below the deepest stack
    tallest = max(up for _, up in stacks)
    assert tallest <= high < tallest * 1.34

    # the two identical calls alone: the same scale as each other, starting at 0
    page = _page(stores.alike, open_report, "--last", "2")
    low, high, ticks = _one_scale(page, 2)
    assert low == 0
    assert max(up for _, up in page.evaluate(_STACKS)) <= high


def test_histograms_of_close_or_equal_values_never_repeat_a_label(
    stores: Stores, open_report: OpenedReport
) -> None:
    page = _page(stores.close, open_report)  # _page asserts no axis repeats a label
    axes = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('canvas.distribution')]
          .map((c) => {
            const x = Chart.getChart(c).scales.x;
            return [c.dataset.metric, [x.min, x.max, x.ticks.map((t) => t.label)]];
          }))"""
    )
    for metric, values in (
        ("e2e", (176.2, 176.8)),
        ("endpointing", (0.13, 0.15)),
        ("llm_first_token", (250.0, 250.0)),
    ):
        low, high, labels = axes[metric]
        assert low <= min(values), (metric, axes[metric])
        assert max(values) <= high, (metric, axes[metric])
        assert len(labels) >= 2, (metric, labels)
    assert axes["e2e"][2] == ["176.2", "176.4", "176.6", "176.8"]
