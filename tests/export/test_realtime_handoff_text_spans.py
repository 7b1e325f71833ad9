"""Realtime, handoff and text calls as Langfuse receives them (a real OTLP/HTTP receiver)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tests.export.conftest import export_each

if TYPE_CHECKING:
    from tests.conftest import SimulationCache
    from tests.otlp_receiver import ReceivedSpan


@pytest.fixture(scope="module")
def exported(simulations: SimulationCache) -> dict[str, list[ReceivedSpan]]:
    return export_each(simulations, "realtime", "handoff", "text")


def named(spans: list[ReceivedSpan], name: str) -> list[ReceivedSpan]:
    return [s for s in spans if s.name == name]


def test_realtime_responses_are_generations_with_audio_usage_and_cost(
    exported: dict[str, list[ReceivedSpan]],
) -> None:
    spans = exported["realtime"]
    responses = named(spans, "realtime")
    assert len(responses) == 4  # three turns, one of them two responses (a tool call)
    assert not named(spans, "llm")
    assert not named(spans, "tts")
    assert not named(spans, "stt")
    for span in responses:
        a = span.attributes
        assert a["langfuse.observation.type"] == "generation"
        assert a["langfuse.observation.model.name"] == "gpt-realtime"
        usage = json.loads(a["langfuse.observation.usage_details"])
        assert usage["input_audio"] > 0
        assert usage["total"] == a["gen_ai.usage.input_tokens"] + a["gen_ai.usage.output_tokens"]
        cost = json.loads(a["langfuse.observation.cost_details"])
        assert cost["total"] == pytest.approx(a["voice.cost.usd"])
        assert cost["total"] > 0
        assert "langfuse.observation.completion_start_time" in a
        turn = next(s for s in spans if s.span_id == span.parent_id)
        assert turn.name.startswith("turn ")
        assert turn.attributes["voice.turn.input_modality"] == "audio"
        assert turn.attributes["voice.turn.cost.realtime"] > 0


def test_a_handoff_is_on_its_turn_and_an_event_of_the_call(
    exported: dict[str, list[ReceivedSpan]],
) -> None:
    spans = exported["handoff"]
    first = named(spans, "turn 1")[0].attributes
    assert (first["voice.turn.agent"], first["voice.turn.handoff_to"]) == (
        "front_desk_agent",
        "billing_agent",
    )
    assert named(spans, "turn 2")[0].attributes["gen_ai.agent.name"] == "billing_agent"
    (summary,) = named(spans, "call summary")
    assert summary.attributes["voice.call.handoffs"] == 1
    assert "handoff" in summary.events
    (event,) = named(spans, "handoff")
    assert event.attributes["langfuse.observation.type"] == "event"
    assert (event.attributes["voice.handoff.from"], event.attributes["voice.handoff.to"]) == (
        "front_desk_agent",
        "billing_agent",
    )


def test_text_turns_have_no_response_span(exported: dict[str, list[ReceivedSpan]]) -> None:
    spans = exported["text"]
    turns = [s for s in spans if s.name.startswith("turn ")]
    assert len(turns) == 3
    assert {t.attributes["voice.turn.input_modality"] for t in turns} == {"text"}
    assert all("voice.e2e" not in t.attributes for t in turns)
    assert not named(spans, "response")
    assert not named(spans, "endpointing")
    assert len(named(spans, "llm")) == 4
