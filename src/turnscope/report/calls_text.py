"""The call list in the terminal: a block per call — its start and length, who, and its
figures — text folded, numbers never cut.

Where the figures fit beside the call's start and length (80 columns do, with five-digit
latencies and cents), the list is a table: a row per call, its text column folded. Narrower,
each call is stacked: its text, then its figures as ``label value`` pairs packed into lines,
a pair never split — a terminal cuts a table's last columns, and a cut number reads as
another number.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich import box
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from turnscope.report.fit import pack
from turnscope.report.literal import literal
from turnscope.report.text import ms

if TYPE_CHECKING:
    from rich.console import Console

    from turnscope.report.calls import CallLine

__all__ = ["local_time", "render_calls"]

LEGEND = (
    "newest first unless sorted; times local; e2e in ms (worst: the slowest turn's e2e and "
    "its number); cost in USD (* some of it unpriced); err: errors; int: interrupted replies"
)

FIGURES = ("turns", "p50", "p95", "worst", "cost", "err", "int")
"""The figures of a call, in the order the table's columns and the stacked lines give them."""

_UNBOUNDED = 10_000
"""A width no terminal has: the probe table is measured at it, so rich reports the width
it wants rather than the one it would squeeze into."""


def local_time(at: float | None) -> str:
    """Unix seconds as the local date and time, to the minute: with a call's length beside
    it (``2026-12-06 23:19 · 3725s``) it fits the call column at 80 columns unbroken; the
    call's own report (``--call``) gives the second."""
    return "–" if at is None else datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M")


def _usd(amount: float | None, unpriced: bool) -> str:
    if amount is None:
        return "–"
    shown = f"${amount:.4f}" if amount >= 0.01 else f"${amount:.5f}"
    return shown + ("*" if unpriced else "")


def figures(line: CallLine) -> tuple[str, ...]:
    """The call's figures as printed, in the order of ``FIGURES``."""
    return (
        str(line.turns),
        ms(line.e2e_p50),
        ms(line.e2e_p95),
        "–" if line.e2e_max is None else f"{ms(line.e2e_max)} #{line.worst_turn}",
        _usd(line.cost_usd, line.unpriced),
        "–" if line.errors is None else str(line.errors),
        "–" if line.interruptions is None else str(line.interruptions),
    )


def render_calls(console: Console, lines: list[CallLine], *, title: str) -> None:
    """The calls as a table when their figures fit beside their start and length in the
    console's width, else stacked (see the module docstring)."""
    console.print(Text(LEGEND, style="dim"))
    if _table_fits(console, lines):
        console.print(_table(lines, [_who(line) for line in lines], title=title))
        return
    console.print(Text(title, overflow="fold"))
    for line in lines:
        console.print()
        console.print(_who(line), overflow="fold")
        console.print(_stacked(figures(line), console.width - 2), overflow="fold")


def _table(lines: list[CallLine], who: list[Text], *, title: str, wrap: bool = True) -> Table:
    """The call list as a table; ``wrap=False`` for a probe of the width it needs."""
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        collapse_padding=True,  # one space of padding between columns, not two
        pad_edge=False,
        show_edge=False,
    )
    table.add_column("call", overflow="fold", no_wrap=not wrap)
    for header in FIGURES:
        table.add_column(header, justify="right", no_wrap=True)
    for line, text in zip(lines, who, strict=True):
        table.add_row(text, *figures(line), end_section=True)
    return table


def _table_fits(console: Console, lines: list[CallLine]) -> bool:
    """Whether the table, its call column only as wide as the widest start and length,
    fits the console: rich then folds the other text, never that line nor a figure."""
    probe = _table(lines, [_when(line) for line in lines], title="", wrap=False)
    unbounded = console.options.update_width(_UNBOUNDED)
    return Measurement.get(console, unbounded, probe).maximum <= console.width


def _stacked(shown: tuple[str, ...], width: int) -> Text:
    """The figures as ``label value`` pairs packed into lines of ``width``, a pair whole."""
    return pack([f"{label} {value}" for label, value in zip(FIGURES, shown, strict=True)], width)


def _when(line: CallLine) -> Text:
    """When the call started and how long it lasted: one line, never folded."""
    duration = (
        "open" if not line.closed else ("–" if line.duration is None else f"{line.duration:.0f}s")
    )
    return Text(f"{local_time(line.started_at)} · {duration}", style="bold")


def _who(line: CallLine) -> Text:
    """When and how long, then session, room, user, agents, tags and the id (what --call
    takes)."""
    parts = [_when(line)]
    parts.append(Text.assemble("session ", literal(line.session_id)))
    if line.room:
        parts.append(Text.assemble("room ", literal(line.room)))
    if line.user_id:
        parts.append(Text.assemble("user ", literal(line.user_id)))
    if line.agents:
        parts.append(Text.assemble("agent ", literal(", ".join(line.agents), "cyan")))
    if line.tags:
        parts.append(Text.assemble("tags ", literal(", ".join(line.tags))))
    if line.speed is not None:
        parts.append(Text(f"played at {line.speed:g}x speed", style="yellow"))
    parts.append(Text.assemble(("id ", "dim"), literal(line.call_id[:12], "dim")))
    return Text("\n").join(parts)
