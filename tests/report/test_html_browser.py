"""The HTML report in headless Chromium: it draws offline, shows what was said on hover, and
never runs a word of a call as code."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from tests.conftest import LONG_TURNS, store_call
from tests.report.conftest import chromium
from turnscope.cli import main
from turnscope.store.writer import LocalStore

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Browser, Page

    from tests.conftest import RecordedCall, SimulationCache
    from tests.report.conftest import OpenedReport

_BAR_PIXELS = """(selector) => {
  return [...document.querySelectorAll(selector)].map((canvas) => {
    const colour = Chart.getChart(canvas).data.datasets[0].backgroundColor;
    const rgb = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16));
    const d = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let found = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i] === rgb[0] && d[i + 1] === rgb[1] && d[i + 2] === rgb[2] && d[i + 3] === 255) {
        found++;
      }
    }
    return found;
  });
}"""
"""How many pixels of each chart have exactly its first dataset's colour: its bars, drawn."""


def _html_report(db: Path, *extra: str) -> Path:
    out = db.with_suffix(".html")
    result = CliRunner().invoke(main, ["report", "--db", str(db), "--html", str(out), *extra])
    assert result.exit_code == 0, result.output
    return out


def _report_json(db: Path) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["report", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


@dataclass(frozen=True)
class Stores:
    long: Path
    """The shared long call (``LONG_TURNS`` turns)."""
    hostile: Path
    """A `basic` call whose every transcript is markup that tries to run."""
    hostile_texts: list[tuple[str, str]]
    """(user, agent) text of each hostile turn."""
    troubled: Path
    """Two calls: one with STT/LLM/TTS errors, one the user barged in on."""
    odd: Path
    """A call with a suspect e2e (204 s) and a cancelled request's unknown usage."""


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, simulations: SimulationCache) -> Stores:
    """The calls these tests show, in real stores; simulated before the browser opens."""
    folder = tmp_path_factory.mktemp("html")
    store_call(folder / "long.db", simulations.long())
    texts = _store_hostile(folder / "hostile.db", simulations.recorded("basic"))
    for scenario in ("errors", "bargein"):
        store_call(folder / "troubled.db", simulations.recorded(scenario))
    _store_odd(folder / "odd.db")
    return Stores(
        folder / "long.db", folder / "hostile.db", texts, folder / "troubled.db", folder / "odd.db"
    )


def _store_odd(path: Path) -> None:
    from tests.export.test_data_quality_spans import _odd_call
    from turnscope.records import CallContext

    turns, call = _odd_call()
    store = LocalStore(path, capture_content=True)
    store.start_call(CallContext(call_id="call", session_id="room-7"))
    for turn in turns:
        store.on_turn(turn)
    store.on_call(call)
    assert store.close(timeout=10)


@pytest.fixture(scope="module")
def browser(stores: Stores) -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _hover_turn(page: Page, index: int) -> None:
    """Move the mouse over the column of the index-th turn of the first timeline."""
    canvas = page.locator("canvas.timeline").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    x, y = page.evaluate(
        """(i) => {
          const chart = Chart.getChart(document.querySelector("canvas.timeline"));
          const area = chart.chartArea;
          return [chart.getDatasetMeta(0).data[i].x, (area.top + area.bottom) / 2];
        }""",
        index,
    )
    page.mouse.move(box["x"] + x, box["y"] + y)


