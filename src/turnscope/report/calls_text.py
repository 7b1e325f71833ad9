"""The call list in the terminal: one row per call, text columns folded, numbers whole."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich import box
from rich.table import Table
from rich.text import Text

from turnscope.report.literal import literal

if TYPE_CHECKING:
    from rich.console import Console

    from turnscope.report.calls import CallLine

__all__ = ["local_time", "render_calls"]

LEGEND = (
    "newest first unless sorted; times local; e2e in ms (worst: the slowest turn's e2e and "
    "its number); cost in USD (* some of it unpriced); err: errors; int: interrupted replies"
)


def local_time(at: float | None) -> str:
    """Unix seconds as the local date and time, to the minute: with a call's length beside
    it (``2026-12-06 23:19 · 3725s``) it fits the call column at 80 columns unbroken; the
    call's own report (``--call``) gives the second."""
    return "–" if at is None else datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M")


def _ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1000:.0f}"


def _usd(amount: float | None, unpriced: bool) -> str:
    if amount is None:
        return "–"
    shown = f"${amount:.4f}" if amount >= 0.01 else f"${amount:.5f}"
    return shown + ("*" if unpriced else "")


def render_calls(console: Console, lines: list[CallLine], *, title: str) -> None:
    console.print(Text(LEGEND, style="dim"))
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1))
    table.add_column("call", overflow="fold", ratio=1, min_width=20)
    for header in ("turns", "p50", "p95", "worst", "cost", "err", "int"):
        table.add_column(header, justify="right", no_wrap=True)
    for line in lines:
        table.add_row(
            _who(line),
            str(line.turns),
            _ms(line.e2e_p50),
            _ms(line.e2e_p95),
            "–" if line.e2e_max is None else f"{_ms(line.e2e_max)} #{line.worst_turn}",
            _usd(line.cost_usd, line.unpriced),
            "–" if line.errors is None else str(line.errors),
            "–" if line.interruptions is None else str(line.interruptions),
            end_section=True,
        )
    console.print(table)


def _who(line: CallLine) -> Text:
    """When and how long, then session, room, user, agents, tags and the id (what --call
    takes)."""
    duration = (
        "open" if not line.closed else ("–" if line.duration is None else f"{line.duration:.0f}s")
    )
    parts = [Text(f"{local_time(line.started_at)} · {duration}", style="bold")]
    parts.append(Text.assemble("session ", literal(line.session_id)))
    if line.room:
        parts.append(Text.assemble("room ", literal(line.room)))
    if line.user_id:
        parts.append(Text.assemble("user ", literal(line.user_id)))
    if line.agents:
        parts.append(Text.assemble("agent ", literal(", ".join(line.agents), "cyan")))
    if line.tags:
        parts.append(Text.assemble("tags ", literal(", ".join(line.tags))))
    parts.append(Text.assemble(("id ", "dim"), literal(line.call_id[:12], "dim")))
    return Text("\n").join(parts)
