"""The example agent's stack (examples/voice_agent: Deepgram nova-3, OpenAI gpt-4.1-mini,
Cartesia sonic-3) is fully priced: a simulated call whose scripted providers present
themselves exactly as those plugins do has a cost for every turn and nothing unpriced."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.pricing.test_costs import priced_call
from turnscope.pricing import Pricer, load_catalog
from turnscope.simulate import EXAMPLE_STACK

if TYPE_CHECKING:
    from tests.conftest import SimulationCache
    from turnscope.records import ComponentRequest

EXAMPLE_PRICES = Path(__file__).parents[2] / "examples" / "voice_agent" / "prices.toml"

# gpt-4.1-mini's list price (genai-prices): $0.40 in, $0.10 cached, $1.60 out per 1M tokens
LLM_IN, LLM_CACHED, LLM_OUT = 0.40, 0.10, 1.60
SONIC_PER_CHARACTER = 1 * 0.00005  # 1 credit per character, $5 per 100,000 credits


def expected(r: ComponentRequest, stt_per_minute: float) -> float:
    if r.kind == "llm":
        fresh = r.prompt_tokens - r.cached_tokens
        return (fresh * LLM_IN + r.cached_tokens * LLM_CACHED + r.completion_tokens * LLM_OUT) / 1e6
    if r.kind == "tts":
        return r.characters * SONIC_PER_CHARACTER
    return r.audio_duration * stt_per_minute / 60


@pytest.mark.parametrize(
    ("prices", "stt_per_minute"),
    [(None, 0.0048), (EXAMPLE_PRICES, 0.0058)],
    ids=["packaged catalog", "with the example's prices.toml"],
)
def test_every_turn_of_the_example_stack_is_priced(
    simulations: SimulationCache, prices: Path | None, stt_per_minute: float
) -> None:
    # Deepgram's plugin reports usage every 5 s of audio sent: periodic, as a stream
    recorded = simulations.recorded("basic", stack=EXAMPLE_STACK, stt_usage="periodic")
    turns, call = priced_call(recorded.turns, recorded.call, Pricer(load_catalog(prices)))
    requests = [r for t in turns for r in t.requests]
    reported = {(r.kind, r.provider, r.model) for r in requests}
    assert reported == {
        ("stt", "Deepgram", "nova-3"),
        ("llm", "api.openai.com", "gpt-4.1-mini"),
        ("tts", "Cartesia", "sonic-3"),
    }
    for r in requests:
        assert r.cost_usd == pytest.approx(expected(r, stt_per_minute), rel=1e-6)
    for turn in turns:
        assert turn.cost is not None
        assert turn.cost.unpriced == ()
        assert (turn.cost.total or 0) > 0
    user_turns = [t for t in turns if any(r.kind == "stt" for r in t.requests)]
    assert len(user_turns) == 3
    assert call.cost is not None
    assert call.cost.unpriced == ()
    assert call.cost.idle_stt == pytest.approx(recorded.call.idle_stt_audio * stt_per_minute / 60)
    assert set(dict(call.cost.by_component)) == {"stt", "llm", "tts"}
