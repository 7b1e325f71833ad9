"""``turnscope calls``: the list of calls, to find the slow, costly or failing ones."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from rich.console import Console

from turnscope.cli.common import (
    dbs_option,
    echo_json,
    fail,
    filter_options,
    one_line_errors,
    read_stores,
)
from turnscope.report.calls import SORTS, list_calls
from turnscope.report.calls_text import render_calls
from turnscope.report.queries import totals

if TYPE_CHECKING:
    from pathlib import Path

    from turnscope.report.filters import CallFilter

__all__ = ["calls"]

SCHEMA = "turnscope.calls/1"


@click.command()
@dbs_option
@filter_options
@click.option(
    "--sort",
    type=click.Choice(sorted(SORTS)),
    default="time",
    show_default=True,
    help="Largest first: e2e (p95), cost, errors, turns; time: newest first.",
)
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@one_line_errors
def calls(dbs: tuple[Path, ...], filters: CallFilter, sort: str, limit: int, as_json: bool) -> None:
    """A block per call: when and how long, who, turns, e2e p50/p95 and worst turn, cost,
    errors.

    A table when the figures fit beside each call's start and length (at 80 columns they
    do), its text folded; narrower, each call stacked, its figures as label-value pairs. No
    number is ever cut."""
    connection = read_stores(dbs)
    lines = list_calls(connection, filters, sort=sort, limit=limit)
    summary = totals(connection, filters)
    if as_json:
        payload = {
            "schema": SCHEMA,
            "filters": filters.describe(),
            "matched": summary.calls,
            "calls": [line.as_dict() for line in lines],
        }
        echo_json(payload)
        return
    if not lines and not filters.active:
        fail("the store has no calls yet (run `turnscope demo`, or instrument an agent)")
    if not lines:  # a list that happens to be empty: an answer, not an error
        click.echo(f"no calls match ({filters.describe()})")
        return
    shown = f"{len(lines)} of {summary.calls} call(s)"
    described = filters.describe()
    render_calls(
        Console(), lines, title=f"{shown}{f' ({described})' if described else ''}, by {sort}"
    )
