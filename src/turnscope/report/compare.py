"""Two sets of calls compared: per metric, p50/p95 of each side, the difference, and
whether it is larger than run-to-run noise.

The noise is judged by a percentile bootstrap: both sides are resampled with replacement
(``RESAMPLES`` times, a seeded generator, so the same data always gives the same verdict),
and the 2.5th–97.5th percentiles of the resampled differences are the 95% confidence
interval. A difference whose interval excludes zero is significant: ``worse`` when the new
side is higher (every metric here is better lower), ``better`` when lower.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["MIN_VALUES", "RESAMPLES", "Comparison", "Difference", "compare_values"]

RESAMPLES = 2000
SEED = 0
MIN_VALUES = 20
"""Fewer values than this on a side give no verdict: a bootstrap of a handful of values
(the p95 of three turns) has no meaning."""
_CHUNK = 100
"""Resamples drawn at a time (bounds memory on large sides)."""


@dataclass(frozen=True)
class Difference:
    """new minus base of one statistic, with its 95% bootstrap interval."""

    base: float
    new: float
    difference: float
    low: float
    high: float
    resolution: float
    """Differences this small are not shown by the reports (half their last digit) and
    never count as worse or better."""
    enough: bool
    """Whether both sides had ``MIN_VALUES``; without, no verdict."""

    @property
    def verdict(self) -> str:
        if not self.enough:
            return "too few"
        if self.low > self.resolution:
            return "worse"
        if self.high < -self.resolution:
            return "better"
        return "same"


@dataclass(frozen=True)
class Comparison:
    metric: str
    base_count: int
    new_count: int
    p50: Difference | None
    p95: Difference | None
    """None when a side has no value of the metric."""

    @property
    def verdict(self) -> str:
        """``worse`` if p50 or p95 got significantly worse, ``better`` if one got better and
        none worse, ``same`` otherwise, ``no data`` without values on both sides."""
        if self.p50 is None or self.p95 is None:
            return "no data"
        verdicts = {self.p50.verdict, self.p95.verdict}
        if "too few" in verdicts:
            return "too few"
        if "worse" in verdicts:
            return "worse"
        return "better" if "better" in verdicts else "same"

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["verdict"] = self.verdict
        for key in ("p50", "p95"):
            part = getattr(self, key)
            if part is not None:
                found[key]["verdict"] = part.verdict
        return found


def compare_values(
    metric: str, base: list[float], new: list[float], *, resolution: float = 0.0005
) -> Comparison:
    """Compare one metric's values (any unit; the result is in the same unit).
    ``resolution``: the smallest difference that counts (default half a millisecond)."""
    if not base or not new:
        return Comparison(metric, len(base), len(new), None, None)
    a = np.asarray(base, dtype=float)
    b = np.asarray(new, dtype=float)
    low_high = _bootstrap(a, b)
    found = []
    for column, q in enumerate((50, 95)):
        x, y = float(np.percentile(a, q)), float(np.percentile(b, q))
        low, high = low_high[column]
        enough = min(a.size, b.size) >= MIN_VALUES
        found.append(Difference(x, y, y - x, low, high, resolution, enough))
    return Comparison(metric, a.size, b.size, found[0], found[1])


def _bootstrap(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> list[tuple[float, float]]:
    """The 95% interval of the p50 and of the p95 difference."""
    rng = np.random.default_rng(SEED)
    differences = []
    for start in range(0, RESAMPLES, _CHUNK):
        count = min(_CHUNK, RESAMPLES - start)
        sa = a[rng.integers(0, a.size, (count, a.size))]
        sb = b[rng.integers(0, b.size, (count, b.size))]
        differences.append(
            np.percentile(sb, [50, 95], axis=1) - np.percentile(sa, [50, 95], axis=1)
        )
    joined = np.concatenate(differences, axis=1)
    return [(float(np.percentile(row, 2.5)), float(np.percentile(row, 97.5))) for row in joined]
