"""``turnscope report --trend hour|day``: the trend table (the HTML report draws it too)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from turnscope.cli.common import echo_json, fail
from turnscope.report.fit import print_fitted
from turnscope.report.speeds import listed, note, speeds_of
from turnscope.report.text import ms, usd
from turnscope.report.trend import trend

if TYPE_CHECKING:
    import sqlite3

    from turnscope.report.filters import CallFilter

__all__ = ["TREND_SCHEMA", "show_trend"]

TREND_SCHEMA = "turnscope.trend/1"


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def show_trend(
    connection: sqlite3.Connection,
    filters: CallFilter,
    by: str,
    *,
    as_json: bool,
    last: int | None = None,
) -> None:
    if last is not None:
        fail("--trend reads every call that passes the filters: use --since, not --last", 2)
    periods = trend(connection, filters, by)
    sped_up = speeds_of(connection, None, filters)
    if as_json:
        payload = {
            "schema": TREND_SCHEMA,
            "by": by,
            "filters": filters.describe(),
            "periods": [p.as_dict() for p in periods],
            "not_real_time": listed(sped_up),
        }
        echo_json(payload)
        return
    if not periods:
        fail("no calls match" if filters.active else "the store has no calls yet")
    console = Console()
    console.print(
        Text(
            f"per {by} (local time, by when each call started): e2e p50/p95 in ms; cost in "
            "USD; err: share of turns with an error; int: share of replies heard that were "
            "cut off",
            style="dim",
        )
    )
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1))
    table.add_column(by, no_wrap=True)
    for header in ("calls", "turns", "p50", "p95", "cost", "err", "int"):
        table.add_column(header, justify="right", no_wrap=True)
    for p in periods:
        table.add_row(
            p.period,
            str(p.calls),
            str(p.turns),
            ms(p.e2e_p50),
            ms(p.e2e_p95),
            usd(p.cost_usd),
            _rate(p.error_rate),
            _rate(p.interruption_rate),
        )
    print_fitted(console, table)
    if sped_up:
        calls = sum(p.calls for p in periods)
        console.print(note(sped_up, calls, "these e2e figures"), highlight=False)
