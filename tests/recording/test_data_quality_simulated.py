"""Odd values LiveKit really produces, in real simulated sessions: recorded as unknown with
their reason, never as a measured 0 (recording/plausibility.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.conftest import livekit_has
from turnscope import events as ev

if TYPE_CHECKING:
    from tests.conftest import SimulationCache


def test_a_request_cancelled_mid_stream_has_unknown_usage_not_a_zero_cost(
    simulations: SimulationCache,
) -> None:
    recorded = simulations.recorded("cut_off_stream")
    cut = recorded.turns[0]
    assert cut.outcome == "interrupted"
    (llm,) = [r for r in cut.requests if r.kind == "llm"]
    assert llm.cancelled
    assert dict(llm.unknown) == {
        "prompt_tokens": "cancelled",
        "completion_tokens": "cancelled",
        "total_tokens": "cancelled",
        "cost_usd": "cancelled",
        **_NOT_IN_THIS_LIVEKIT,
    }
    assert llm.cost_usd is None  # LiveKit reported 0 tokens: it would have priced $0.00
    assert not llm.unpriced
    assert ("prompt_tokens", "cancelled") in cut.unknown
    assert cut.cost is not None
    assert "llm" not in dict(cut.cost.by_component)
    assert cut.cost.uncounted == ("llm:api.openai.com/gpt-4o-mini (cancelled)",)
    for later in recorded.turns[1:]:  # the answered turns' usage is measured
        assert later.unknown == ()
        assert all(r.cost_usd is not None for r in later.requests)


def test_a_realtime_models_eou_delay_of_zero_is_not_measured(
    simulations: SimulationCache,
) -> None:
    turns = simulations.recorded("realtime").turns
    assert len(turns) == 3
    for turn in turns:
        assert turn.end_of_utterance_delay is None
        assert ("end_of_utterance_delay", "not_measured") in turn.unknown
        # the requirements' total uses the endpointing measured from the turn's own times
        assert turn.breakdown is not None
        assert turn.breakdown.endpointing is not None
        assert turn.total_latency is not None
        assert turn.total_latency > turn.breakdown.endpointing


@pytest.mark.parametrize(
    ("scenario", "options"),
    [("basic", {}), ("basic", {"stt_usage": "periodic"}), ("handoff", {})],
)
def test_real_streams_are_never_taken_for_repeats(
    simulations: SimulationCache, scenario: str, options: dict[str, str]
) -> None:
    recorded = simulations.recorded(scenario, **options)
    assert recorded.call.stt_duplicates == 0
    assert recorded.call.suspect == ()
    assert all(t.suspect == () for t in recorded.turns)
    closed = next(i for i, e in enumerate(recorded.events) if isinstance(e, ev.SessionClosed))
    reported = [e for e in recorded.events[:closed] if isinstance(e, ev.STTUsage)]
    assert recorded.call.stt_audio == pytest.approx(sum(e.audio_duration for e in reported))


_NOT_IN_THIS_LIVEKIT = {
    name: "not_reported_by_livekit"
    for name, feature in (
        ("cache_creation_tokens", "llm_cache_creation_tokens"),
        ("reasoning_tokens", "llm_reasoning_tokens"),
    )
    if not livekit_has(feature)
}
"""Counts the installed LiveKit version does not report (docs/livekit-versions.md)."""