def test_a_long_call_draws_offline_with_no_errors(
    stores: Stores, open_report: OpenedReport, tmp_path: Path
) -> None:
    html = _html_report(stores.long)
    expected = _report_json(stores.long)
    page = open_report.page
    page.goto(html.as_uri())

    assert open_report.errors == []
    assert open_report.requests == [html.as_uri()]  # nothing but the file itself

    turns = expected["turns"]
    labels = page.evaluate(
        "Chart.getChart(document.querySelector('canvas.timeline')).data.labels.length"
    )
    assert labels == len(turns) >= LONG_TURNS
    (endpointing,) = page.evaluate(_BAR_PIXELS, "canvas.timeline")
    assert endpointing > 20 * len(turns)  # every answered turn's endpointing bar

    shown = page.eval_on_selector_all("canvas.distribution", "cs => cs.map(c => c.dataset.metric)")
    assert shown == list(expected["percentiles"])  # one histogram per metric, same order
    drawn = page.evaluate(_BAR_PIXELS, "canvas.distribution")
    assert all(pixels > 100 for pixels in drawn), str(dict(zip(shown, drawn, strict=True)))

    # p50/p95 next to the histograms are the terminal report's numbers
    e2e_row = page.locator("table.percentiles tbody tr").first.locator("td").all_inner_texts()
    p50, p95 = expected["percentiles"]["e2e"]["p50"], expected["percentiles"]["e2e"]["p95"]
    assert e2e_row[0].startswith("e2e")
    assert [int(e2e_row[2]), int(e2e_row[4])] == [round(p50 * 1000), round(p95 * 1000)]

    screenshot = tmp_path / "report.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes()[:4] == b"\x89PNG"


def test_hovering_a_turn_shows_what_the_user_and_the_agent_said(
    stores: Stores, open_report: OpenedReport
) -> None:
    html = _html_report(stores.long)
    turns = _report_json(stores.long)["turns"]
    page = open_report.page
    page.goto(html.as_uri())
    tooltip = page.locator("#turn-tooltip")
    assert not tooltip.is_visible()
    for index in (3, len(turns) - 1):
        _hover_turn(page, index)
        assert tooltip.is_visible()
        assert tooltip.locator(".user-text").text_content() == turns[index]["user_text"]
        assert tooltip.locator(".agent-text").text_content() == turns[index]["agent_text"]
        assert f"turn {turns[index]['turn']} " in (tooltip.text_content() or "")
    assert open_report.errors == []


def test_several_calls_each_get_a_timeline_with_errors_interruptions_and_state(
    stores: Stores, open_report: OpenedReport
) -> None:
    html = _html_report(stores.troubled, "--last", "2")
    expected = _report_json(stores.troubled)  # the last call alone, for its turns
    db = sqlite3.connect(stores.troubled)
    errors = db.execute("SELECT message FROM events WHERE kind = 'error' ORDER BY at").fetchall()
    calls = db.execute("SELECT call_id, turns FROM calls ORDER BY started_at DESC").fetchall()
    interrupted = db.execute("SELECT COUNT(*) FROM turns WHERE interrupted = 1").fetchone()[0]
    db.close()
    page = open_report.page
    page.goto(html.as_uri())
    assert open_report.errors == []

    assert page.locator("section.call").count() == 2
    labels = page.eval_on_selector_all(
        "canvas.timeline", "cs => cs.map(c => Chart.getChart(c).data.labels.length)"
    )
    assert labels == [n for _, n in calls]  # newest first
    assert labels[0] == len(expected["turns"])
    shown = page.locator("table.events tbody tr td:last-child").all_text_contents()
    assert shown == [message for (message,) in errors]
    assert len(errors) >= 2
    assert interrupted >= 1
    assert page.locator("table.interrupted tbody tr").count() == interrupted
    said = page.locator("table.interrupted tbody tr td:last-child").all_text_contents()
    assert all(s.startswith("written, not all heard: ") for s in said), said  # as kept
    assert all(pixels > 100 for pixels in page.evaluate(_BAR_PIXELS, "canvas.states"))
    summaries = page.locator("p.call-summary").all_text_contents()
    assert "errors: llm" in summaries[1]
    assert "interruptions 1" in summaries[0]


