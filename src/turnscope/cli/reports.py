"""``turnscope report``, ``check`` and ``prune``: everything that reads the store."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from turnscope.cli.common import db_option, fail, one_line_errors, read_store
from turnscope.cli.html import write_html_report
from turnscope.report.budgets import evaluate, parse_budget
from turnscope.report.queries import distributions, select_calls, turns_of, values_of
from turnscope.report.text import E2E_NOTE, render_call, render_percentiles
from turnscope.store import open_for_writing
from turnscope.store.prune import prune_older_than

__all__ = ["check", "prune", "report"]


@click.command()
@db_option
@click.option("--call", "call_id", help="One call, by id (or a unique prefix of it).")
@click.option("--last", type=click.IntRange(min=1), help="The last N calls (default: 1).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--summary", is_flag=True, help="Only the percentiles (all calls unless chosen).")
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write one self-contained HTML file (works offline) instead.",
)
@one_line_errors
def report(
    db: Path | None,
    call_id: str | None,
    last: int | None,
    as_json: bool,
    summary: bool,
    html_file: Path | None,
) -> None:
    """Per-turn latency breakdown and per-component percentiles."""
    if html_file is not None and (as_json or summary):
        fail("--html cannot be combined with --json or --summary", 2)
    connection = read_store(db)
    if call_id is None and last is None and not summary:
        last = 1
    calls = select_calls(connection, call=call_id, last=last)
    if not calls and as_json:  # a script gets valid JSON: no calls is an answer, not an error
        empty: dict[str, Any] = {"note": E2E_NOTE, "calls": [], "percentiles": {}}
        click.echo(json.dumps(empty if summary else {**empty, "turns": []}, indent=2))
        return
    if not calls:
        fail("the store has no calls yet (run `turnscope demo`, or instrument an agent)")
    if html_file is not None:
        write_html_report(connection, calls, html_file)
        return
    chosen = None if summary and call_id is None and last is None else [c["call_id"] for c in calls]
    found = distributions(connection, chosen)
    turns = [] if summary else turns_of(connection, [c["call_id"] for c in calls])
    turn_count = sum(c["turns"] or 0 for c in calls) if summary else len(turns)
    if as_json:
        payload: dict[str, Any] = {
            "note": E2E_NOTE,
            "calls": calls,
            "percentiles": {name: d.as_dict() for name, d in found.items()},
        }
        if not summary:
            payload["turns"] = turns
        click.echo(json.dumps(payload, indent=2, default=str))
        return
    console = Console()
    if not summary:
        for call in calls:
            render_call(console, call, [t for t in turns if t["call_id"] == call["call_id"]])
    render_percentiles(console, found, calls=len(calls), turns=turn_count)


@click.command()
@db_option
@click.option(
    "--budget",
    "budgets",
    multiple=True,
    required=True,
    help="STAT(METRIC)OP LIMIT, e.g. 'p95(e2e)<=1.5s'; repeat for several.",
)
@click.option("--call", "call_id", help="Only this call.")
@click.option("--last", type=click.IntRange(min=1), help="Only the last N calls (default: all).")
@one_line_errors
def check(db: Path | None, budgets: tuple[str, ...], call_id: str | None, last: int | None) -> None:
    """Check latency budgets; exit 1 if one is exceeded, 2 if one cannot be read."""
    parsed = [parse_budget(text) for text in budgets]
    connection = read_store(db)
    calls = select_calls(connection, call=call_id, last=last)
    if not calls:
        fail("the store has no calls yet: nothing to check")
    chosen = None if call_id is None and last is None else [c["call_id"] for c in calls]
    failed = 0
    for budget in parsed:
        result = evaluate(budget, values_of(connection, budget.metric, chosen))
        verdict = "PASS" if result.passed else "FAIL"
        failed += not result.passed
        measured = "no data" if result.measured is None else f"{result.measured * 1000:.0f} ms"
        click.echo(f"{verdict}  {budget.text:<24} measured {measured} over {result.count} values")
    click.echo(f"{len(parsed) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@click.command()
@db_option
@click.option("--older-than", required=True, help="Age such as 30d, 12h, 2w.")
@one_line_errors
def prune(db: Path | None, older_than: str) -> None:
    """Delete calls older than the given age."""
    match = _AGE.match(older_than)
    if match is None:
        fail(f"cannot read age {older_than!r}: use a number and s, m, h, d or w (e.g. 30d)", 2)
        return
    seconds = float(match[1]) * _UNIT_SECONDS[match[2]]
    read_store(db).close()  # refuses a missing or foreign file with a clear message
    from turnscope.config import resolve_db_path

    connection = open_for_writing(resolve_db_path(db))
    removed = prune_older_than(connection, seconds)
    connection.close()
    click.echo(f"pruned {removed} call(s) older than {older_than}")
