"""``turnscope report``, ``check`` and ``prune``: everything that reads the store."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from turnscope.cli.common import (
    FilePath,
    db_option,
    dbs_option,
    echo_json,
    fail,
    filter_options,
    one_call_alone,
    one_line_errors,
    read_store,
    read_stores,
)
from turnscope.cli.trend import show_trend
from turnscope.report.budgets import parse_budget, shown_value
from turnscope.report.checks import check_store
from turnscope.report.filters import FilterError, parse_age
from turnscope.report.queries import (
    distributions,
    events_of,
    select_calls,
    totals,
    totals_of,
    turns_of,
    with_greeting_checked,
    with_written,
)
from turnscope.report.speeds import listed, note, speeds_of
from turnscope.report.text import E2E_NOTE, render_call, render_percentiles, render_totals
from turnscope.store import open_for_writing
from turnscope.store.prune import prune_older_than

if TYPE_CHECKING:
    import sqlite3
    from pathlib import Path

    from turnscope.report.filters import CallFilter

__all__ = ["check", "prune", "report"]


REPORT_SCHEMA = "turnscope.report/1"
CHECK_SCHEMA = "turnscope.check/1"


@click.command()
@dbs_option
@filter_options
@click.option(
    "--call",
    "call_id",
    help="One call: its id, session id, LiveKit room name or a unique id prefix (tried in "
    "that order; a value naming several calls is refused, listing them).",
)
@click.option("--last", type=click.IntRange(min=1), help="The last N calls (default: 1).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--summary", is_flag=True, help="Only the percentiles (all calls unless chosen).")
@click.option(
    "--trend",
    type=click.Choice(["hour", "day"]),
    help="Per hour or day: calls, turns, e2e p50/p95, cost, error and interruption rates.",
)
@click.option(
    "--html",
    "html_file",
    type=FilePath(),
    help="Write one self-contained HTML file (works offline) instead.",
)
@one_line_errors
def report(
    dbs: tuple[Path, ...],
    filters: CallFilter,
    call_id: str | None,
    last: int | None,
    as_json: bool,
    summary: bool,
    trend: str | None,
    html_file: Path | None,
) -> None:
    """Per-turn latency breakdown and per-component percentiles."""
    if html_file is not None and (as_json or summary or trend):
        fail("--html cannot be combined with --json, --summary or --trend", 2)
    if summary and trend:
        fail("--summary and --trend are two views: choose one", 2)
    one_call_alone(call_id, last, filters)
    connection = read_stores(dbs)
    if trend is not None:
        show_trend(connection, filters, trend, as_json=as_json, last=last)
        return
    if summary and call_id is None and last is None:
        show_summary(connection, filters, as_json=as_json)
        return
    if call_id is None and last is None and not filters.active:
        last = 1
    calls = select_calls(connection, call=call_id, last=last, filters=filters)
    if not calls:
        if as_json:  # a script gets valid JSON: no calls is an answer, not an error
            empty = {"schema": REPORT_SCHEMA, "note": E2E_NOTE, "calls": [], "percentiles": {}}
            echo_json({**empty, "turns": [], "errors": []})
            return
        fail("no calls match" if filters.active else _EMPTY)
    if html_file is not None:
        from turnscope.cli.html import write_html_report  # its own imports: only for --html

        write_html_report(connection, calls, html_file)
        return
    show_calls(connection, calls, summary=summary, as_json=as_json)


_EMPTY = "the store has no calls yet (run `turnscope demo`, or instrument an agent)"


def show_summary(connection: sqlite3.Connection, filters: CallFilter, *, as_json: bool) -> None:
    """Percentiles and cost over every call that passes the filters; with no filter, from
    the store's histograms (instant at any size)."""
    counted = totals(connection, filters)
    if not counted.calls and not as_json:
        fail("no calls match" if filters.active else _EMPTY)
    chosen = None
    if filters.active:
        chosen = [c["call_id"] for c in select_calls(connection, filters=filters)]
    found = distributions(connection, chosen)
    sped_up = speeds_of(connection, None, filters)  # by the filter: no list of every id
    if as_json:
        payload = {
            "schema": REPORT_SCHEMA,
            "note": E2E_NOTE,
            "filters": filters.describe(),
            "totals": asdict(counted),
            "percentiles": {name: d.as_dict() for name, d in found.items()},
            "not_real_time": listed(sped_up),
        }
        echo_json(payload)
        return
    console = Console()
    render_percentiles(console, found, calls=counted.calls, turns=counted.turns)
    render_totals(console, counted)
    if sped_up:
        console.print(note(sped_up, counted.calls, "these percentiles"), highlight=False)


