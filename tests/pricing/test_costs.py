"""Costs of simulated calls, worked out by hand from unit prices."""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

import pytest

from turnscope.pricing import Pricer, load_catalog, price_call, price_turn
from turnscope.pricing.pricer import CallTotals, shared_pricer
from turnscope.records import ComponentRequest

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache
    from turnscope.records import Call, Turn

# round prices, so the expected costs below are plain arithmetic
OVERRIDES = """
[[llm]]
provider = "api.openai.com"
model = "gpt-4o-mini"
input_per_million = 1.0
cached_input_per_million = 0.5
cache_write_per_million = 1.25
output_per_million = 4.0

[[stt]]
provider = "AssemblyAI"
model = "universal-streaming-english"
unit = "connection_second"
usd = 0.001

[[tts]]
provider = "api.openai.com"
model = "tts-1"
unit = "million_characters"
usd = 20.0
"""


@pytest.fixture(scope="module")
def pricer(tmp_path_factory: pytest.TempPathFactory) -> Pricer:
    path = tmp_path_factory.mktemp("prices") / "prices.toml"
    path.write_text(OVERRIDES)
    return Pricer(load_catalog(path))


def by_hand(r: ComponentRequest) -> float:
    if r.kind == "llm":
        fresh = r.prompt_tokens - r.cached_tokens - r.cache_creation_tokens
        return (
            fresh * 1.0
            + r.cached_tokens * 0.5
            + r.cache_creation_tokens * 1.25
            + r.completion_tokens * 4.0
        ) / 1e6
    if r.kind == "tts":
        return r.characters * 20.0 / 1e6
    return r.audio_duration * 0.001


def priced_call(turns: list[Turn], call: Call, pricer: Pricer) -> tuple[list[Turn], Call]:
    totals = CallTotals()
    priced = []
    for turn in turns:
        priced.append(price_turn(turn, pricer))
        totals.add(priced[-1])
    return priced, price_call(call, totals, pricer)


def test_each_request_turn_and_call_costs_what_the_unit_prices_say(
    simulations: SimulationCache, pricer: Pricer
) -> None:
    recorded = simulations.recorded("basic")
    turns, call = priced_call(recorded.turns, recorded.call, pricer)
    requests = [r for t in turns for r in t.requests]
    assert {r.kind for r in requests} == {"stt", "llm", "tts"}
    assert any(r.cached_tokens for r in requests)
    assert any(r.cache_creation_tokens for r in requests)
    for r in requests:
        assert r.cost_usd == pytest.approx(by_hand(r))
        assert not r.unpriced
    for turn in turns:
        assert turn.cost is not None
        assert turn.cost.total == pytest.approx(sum(by_hand(r) for r in turn.requests))
        assert turn.cost.unpriced == ()
    assert call.cost is not None
    idle = recorded.call.idle_stt_audio * 0.001
    assert call.cost.idle_stt == pytest.approx(idle)
    assert call.cost.total == pytest.approx(sum(by_hand(r) for r in requests) + idle)
    parts = dict(call.cost.by_component)
    assert parts["tts"] == pytest.approx(sum(by_hand(r) for r in requests if r.kind == "tts"))


def test_periodic_stt_bills_the_whole_connection(
    simulations: SimulationCache, pricer: Pricer
) -> None:
    recorded = simulations.recorded("basic", stt_usage="periodic")
    _, call = priced_call(recorded.turns, recorded.call, pricer)
    assert call.cost is not None
    stt = dict(call.cost.by_component)["stt"]
    assert stt == pytest.approx(recorded.call.stt_audio * 0.001)  # silence included
    assert call.cost.idle_stt is not None
    assert call.cost.idle_stt > stt / 2


def test_a_discarded_preemptive_attempt_is_paid_for_in_its_turn(
    simulations: SimulationCache, pricer: Pricer
) -> None:
    turns, _ = priced_call(
        simulations.recorded("preemptive").turns, simulations.recorded("preemptive").call, pricer
    )
    first = turns[0]
    (wasted,) = [r for r in first.requests if r.discarded]
    assert first.cost is not None
    assert by_hand(wasted) > 0
    assert first.cost.discarded == pytest.approx(by_hand(wasted))
    assert first.cost.total == pytest.approx(sum(by_hand(r) for r in first.requests))


def test_the_packaged_prices(simulations: SimulationCache) -> None:
    """gpt-4o-mini's list price via genai-prices ($0.15 in, $0.075 cached, $0.60 out per
    million; cache writes as input); tts-1 $15 per million characters; AssemblyAI streaming
    $0.15 an hour of connection."""
    recorded = simulations.recorded("tool_with_preamble")
    turns, call = priced_call(recorded.turns, recorded.call, Pricer(load_catalog()))
    for r in (r for t in turns for r in t.requests):
        if r.kind == "llm":
            fresh = r.prompt_tokens - r.cached_tokens
            expected = (fresh * 0.15 + r.cached_tokens * 0.075 + r.completion_tokens * 0.60) / 1e6
        elif r.kind == "tts":
            expected = r.characters * 15.0 / 1e6
        else:
            expected = r.audio_duration * 0.15 / 3600
        assert r.cost_usd == pytest.approx(expected, rel=1e-6)
    assert call.cost is not None
    assert call.cost.unpriced == ()


def test_an_unknown_model_is_unpriced_never_zero(simulations: SimulationCache) -> None:
    recorded = simulations.recorded("tool_with_preamble")
    renamed = [
        dataclasses.replace(
            t,
            requests=tuple(
                dataclasses.replace(r, model="gpt-imaginary") if r.kind == "llm" else r
                for r in t.requests
            ),
        )
        for t in recorded.turns
    ]
    turns, call = priced_call(renamed, recorded.call, Pricer(load_catalog()))
    llm = [r for t in turns for r in t.requests if r.kind == "llm"]
    assert all(r.cost_usd is None and r.unpriced for r in llm)
    assert turns[0].cost is not None
    assert turns[0].cost.unpriced == ("llm:api.openai.com/gpt-imaginary",)
    assert "llm" not in dict(turns[0].cost.by_component)
    assert call.cost is not None
    assert "llm:api.openai.com/gpt-imaginary" in call.cost.unpriced


def test_realtime_audio_and_text_tokens_are_priced_apart() -> None:
    """gpt-4o-realtime-preview: text $5 in / $20 out, audio $40 in / $80 out per million."""
    request = ComponentRequest(
        kind="llm", request_id="resp_1", provider="openai", model="gpt-4o-realtime-preview",
        started_at=0.0, ended_at=1.0, prompt_tokens=1000, input_audio_tokens=600,
        completion_tokens=400, output_audio_tokens=300,
    )  # fmt: skip
    priced = Pricer(load_catalog()).request(request)
    text_and_audio = (400 * 5 + 600 * 40) / 1e6 + (100 * 20 + 300 * 80) / 1e6
    assert priced.cost_usd == pytest.approx(text_and_audio)
    assert dict(priced.cost_details)["input"] == pytest.approx((400 * 5 + 600 * 40) / 1e6)


def test_a_bad_override_file_logs_one_line_and_keeps_the_agent_running(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('[[tts]]\nprovider = "x"\nmodel = "m"\nunit = "minute"\n')
    with caplog.at_level(logging.ERROR, logger="turnscope"):
        pricer = shared_pricer(str(path))
    assert pricer.catalog.units  # the packaged catalog still prices
    (line,) = [r.getMessage() for r in caplog.records if r.name == "turnscope"]
    assert "tts entry 1 (x/m)" in line
    assert "TURNSCOPE_PRICES" in line
