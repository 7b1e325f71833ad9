"""The simulation's own truth agrees with what LiveKit measures, and is reproducible."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from turnscope import simulate
from turnscope.simulate.profiles import PROFILES, LatencySampler

if TYPE_CHECKING:
    from tests.conftest import SimulationCache


def _e2e_pairs(result: simulate.SimulationResult) -> list[tuple[float, float]]:
    """(LiveKit's e2e_latency, the simulation's own) for every reply LiveKit timed."""
    pairs = []
    for message in result.chat_messages("assistant"):
        e2e = message.metrics.get("e2e_latency")
        started = message.metrics.get("started_speaking_at")
        if e2e is None or started is None:
            continue
        playback = result.truth.playback_starting_at(started)
        assert playback is not None, f"no playback began when {message.text_content!r} did"
        truth = result.truth.response_latency(playback)
        assert truth is not None
        pairs.append((e2e, truth))
    return pairs


@pytest.mark.realtime
def test_truth_matches_livekit_e2e_within_20ms_at_speed_1() -> None:
    result = asyncio.run(simulate.run("basic", speed=1.0, seed=1))

    pairs = _e2e_pairs(result)
    assert len(pairs) == 3
    for livekit, truth in pairs:
        assert truth == pytest.approx(livekit, abs=0.020)
        assert truth > 0.3  # endpointing alone takes 0.5 s minus the VAD's silence


@pytest.mark.parametrize("name", ["basic", "bargein", "preemptive", "errors"])
def test_truth_matches_livekit_e2e_at_test_speed(simulations: SimulationCache, name: str) -> None:
    result = simulations.get(name)

    pairs = _e2e_pairs(result)
    assert pairs
    for livekit, truth in pairs:
        assert truth == pytest.approx(livekit, abs=0.020)


def test_same_seed_same_latencies_other_seed_other_latencies(simulations: SimulationCache) -> None:
    first = simulations.get("tool_with_preamble")  # seed 0: the session's shared call
    again = asyncio.run(simulate.run("tool_with_preamble", speed=first.speed, seed=first.seed))
    other = simulations.get("tool_with_preamble", seed=8)

    def injected(result: simulate.SimulationResult) -> list[float]:
        return [r.injected_ttft for r in result.truth.llm_requests] + [
            r.injected_ttfb for r in result.truth.tts_requests
        ]

    assert injected(first) == injected(again)
    assert injected(first) != injected(other)


def test_sampler_is_reproducible_per_request_and_scaled_by_speed() -> None:
    profile = PROFILES["realistic"]
    slow = LatencySampler(profile, seed=3, speed=1.0)
    fast = LatencySampler(profile, seed=3, speed=4.0)

    slow_draws = [slow.draw("llm_ttft", profile.llm_ttft) for _ in range(5)]
    fast_draws = [fast.draw("llm_ttft", profile.llm_ttft) for _ in range(5)]

    assert fast_draws == pytest.approx([d / 4 for d in slow_draws])
    assert len(set(slow_draws)) == 5
    assert all(profile.llm_ttft.low <= d <= profile.llm_ttft.high for d in slow_draws)
    # the n-th request of a kind draws the same value whatever else was drawn before it
    mixed = LatencySampler(profile, seed=3, speed=1.0)
    mixed.draw("tts_ttfb", profile.tts_ttfb)
    assert mixed.draw("llm_ttft", profile.llm_ttft) == slow_draws[0]


def test_profiles_order_from_fast_to_slow() -> None:
    fast, realistic, slow = PROFILES["fast"], PROFILES["realistic"], PROFILES["slow"]
    assert fast.llm_ttft.high <= realistic.llm_ttft.low + 0.01
    assert realistic.llm_ttft.high <= slow.llm_ttft.low


def test_unknown_scenario_profile_or_speed_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scenario 'nope'"):
        simulate.build_scenario("nope")
    with pytest.raises(ValueError, match="unknown latency profile"):
        asyncio.run(simulate.run("basic", profile="nope"))
    with pytest.raises(ValueError, match="speed must be positive"):
        asyncio.run(simulate.run("basic", speed=0))
    with pytest.raises(ValueError, match="only to the 'long' scenario"):
        simulate.build_scenario("basic", turns=3)