@pytest.mark.parametrize(
    ("p50", "p95"),
    [(0.1774996, 0.0625), (0.0625, 0.1774996)],  # a value just under .5 ms; an exact tie
)
def test_the_page_rounds_each_number_once_as_the_terminal_does(
    stores: Stores, open_report: OpenedReport, tmp_path: Path, p50: float, p95: float
) -> None:
    """0.1774996 s is 177 ms in the terminal; rounded to 10 µs first and then again in the
    page it showed 178. 62.5 ms is a tie: 62 in both (the even one), not 63 in the page."""
    import shutil
    import sqlite3

    from turnscope.report.text import ms

    copy = tmp_path / "rounding.db"
    shutil.copy(stores.troubled, copy)
    with sqlite3.connect(copy) as db:
        (summary,) = db.execute("SELECT summary FROM calls ORDER BY started_at LIMIT 1").fetchone()
        changed = {**json.loads(summary), "e2e_p50": p50, "e2e_p95": p95}
        db.execute(
            "UPDATE calls SET summary = ? WHERE call_id = "
            "(SELECT call_id FROM calls ORDER BY started_at LIMIT 1)",
            (json.dumps(changed),),
        )
    page = open_report.page
    page.goto(_html_report(copy, "--last", "2").as_uri())
    assert open_report.errors == []
    headings = [h.strip(" ▼▲") for h in page.locator("table.calls-overview th").all_text_contents()]
    cells = [
        row.locator("td").all_text_contents()
        for row in page.locator("table.calls-overview tbody tr").all()
    ]
    shown = {(row[headings.index("e2e p50")], row[headings.index("e2e p95")]) for row in cells}
    assert (f"{ms(p50)} ms", f"{ms(p95)} ms") in shown
    assert {ms(0.1774996), ms(0.0625)} == {"177", "62"}


def test_overview_sorts_parts_keep_their_colour_and_timelines_share_a_scale(
    stores: Stores, open_report: OpenedReport
) -> None:
    html = _html_report(stores.troubled, "--last", "2")
    calls = json.loads(
        CliRunner().invoke(main, ["calls", "--db", str(stores.troubled), "--json"]).output
    )["calls"]
    page = open_report.page
    page.goto(html.as_uri())
    assert open_report.errors == []

    rows = page.locator("table.calls-overview tbody tr")
    assert rows.count() == 2
    headings = page.locator("table.calls-overview th").all_text_contents()
    cost_column = [h.strip(" ▼▲") for h in headings].index("cost")
    page.locator("table.calls-overview th").nth(cost_column).click()  # most costly first
    first = rows.first.locator("td").first.text_content()
    assert first == max(calls, key=lambda c: c["cost_usd"])["call_id"][:12]
    page.locator("table.calls-overview th").nth(cost_column).click()  # and the other way
    assert (
        rows.first.locator("td").first.text_content()
        == min(calls, key=lambda c: c["cost_usd"])["call_id"][:12]
    )
    errors_column = [h.strip(" ▼▲") for h in headings].index("errors")
    page.locator("table.calls-overview th").nth(errors_column).click()
    shown = rows.first.locator("td").nth(errors_column).text_content()
    assert shown == str(max(c["errors"] for c in calls))

    # one colour per breakdown part: the histogram of a part is drawn in its timeline colour
    colours = page.evaluate(
        """() => {
          const timeline = Chart.getChart(document.querySelector('canvas.timeline'));
          const byLabel = Object.fromEntries(timeline.data.datasets.map(
            (d) => [d.label, d.backgroundColor]));
          const hist = (m) => Chart.getChart(document.querySelector(
            `canvas.distribution[data-metric="${m}"]`)).data.datasets[0].backgroundColor;
          return [byLabel['endpointing'], hist('endpointing'),
                  byLabel['LLM first token'], hist('llm_first_token')];
        }"""
    )
    assert colours[0] == colours[1]
    assert colours[2] == colours[3]
    assert colours[0] != colours[2]
    # ... and only it: no other metric's histogram wears a part's colour
    borrowed = page.evaluate(
        """() => {
          const parts = new Set(Chart.getChart(document.querySelector('canvas.timeline'))
            .data.datasets.filter((d) => d.label !== 'e2e').map((d) => d.backgroundColor));
          return [...document.querySelectorAll('canvas.distribution')]
            .filter((c) => parts.has(Chart.getChart(c).data.datasets[0].backgroundColor))
            .map((c) => c.dataset.metric);
        }"""
    )
    assert "e2e" not in borrowed
    assert "llm_ttft" not in borrowed
    assert "endpointing" in borrowed

    maxima = page.eval_on_selector_all(
        "canvas.timeline", "cs => cs.map(c => Chart.getChart(c).scales.y.max)"
    )
    assert len(set(maxima)) == 1  # one y-scale for every call
    worst = max(c["e2e_max"] for c in calls) * 1000
    assert maxima[0] >= worst - 0.01  # the page's data is rounded to 10 µs
    assert maxima[0] < worst * 1.34  # rounded up to a round number (3,001 → 4,000 at most)
    assert len(f"{maxima[0]:.0f}".rstrip("0")) <= 2  # e.g. 400, 1500, 2500

    trend = page.evaluate(
        "() => Chart.getChart(document.querySelector('canvas.trend')).data.datasets.length"
    )
    assert trend == 4
    assert page.locator("table.trend-table tbody tr").count() >= 1
    assert all(pixels > 0 for pixels in page.evaluate(_BAR_PIXELS, "canvas.trend"))


