"""The name a user probably meant, for a name turnscope does not know (a command, a
metric): the one-line errors say it instead of leaving the user to scan a list."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ["METRIC_SYNONYMS", "did_you_mean"]

CUTOFF = 0.6
"""How alike (``difflib``'s ratio, 0–1) a known name must be to be suggested: difflib's and
click's own default, which finds ``report`` for ``repot`` and ``e2e`` for ``ee2e``."""


METRIC_SYNONYMS = {
    "latency": "e2e",
    "response_latency": "e2e",
    "response_time": "e2e",
    "e2e_latency": "e2e",
    "end_to_end": "e2e",
    "end_to_end_latency": "e2e",
    "ttft": "llm_ttft",
    "time_to_first_token": "llm_ttft",
    "ttfb": "tts_ttfb",
    "time_to_first_byte": "tts_ttfb",
    "eou": "endpointing",
    "end_of_utterance": "endpointing",
    "cost": "call_cost",
    "errors": "error_rate",
    "interruptions": "interruption_rate",
    "barge_in_rate": "interruption_rate",
}
"""What users call a metric → its name here. Spelling alone misleads: ``response_latency`` is
closest in letters to ``total_latency``, which is LiveKit's sum of three parts, not the e2e
the report calls "response latency"."""


def did_you_mean(
    word: str, names: Iterable[str], synonyms: Mapping[str, str] | None = None
) -> str | None:
    """``did you mean 'report'?`` (or ``'a' or 'b'`` when two are as close) for the known
    ``names`` most like ``word``, ignoring case; a synonym of one of them (``synonyms``:
    another word for it, ``-`` and spaces read as ``_``) first; None when none is alike."""
    known = {name.lower(): name for name in names}
    meant = (synonyms or {}).get(word.lower().replace("-", "_").replace(" ", "_"))
    if meant is not None and meant.lower() in known:
        return f"did you mean {known[meant.lower()]!r}?"
    close = difflib.get_close_matches(word.lower(), list(known), n=2, cutoff=CUTOFF)
    if not close:
        return None
    return "did you mean " + " or ".join(repr(known[name]) for name in close) + "?"
