"""``turnscope compare``: did this change make my agent slower (or costlier)?"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from turnscope.cli.common import FilePath, echo_json, fail, one_line_errors, read_stores
from turnscope.report.compare import MIN_VALUES, RESAMPLES, compare_values
from turnscope.report.filters import CallFilter, FilterError, parse_when
from turnscope.report.fit import print_fitted
from turnscope.report.metrics import COSTS, METRICS
from turnscope.report.numbers import unsigned_zero
from turnscope.report.queries import select_calls, totals, values_of
from turnscope.report.speeds import describe, listed, speeds_of
from turnscope.report.suggest import METRIC_SYNONYMS, did_you_mean

if TYPE_CHECKING:
    from turnscope.report.compare import Comparison, Difference

__all__ = ["compare"]

SCHEMA = "turnscope.compare/1"
COMPARED = [*METRICS, *COSTS]
ALIASES = {"cost": "call_cost"}
_RESOLUTION = {"call_cost": 0.00005}
"""Half the last digit shown: 0.5 ms for latencies, $0.00005 for cost."""
_KEYS = ("db", "tag", "user", "session", "agent", "since", "until")


def parse_side(specs: tuple[str, ...]) -> tuple[tuple[Path, ...], CallFilter]:
    """``db=FILE``, ``tag=X``, ``user=X``, ``session=X``, ``agent=X``, ``since=T``,
    ``until=T`` (repeatable) → the stores and the filter of one side."""
    found: dict[str, list[str]] = {key: [] for key in _KEYS}
    for spec in specs:
        key, sep, value = spec.partition("=")
        if not sep or key not in found or not value:
            meant = did_you_mean(key, _KEYS) if sep and value else None
            raise FilterError(
                f"cannot read {spec!r}: "
                + (f"{meant} " if meant else "")
                + f"write KEY=VALUE with KEY one of {', '.join(_KEYS)} "
                "(e.g. tag=v2, db=new.db, since=2h)"
            )
        found[key].append(value)
    for key in ("since", "until"):
        if len(found[key]) > 1:
            raise FilterError(f"{key}= given twice")
    return tuple(Path(p) for p in found["db"]), CallFilter(
        since=parse_when(found["since"][0]) if found["since"] else None,
        until=parse_when(found["until"][0]) if found["until"] else None,
        users=tuple(found["user"]),
        sessions=tuple(found["session"]),
        tags=tuple(found["tag"]),
        agents=tuple(found["agent"]),
    )


def _values(
    dbs: tuple[Path, ...], filters: CallFilter, label: str
) -> tuple[dict[str, list[float]], dict[float, int], int]:
    """Each compared metric's values on one side, how many of its calls were played at each
    speed other than real time (``report.speeds``), and how many calls it has."""
    connection = read_stores(dbs)
    chosen = None
    if filters.active:
        chosen = [c["call_id"] for c in select_calls(connection, filters=filters)]
        if not chosen:
            fail(f"no calls match the {label} side ({filters.describe()})")
    values = {name: values_of(connection, name, chosen) for name in COMPARED}
    calls = len(chosen) if chosen is not None else totals(connection).calls
    return values, speeds_of(connection, None, filters), calls


@click.command()
@click.option("--db", "dbs", multiple=True, type=FilePath(),
              help="The store(s) both sides read unless a side names its own db=.")  # fmt: skip
@click.option("--base", "base_specs", multiple=True, help="The base side: KEY=VALUE, repeatable.")
@click.option("--new", "new_specs", multiple=True, help="The new side: KEY=VALUE, repeatable.")
@click.option(
    "--fail-on",
    default="",
    help="Comma-separated metrics (e.g. e2e,cost): exit 1 if one got significantly worse.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@one_line_errors
def compare(
    dbs: tuple[Path, ...],
    base_specs: tuple[str, ...],
    new_specs: tuple[str, ...],
    fail_on: str,
    as_json: bool,
) -> None:
    """Compare two sets of calls: p50/p95 per metric, the difference and its noise."""
    watched = [ALIASES.get(m.strip(), m.strip()) for m in fail_on.split(",") if m.strip()]
    unknown = [m for m in watched if m not in COMPARED]
    if unknown:
        meant = did_you_mean(unknown[0], [*ALIASES, *COMPARED], METRIC_SYNONYMS)
        known = f"known: cost, {', '.join(COMPARED)}"
        fail(
            f"--fail-on: unknown metric {unknown[0]!r}; {f'{meant} ({known})' if meant else known}",
            2,
        )
    try:
        base_dbs, base_filter = parse_side(base_specs)
        new_dbs, new_filter = parse_side(new_specs)
    except FilterError as error:
        fail(str(error), 2)
        return
    if not (base_specs and new_specs):
        # one side alone would be compared with every call, itself included
        missing = " and ".join(
            f"{flag} KEY=VALUE" for flag, given in (("--base", base_specs), ("--new", new_specs))
            if not given
        )  # fmt: skip
        fail(f"give both sides: {missing} is missing (e.g. --base tag=v1 --new tag=v2)", 2)
    base, base_speeds, base_calls = _values(base_dbs or dbs, base_filter, "base")
    new, new_speeds, new_calls = _values(new_dbs or dbs, new_filter, "new")
    results = [
        compare_values(name, base[name], new[name], resolution=_RESOLUTION.get(name, 0.0005))
        for name in COMPARED
        if base[name] or new[name]
    ]
    worse = [r.metric for r in results if r.metric in watched and r.verdict == "worse"]
    verdicts = {r.metric: r.verdict for r in results}
    # no evidence is no pass: a gate on a metric it could not judge fails, as `check` does
    undecided = [m for m in watched if verdicts.get(m, "no data") in ("too few", "no data")]
    if as_json:
        payload = {
            "schema": SCHEMA,
            "base": list(base_specs),
            "new": list(new_specs),
            "resamples": RESAMPLES,
            "metrics": [r.as_dict() for r in results],
            "failed_on": worse,
            "undecided": undecided,
            "not_real_time": {
                side: listed(speeds)
                for side, speeds in (("base", base_speeds), ("new", new_speeds))
            },
        }
        echo_json(payload)
    else:
        console = Console(highlight=False)
        _render(console, results, " ".join(base_specs), " ".join(new_specs))
        if watched:  # wrapped at the terminal's width, as the table is
            console.print(Text(_gate(worse, undecided, verdicts)))
        if base_speeds or new_speeds:
            console.print(Text(_speed_note((base_speeds, base_calls), (new_speeds, new_calls))))
    sys.exit(1 if worse or undecided else 0)


def _gate(worse: list[str], undecided: list[str], verdicts: dict[str, str]) -> str:
    """The --fail-on verdict in one line: what got worse, what could not be judged."""
    said = [f"worse: {', '.join(worse)}"] if worse else []
    if undecided:
        said.append(
            "no verdict on "
            + ", ".join(f"{m} ({verdicts.get(m, 'no data')})" for m in undecided)
            + f": under {MIN_VALUES} values on a side proves nothing, so the gate fails"
        )
    return "; ".join(said) or "no watched metric got worse"


def _speed_note(base: tuple[dict[float, int], int], new: tuple[dict[float, int], int]) -> str:
    """What calls played faster than real time do to the latencies compared: each side's
    ``({speed: calls}, calls)``."""
    said = "; ".join(
        f"{side}: {describe(speeds)} of {calls}" if speeds else f"{side}: all {calls} at real time"
        for side, (speeds, calls) in (("base", base), ("new", new))
    )
    one = {s for s, n in base[0].items() if n == base[1]} & {
        s for s, n in new[0].items() if n == new[1]
    }
    speed = min(one) if one else None
    why = (
        "the sides mix speeds, so latency differences show the speed, not the agent"
        if speed is None
        else f"every call of both sides at {speed:g}x: their latencies and differences are "
        + (f"{speed:g} times shorter" if speed > 1 else f"{1 / speed:g} times longer")
        + " than at real time"
    )
    return f"note: not every call was played at real time — {said}: {why}"


def _render(console: Console, results: list[Comparison], base: str, new: str) -> None:
    console.print(
        Text.assemble(
            "base: ", (base or "(all)", "bold"), "   new: ", (new or "(all)", "bold"), "\n",
            (f"ms (cost in $); base→new; Δ is new minus base with its 95% bootstrap interval "
             f"({RESAMPLES} resamples): worse or better when the interval excludes 0; too few: "
             f"under {MIN_VALUES} values on a side", "dim"),
        )
    )  # fmt: skip
    # the verdict sits under the metric's name, not in a last column: at 80 columns a last
    # column is the one a terminal cuts (the cost intervals make the numbers wide)
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1))
    table.add_column("metric\nn base/new verdict", min_width=20, overflow="fold")
    for header in ("p50", "Δ p50", "p95", "Δ p95"):
        table.add_column(header, justify="right", no_wrap=True)
    for r in results:
        unit = "$" if r.metric in COSTS else "s"
        style = {"worse": "bold red", "better": "green"}.get(r.verdict, "")
        table.add_row(
            Text.assemble(f"{r.metric}\n{r.base_count}/{r.new_count} ", (r.verdict, style)),
            _pair(r.p50, unit),
            _delta(r.p50, unit),
            _pair(r.p95, unit),
            _delta(r.p95, unit),
        )
    print_fitted(console, table, joiners={"p50": "→", "p95": "→"})


def _num(value: float, unit: str, signed: bool = False) -> str:
    """Dollars to four places or whole ms; a difference that shows as zero is "0", unsigned."""
    sign = "+" if signed else ""
    return unsigned_zero(f"{value:{sign}.4f}" if unit == "$" else f"{value * 1000:{sign}.0f}")


def _pair(diff: Difference | None, unit: str) -> str:
    return "–" if diff is None else f"{_num(diff.base, unit)}\n{_num(diff.new, unit)}"


def _delta(diff: Difference | None, unit: str) -> str:
    if diff is None:
        return "–"
    return (
        f"{_num(diff.difference, unit, True)}\n"
        f"{_num(diff.low, unit, True)}…{_num(diff.high, unit, True)}"
    )
