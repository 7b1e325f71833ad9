"""Numbers as the reading commands print them: no sign on a zero, no binary noise in JSON.

A report shows what was measured. Two things a computer adds are not measurements: the sign
of a difference that rounds to zero (``-0`` ms reads as "a little faster"), and the last
digits of binary floating point (``2.9999999999999997e-05``, a sum of three costs that are
each exact to the cent's millionth).
"""

from __future__ import annotations

from typing import Any

__all__ = ["JSON_DECIMALS", "counted", "rounded", "unsigned_zero"]

JSON_DECIMALS = 10
"""Decimal places a number keeps in the reading commands' JSON: 1e-10 USD, 0.1 ns, 1e-10 of a
rate. Far finer than any price (the cheapest, cached input tokens, is ~1e-8 USD a token) or
any clock LiveKit reads, and far coarser than float noise (~1e-17 of the value), so rounding
there removes the noise and never a measured digit. Integers are left as they are."""


def counted(count: int, noun: str) -> str:
    """A count and its noun, agreeing: ``1 turn``, ``2 turns``, ``0 turns``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def unsigned_zero(shown: str) -> str:
    """A number as formatted, without its sign when it shows as zero: ``-0``, ``+0`` and
    ``-0.0000`` would read as a change, or a negative, where the digits shown have none."""
    digits = shown.lstrip("+-")
    return digits if digits.strip("0.") == "" else shown


def rounded(value: Any) -> Any:
    """``value`` (JSON-shaped: dicts, lists, scalars) with every float rounded to
    ``JSON_DECIMALS`` places, and a negative zero made zero. Other values are unchanged."""
    if isinstance(value, float):
        return round(value, JSON_DECIMALS) + 0.0  # + 0.0: -0.0 becomes 0.0
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(item) for item in value]
    return value
