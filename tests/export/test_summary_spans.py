"""Errors, interruptions, away episodes and time in state, as Langfuse and OTel receive them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.export.conftest import export_each

if TYPE_CHECKING:
    from tests.conftest import SimulationCache
    from tests.otlp_receiver import ReceivedSpan


@pytest.fixture(scope="module")
def exported(simulations: SimulationCache) -> dict[str, list[ReceivedSpan]]:
    return export_each(simulations, "errors", "falseint", "away", "bargein")


def summary(call: list[ReceivedSpan]) -> ReceivedSpan:
    (span,) = [s for s in call if s.name == "call summary"]
    return span


def test_each_error_once_on_the_span_it_hit(exported: dict[str, list[ReceivedSpan]]) -> None:
    spans = exported["errors"]
    levels = [(s.name, s.attributes.get("langfuse.observation.level")) for s in spans]
    flagged = [(n, level) for n, level in levels if level in ("ERROR", "WARNING")]
    # the retried LLM error on the LLM request it delayed; the TTS failure on the dropped turn
    assert sorted(flagged) == sorted([("llm", "WARNING"), ("turn 2", "ERROR")])
    (failed,) = [s for s in spans if s.name == "turn 2"]
    assert failed.status_code == 2  # ERROR
    assert "tts" in failed.attributes["langfuse.observation.status_message"]
    assert failed.attributes["voice.turn.outcome"] == "failed"
    a = summary(exported["errors"]).attributes
    assert (a["voice.call.errors.llm"], a["voice.call.errors.tts"]) == (1, 1)
    assert a["voice.call.unrecoverable_errors"] == 1


def test_false_interruption_is_an_event_observation(
    exported: dict[str, list[ReceivedSpan]],
) -> None:
    call = exported["falseint"]
    events = [s for s in call if s.name == "false interruption"]
    (event,) = events
    assert event.attributes["langfuse.observation.type"] == "event"
    assert event.attributes["voice.false_interruption.resumed"] is True
    assert event.parent_id == summary(call).span_id
    assert summary(call).attributes["voice.call.false_interruptions"] == 1
    assert summary(call).events == ["false interruption"]  # for backends that show events


def test_away_episode_is_an_event_and_time_in_state_is_on_the_summary(
    exported: dict[str, list[ReceivedSpan]],
) -> None:
    call = exported["away"]
    (away,) = [s for s in call if s.name == "user away"]
    assert away.attributes["langfuse.observation.type"] == "event"
    assert away.attributes["voice.away.duration"] > 0
    a = summary(call).attributes
    user = {
        k.rsplit(".", 1)[1]: v
        for k, v in a.items()
        if k.startswith("voice.call.user_time_in_state.")
    }
    agent = {
        k.rsplit(".", 1)[1]: v
        for k, v in a.items()
        if k.startswith("voice.call.agent_time_in_state.")
    }
    assert {"speaking", "listening", "away"} <= set(user)
    assert sum(user.values()) == pytest.approx(a["voice.call.duration"])
    assert sum(agent.values()) == pytest.approx(a["voice.call.duration"])
    assert a["voice.call.away_episodes"] == 1
    # the caller spoke first: there was no greeting to time (newcomer6, finding 5)
    assert "voice.call.time_to_first_greeting" not in a


def test_interruptions_on_the_turn_and_the_summary(exported: dict[str, list[ReceivedSpan]]) -> None:
    call = exported["bargein"]
    (cut,) = [s for s in call if s.attributes.get("voice.turn.interrupted")]
    assert cut.attributes["voice.turn.outcome"] == "interrupted"
    assert cut.attributes["voice.turn.heard_seconds"] > 0
    a = summary(call).attributes
    assert a["voice.call.interruptions"] == 1
    assert a["voice.call.interruption_rate"] == pytest.approx(1 / 3)
