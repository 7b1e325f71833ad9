"""Per-token rates of a model, read off genai-prices once, so a request costs a few
multiplications instead of a full ``calc_price`` (about 200 µs of Decimal arithmetic).

An untiered price is linear in the usage counts: each count's marginal rate is the price of
a usage with one million more of it. The rates come from genai-prices itself, at a handful
of consistent usages (a cached token is also an input token), and are checked against it
at one more before they are trusted; a tiered model (its rate depends on the prompt's size)
has none, and keeps being priced by ``calc_price``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["FIELDS", "LinearRates", "linear_rates"]

FIELDS = (
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "input_audio_tokens",
    "cache_audio_read_tokens",
    "output_tokens",
    "output_audio_tokens",
)
"""The usage counts a request reports, in the order of the rates."""

MILLION = 1_000_000

# Each count's marginal price: (usage with it, the same usage without it). Counts are
# nested (cached ⊂ input, audio ⊂ input, cached audio ⊂ both), so each step keeps the
# usage consistent.
_STEPS: dict[str, tuple[dict[str, int], dict[str, int]]] = {
    "input_tokens": ({"input_tokens": MILLION}, {}),
    "cache_read_tokens": (
        {"input_tokens": MILLION, "cache_read_tokens": MILLION},
        {"input_tokens": MILLION},
    ),
    "cache_write_tokens": (
        {"input_tokens": MILLION, "cache_write_tokens": MILLION},
        {"input_tokens": MILLION},
    ),
    "input_audio_tokens": (
        {"input_tokens": MILLION, "input_audio_tokens": MILLION},
        {"input_tokens": MILLION},
    ),
    "cache_audio_read_tokens": (
        {
            "input_tokens": 2 * MILLION,
            "input_audio_tokens": MILLION,
            "cache_read_tokens": MILLION,
            "cache_audio_read_tokens": MILLION,
        },
        {"input_tokens": 2 * MILLION, "input_audio_tokens": MILLION, "cache_read_tokens": MILLION},
    ),
    "output_tokens": ({"output_tokens": MILLION}, {}),
    "output_audio_tokens": (
        {"output_tokens": MILLION, "output_audio_tokens": MILLION},
        {"output_tokens": MILLION},
    ),
}

_CHECK = {
    "input_tokens": 123_457,
    "cache_read_tokens": 45_678,
    "cache_write_tokens": 2_345,
    "input_audio_tokens": 34_567,
    "cache_audio_read_tokens": 1_234,
    "output_tokens": 23_456,
    "output_audio_tokens": 12_345,
}
"""A usage the rates must price exactly as genai-prices does before they are used."""


@dataclass(frozen=True, slots=True)
class LinearRates:
    """USD per token of each count in ``FIELDS``, split into the input and output side."""

    fixed: tuple[float, float]
    """(input, output) USD of an empty request (a per-request fee, if any)."""
    input: tuple[float, ...]
    output: tuple[float, ...]

    def price(self, counts: tuple[int, ...]) -> tuple[float, float]:
        """(input, output) USD of a request with these counts."""
        return (
            self.fixed[0] + sum(c * r for c, r in zip(counts, self.input, strict=True)),
            self.fixed[1] + sum(c * r for c, r in zip(counts, self.output, strict=True)),
        )


def _usage(counts: dict[str, int]) -> Any:
    from genai_prices import Usage

    return Usage(**{name: counts.get(name, 0) for name in FIELDS})


def _sides(model_price: Any, counts: dict[str, int]) -> tuple[float, float]:
    result = model_price.calc_price(_usage(counts))
    return float(result["input_price"]), float(result["output_price"])


def linear_rates(model_price: Any) -> LinearRates | None:
    """The model's rates, or None when its price is not linear (tiered) or cannot be read."""
    try:
        from genai_prices.types import TieredPrices

        if any(isinstance(v, TieredPrices) for v in vars(model_price).values()):
            return None
        fixed = _sides(model_price, {})
        rates_in: list[float] = []
        rates_out: list[float] = []
        for name in FIELDS:
            with_it, without = _STEPS[name]
            high, low = _sides(model_price, with_it), _sides(model_price, without)
            rates_in.append((high[0] - low[0]) / MILLION)
            rates_out.append((high[1] - low[1]) / MILLION)
        rates = LinearRates(fixed, tuple(rates_in), tuple(rates_out))
        expected = _sides(model_price, _CHECK)
    except (ImportError, TypeError, ValueError, ArithmeticError, LookupError):
        return None
    got = rates.price(tuple(_CHECK[name] for name in FIELDS))
    if any(abs(g - e) > 1e-9 + 1e-6 * abs(e) for g, e in zip(got, expected, strict=True)):
        return None
    return rates
