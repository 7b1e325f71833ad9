"""The name a user probably meant, for a name turnscope does not know (a command, a
metric): the one-line errors say it instead of leaving the user to scan a list."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["did_you_mean"]

CUTOFF = 0.6
"""How alike (``difflib``'s ratio, 0–1) a known name must be to be suggested: difflib's and
click's own default, which finds ``report`` for ``repot`` and ``e2e`` for ``ee2e``."""


def did_you_mean(word: str, names: Iterable[str]) -> str | None:
    """``did you mean 'report'?`` (or ``'a' or 'b'`` when two are as close) for the known
    ``names`` most like ``word``, ignoring case; None when none is alike."""
    known = {name.lower(): name for name in names}
    close = difflib.get_close_matches(word.lower(), list(known), n=2, cutoff=CUTOFF)
    if not close:
        return None
    return "did you mean " + " or ".join(repr(known[name]) for name in close) + "?"
