"""Makes docs/images/html-report.png from a store of real demo calls, in headless Chromium.

The store: six `turnscope demo` calls, each played at real speed an hour after the one
before (libfaketime moves the whole process's clock back; the calls are recorded as they
happened, only earlier), so the trend chart has six periods::

    export TURNSCOPE_DB=/tmp/shot/t.db
    faketime -f -6h turnscope demo
    faketime -f -5h turnscope demo --scenario tool_with_preamble
    faketime -f -4h turnscope demo --scenario bargein
    faketime -f -3h turnscope demo --scenario errors --profile slow
    faketime -f -2h turnscope demo --profile slow --seed 2
    faketime -f -1h turnscope demo --scenario bargein --profile fast --room support-lobby
    turnscope report --html /tmp/shot/report.html --since 1d
    python docs/images/html_report_png.py /tmp/shot/report.html docs/images/html-report.png

A whole six-call report is 7,600 px tall, so the picture is three cuts of it, stacked with a
labelled band between them: the top (the overview table and the first call's timeline), the
first row of histograms, and the trend chart with its table.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

WIDTH = 1280
ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
BAND = (
    '<div style="font:14px sans-serif;color:#888;text-align:center;padding:6px;'
    'border-top:1px dashed #bbb;border-bottom:1px dashed #bbb;background:#fafafa">⋯ {} ⋯</div>'
)


def _cuts(page: Page) -> list[tuple[float, float]]:
    """(top, bottom) in page pixels of each part shown."""
    found: list[float] = page.evaluate(
        """() => {
          const at = (e, side) => e.getBoundingClientRect()[side] + window.scrollY;
          const aggregate = document.querySelector('section.aggregate');
          const trend = [...aggregate.querySelectorAll('h2')]
            .find((h) => h.textContent.startsWith('trend'));
          return [at(document.querySelector('section.call'), 'bottom'),
                  at(aggregate, 'top'),
                  at(aggregate.querySelector('div.grid').children[0], 'bottom'),
                  at(trend, 'top'),
                  at(document.querySelector('table.trend-table'), 'bottom')];
        }"""
    )
    first_call, aggregate, first_row, trend, trend_table = found
    return [(0, first_call + 8), (aggregate - 8, first_row + 10), (trend - 8, trend_table + 12)]


def main(report: Path, out: Path) -> None:
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as scratch:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": WIDTH, "height": 900})
        page.goto(report.resolve().as_uri())
        page.wait_for_timeout(1500)
        images = []
        for n, (top, bottom) in enumerate(_cuts(page)):
            part = Path(scratch) / f"part{n}.png"
            clip = {"x": 0, "y": top, "width": WIDTH, "height": bottom - top}
            page.screenshot(path=str(part), full_page=True, clip=clip)  # type: ignore[arg-type]
            images.append(f'<img src="{part.name}" style="display:block">')
        bands = [
            "the other five calls; then the histograms, one colour per part, as in the timelines",
            "the other histograms, the percentiles",
        ]
        body = images[0] + BAND.format(bands[0]) + images[1] + BAND.format(bands[1]) + images[2]
        stacked = Path(scratch) / "stacked.html"
        stacked.write_text(f"<body style='margin:0'>{body}</body>")
        page.goto(stacked.as_uri())
        page.wait_for_timeout(500)
        page.screenshot(path=str(out), full_page=True)
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