IMG = "<img src=x onerror=\"window.__pwned = 'img'\">"
SCRIPT = "</script><script>window.__pwned = 'script'</script>"
SEPARATORS = "first line\u2028second line\u2029</SCRIPT ><!-- & &amp; \\u2028"
TITLE = "</title><script>window.__pwned = 'title'</script>"


def _store_hostile(db: Path, recorded: RecordedCall) -> list[tuple[str, str]]:
    """The call as recorded, with every transcript replaced by markup that tries to run."""
    hostile = [(IMG, SCRIPT), (SCRIPT, SEPARATORS), (SEPARATORS, IMG)]
    store = LocalStore(db)
    store.start_call(dataclasses.replace(recorded.handle.context, session_id=TITLE))
    texts = []
    for i, turn in enumerate(recorded.turns):
        user, agent = hostile[i % len(hostile)]
        store.on_turn(dataclasses.replace(turn, user_text=user, agent_text=agent))
        texts.append((user, agent))
    store.on_call(recorded.call)
    assert store.close(timeout=10)
    return texts


def test_hostile_transcripts_render_as_text_and_never_run(
    stores: Stores, open_report: OpenedReport
) -> None:
    texts = stores.hostile_texts
    html = _html_report(stores.hostile)
    page = open_report.page
    page.goto(html.as_uri())

    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("document.images.length") == 0
    assert page.evaluate("document.scripts.length") == 3  # data, Chart.js, ours: none added
    assert page.title() == f"turnscope · {TITLE}"
    assert open_report.errors == []  # not even a blocked attempt reached the policy
    assert open_report.requests == [html.as_uri()]

    page.locator("details summary").first.click()
    cells = page.locator("table.turns tbody tr")
    assert cells.count() == len(texts)
    for row, (user, agent) in enumerate(texts):
        said = cells.nth(row).locator("td")
        assert said.nth(2).text_content() == user
        assert said.nth(3).text_content() == agent
    _hover_turn(page, 1)
    assert page.locator("#turn-tooltip .user-text").text_content() == texts[1][0]
    assert page.locator("#turn-tooltip .agent-text").text_content() == SEPARATORS
    assert TITLE in (page.locator("section.call p.meta").first.text_content() or "")
    assert page.evaluate("window.__pwned") is None


def test_suspect_and_unknown_values_are_shown_raw_and_explained(
    stores: Stores, open_report: OpenedReport
) -> None:
    html = _html_report(stores.odd)
    page = open_report.page
    page.goto(html.as_uri())
    assert open_report.errors == []
    quality = page.locator("ul.quality li").all_text_contents()
    assert (
        "turn 2: e2e 204 ! implausible (shown raw, kept out of percentiles, budgets and scores)"
        in quality
    )
    assert "turn 2: prompt_tokens unknown (cancelled)" in quality
    e2e = page.locator("table.turns tbody tr td:nth-child(6)").all_text_contents()
    assert e2e == ["1100 ms", "204000 ms !"]
