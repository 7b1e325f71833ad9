"""Headless Chromium for the HTML report tests (Debian's, which `.ci/run` installs)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import sync_playwright

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's headless Chromium, driven by Playwright (no browser download).

    Playwright's sync API keeps an event loop running in this thread while the browser is
    open, where ``asyncio.run`` (every simulated call) refuses to start: simulate first,
    and keep the browser to one module so later tests can simulate again.
    """
    if not CHROMIUM.exists():
        pytest.fail(
            "the HTML report tests need Debian's chromium at /usr/bin/chromium "
            "(apt-get install chromium; .ci/run installs it)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class OpenedReport:
    """A report loaded in the browser, with everything it said and asked for."""

    page: Page
    console: list[tuple[str, str]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [text for kind, text in self.console if kind in ("error", "pageerror")]


@pytest.fixture
def open_report(browser: Browser) -> Iterator[OpenedReport]:
    """A fresh page of the test module's ``browser``, recording its console and requests."""
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    opened = OpenedReport(page)
    page.on("console", lambda m: opened.console.append((m.type, m.text)))
    page.on("pageerror", lambda e: opened.console.append(("pageerror", str(e))))
    page.on("request", lambda r: opened.requests.append(r.url))
    yield opened
    context.close()
