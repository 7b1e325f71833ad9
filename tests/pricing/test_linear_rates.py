"""The fast path prices every request exactly as genai-prices does."""

from __future__ import annotations

import pytest
from genai_prices import Usage, calc_price
from hypothesis import given, settings
from hypothesis import strategies as st

from turnscope.pricing.linear import FIELDS, linear_rates
from turnscope.pricing.pricer import _genai_model_price

MODELS = [
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-4.1-mini"),
    ("openai", "gpt-realtime"),
    ("openai", "gpt-4o-realtime-preview"),
    ("anthropic", "claude-3-5-haiku-latest"),
    ("groq", "llama-3.3-70b-versatile"),
]


@st.composite
def usages(draw: st.DrawFn) -> tuple[int, ...]:
    """Consistent counts: cached and audio tokens are input tokens, cached audio both."""
    inputs = draw(st.integers(0, 400_000))
    audio = draw(st.integers(0, inputs))
    cached = draw(st.integers(0, inputs - audio)) + draw(st.integers(0, audio))
    cached_audio = draw(st.integers(0, min(audio, cached)))
    written = draw(st.integers(0, inputs - cached))
    output = draw(st.integers(0, 50_000))
    output_audio = draw(st.integers(0, output))
    return (inputs, cached, written, audio, cached_audio, output, output_audio)


@pytest.mark.parametrize(("provider", "model"), MODELS)
@settings(max_examples=40, deadline=None)
@given(counts=usages())
def test_rates_price_like_genai_prices(provider: str, model: str, counts: tuple[int, ...]) -> None:
    price = _genai_model_price(provider, model)
    assert price is not None
    rates = linear_rates(price)
    try:
        expected = calc_price(
            Usage(**dict(zip(FIELDS, counts, strict=True))), model_ref=model, provider_id=provider
        )
    except ValueError:  # a usage this model cannot have (audio for a text model)
        return
    if rates is None:  # tiered: the slow path is genai-prices itself
        return
    got_in, got_out = rates.price(counts)
    assert got_in == pytest.approx(float(expected.input_price), rel=1e-9, abs=1e-12)
    assert got_out == pytest.approx(float(expected.output_price), rel=1e-9, abs=1e-12)


def test_untiered_models_take_the_fast_path_and_tiered_ones_do_not() -> None:
    fast = _genai_model_price("openai", "gpt-4o-mini")
    assert linear_rates(fast) is not None
    assert linear_rates(_genai_model_price("openai", "gpt-realtime")) is not None
    tiered = _genai_model_price("google", "gemini-1.5-pro")
    assert tiered is not None
    assert linear_rates(tiered) is None
