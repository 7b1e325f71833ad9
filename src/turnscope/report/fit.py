"""A table of numbers in any terminal: whole where its numbers fit, else a row at a time.

rich squeezes a table wider than the terminal by cutting its no-wrap columns (``1…`` for
1713) or by dropping the last ones: a cut number reads as another number, a dropped one as
none. Where the numbers do not fit beside the text columns folded to ``TEXT_FLOOR``, each
row is printed stacked instead: its first cell as a heading, each text cell on a line of its
own (folded), then the numbers as ``header value`` pairs packed into lines, a pair never
split.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rich.console import Console, RenderableType

__all__ = ["TEXT_FLOOR", "fits", "pack", "print_fitted"]

TEXT_FLOOR = 8
"""Columns a folded text column keeps at least, so its words stay readable."""

_UNBOUNDED = 10_000
"""A width no terminal has: the probe is measured at it, so rich reports the width it wants
rather than the one it would squeeze into."""

_GAP = "   "
"""Between two packed pairs: wider than the space inside a pair."""


def print_fitted(
    console: Console, table: Table, *, joiners: Mapping[str, str] | None = None
) -> None:
    """``table`` as is when ``fits``, else stacked (see the module docstring). A cell of
    several lines is joined by ``joiners[header]`` (default a space)."""
    if fits(console, table):
        console.print(table)
        return
    if table.title:
        console.print(Text(_plain(table.title), overflow="fold"))
    columns = table.columns
    headers = [_plain(column.header) for column in columns]
    for row in zip(*(list(column.cells) for column in columns), strict=True):
        first = _plain(row[0], " · ")
        console.print()
        console.print(Text(f"#{first}" if headers[0] == "#" else first, style="bold"))
        numbers: list[str] = []
        for column, header, cell in zip(columns[1:], headers[1:], row[1:], strict=True):
            shown = _plain(cell, (joiners or {}).get(header, " "))
            if column.no_wrap:
                numbers.append(f"{header} {shown}")
            elif shown:  # a text on a line of its own, folded; an empty one left out
                console.print(Text(f"  {header} {shown}", overflow="fold"))
        console.print(pack(numbers, console.width - 2), overflow="fold")


def fits(console: Console, table: Table) -> bool:
    """Whether ``table``'s no-wrap columns (its numbers) fit whole in the console beside its
    text columns folded to ``TEXT_FLOOR`` (or their own ``min_width``)."""
    probe = Table(
        box=table.box,
        padding=table.padding,
        collapse_padding=table.collapse_padding,
        pad_edge=table.pad_edge,
        show_edge=table.show_edge,
        show_header=table.show_header,
    )
    columns = table.columns
    for column in columns:
        floor = max(column.min_width or 0, TEXT_FLOOR)
        probe.add_column(column.header if column.no_wrap else "x" * floor, no_wrap=True)
    for row in zip(*(list(column.cells) for column in columns), strict=True):
        probe.add_row(*(cell if c.no_wrap else "" for c, cell in zip(columns, row, strict=True)))
    unbounded = console.options.update_width(_UNBOUNDED)
    return Measurement.get(console, unbounded, probe).maximum <= console.width


def pack(pairs: list[str], width: int) -> Text:
    """``pairs`` packed into lines of ``width`` (each indented by two), a pair whole."""
    rows: list[str] = []
    for pair in pairs:
        if rows and len(rows[-1]) + len(_GAP) + len(pair) <= width:
            rows[-1] += _GAP + pair
        else:
            rows.append(pair)
    return Text("\n".join(f"  {row}" for row in rows))


def _plain(cell: RenderableType, joiner: str = " ") -> str:
    """A cell's text without its styles, its lines joined by ``joiner``."""
    text = cell.plain if isinstance(cell, Text) else str(cell)
    return joiner.join(line.strip() for line in text.splitlines())