def show_calls(
    connection: sqlite3.Connection,
    calls: list[dict[str, Any]],
    *,
    summary: bool,
    as_json: bool,
) -> None:
    ids = [c["call_id"] for c in calls]
    found = distributions(connection, ids)
    turns = [] if summary else with_written(connection, turns_of(connection, ids))
    errors = [] if summary else events_of(connection, ids, ("error",))
    calls = with_greeting_checked(calls, turns)
    turn_count = sum(c["turns"] or 0 for c in calls) if summary else len(turns)
    sped_up = speeds_of(connection, ids)
    if as_json:
        payload: dict[str, Any] = {
            "schema": REPORT_SCHEMA,
            "note": E2E_NOTE,
            "calls": calls,
            "percentiles": {name: d.as_dict() for name, d in found.items()},
            "not_real_time": listed(sped_up),
        }
        if not summary:
            payload["turns"] = turns
            payload["errors"] = errors
        echo_json(payload)
        return
    console = Console()
    if not summary:
        for call in calls:
            mine = call["call_id"]
            render_call(
                console,
                call,
                [t for t in turns if t["call_id"] == mine],
                [e for e in errors if e["call_id"] == mine],
            )
    render_percentiles(console, found, calls=len(calls), turns=turn_count)
    if len(calls) > 1 or summary:
        render_totals(console, totals_of(calls))
    if sped_up and (len(calls) > 1 or summary):  # one call's header says it already
        console.print(note(sped_up, len(calls), "these percentiles"), highlight=False)


@click.command()
@dbs_option
@filter_options
@click.option(
    "--budget",
    "budgets",
    multiple=True,
    required=True,
    help="STAT(METRIC)OP LIMIT with a unit, e.g. 'p95(e2e)<=1.5s', 'p95(call_cost)<=$0.05', "
    "'error_rate<=2%'; repeat for several.",
)
@click.option(
    "--call", "call_id", help="Only this call (id, session id, room name or unique id prefix)."
)
@click.option("--last", type=click.IntRange(min=1), help="Only the last N calls (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@one_line_errors
def check(
    dbs: tuple[Path, ...],
    filters: CallFilter,
    budgets: tuple[str, ...],
    call_id: str | None,
    last: int | None,
    as_json: bool,
) -> None:
    """Check budgets; exit 1 if one is exceeded, 2 if one cannot be read."""
    parsed = [parse_budget(text) for text in budgets]
    one_call_alone(call_id, last, filters)
    connection = read_stores(dbs)
    chosen: list[str] | None = None
    if call_id is not None or last is not None or filters.active:
        chosen = [
            c["call_id"] for c in select_calls(connection, call=call_id, last=last, filters=filters)
        ]
        empty = not chosen
    else:
        empty = totals(connection).calls == 0
    if empty:
        fail(
            "no calls match: nothing to check"
            if filters.active
            else "the store has no calls yet: nothing to check"
        )
    results = check_store(connection, parsed, chosen)
    failed = sum(not r.passed for r in results)
    # rates (errors, interruptions) keep their meaning at any speed; latencies and the STT
    # audio a call is billed for shrink with it
    scaled = any(b.unit != "%" for b in parsed)
    sped_up = speeds_of(connection, chosen) if scaled else {}
    if as_json:
        payload = {
            "schema": CHECK_SCHEMA,
            "passed": len(results) - failed,
            "failed": failed,
            "budgets": [
                {
                    "budget": r.budget.text,
                    "metric": r.budget.metric,
                    "unit": r.budget.unit,
                    "limit": r.budget.limit,
                    "measured": r.measured,
                    "count": r.count,
                    "passed": r.passed,
                }
                for r in results
            ],
            "not_real_time": listed(sped_up),
        }
        echo_json(payload)
        sys.exit(1 if failed else 0)
    for result in results:
        verdict = "PASS" if result.passed else "FAIL"
        measured = shown_value(result.measured, result.budget.unit)
        click.echo(
            f"{verdict}  {result.budget.text:<24} measured {measured} over {result.count} values"
        )
    click.echo(f"{len(results) - failed} passed, {failed} failed")
    if sped_up:
        calls = len(chosen) if chosen is not None else totals(connection).calls
        Console().print(note(sped_up, calls, "latency and cost budgets"), highlight=False)
    sys.exit(1 if failed else 0)


@click.command()
@db_option
@click.option("--older-than", required=True, help="Age such as 30d, 12h, 2w.")
@one_line_errors
def prune(db: Path | None, older_than: str) -> None:
    """Delete calls older than the given age."""
    try:
        seconds = parse_age(older_than)
    except FilterError as error:
        fail(str(error), 2)
        return
    read_store(db).close()  # refuses a missing or foreign file with a clear message
    from turnscope.config import resolve_db_path

    connection = open_for_writing(resolve_db_path(db))
    removed = prune_older_than(connection, seconds)
    connection.close()
    click.echo(f"pruned {removed} call(s) older than {older_than}")
