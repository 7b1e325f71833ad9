"""The example voice agent's own Agent (its instructions and its tool) in a real
``AgentSession``, offline: no keys, no provider plugins, no model weights.

The providers are turnscope's scripted ones; what is the example's is what a user would
change: the instructions the LLM is sent and the tool that runs when the LLM calls it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

import turnscope
from assistant import Assistant
from turnscope import simulate
from turnscope.simulate import Reply, Scenario, ToolCall, Utterance
from turnscope.sinks.memory import MemorySink

if TYPE_CHECKING:
    from livekit.agents import AgentSession

ASKS = "Hi, where is my order 1042?"
STATUS = "Order 1042 is shipped on Monday with UPS, arriving Thursday."
"""What the example's lookup_order returns for 1042, written out: if the tool did not run
(or returned something else), the scripted LLM never sees it and the answer below is lost."""
ANSWER = "Your order shipped on Monday and arrives on Thursday."

SCENARIO = Scenario(
    name="voice_agent_example",
    description="A caller asks where an order is; the agent looks it up with its tool.",
    utterances=(
        Utterance(ASKS, 1.3, after="start"),
        Utterance("Great, thanks. Bye!", 0.8),
    ),
    replies={
        ASKS: Reply(
            "Let me check that for you.",
            tool_calls=(ToolCall("lookup_order", json.dumps({"order_number": "1042"})),),
        ),
        STATUS: Reply(ANSWER),
        "Great, thanks. Bye!": Reply("You're welcome. Goodbye!"),
    },
)


@pytest.fixture(scope="module")
async def example_call() -> tuple[simulate.SimulationResult, MemorySink]:
    sink = MemorySink()
    handles: list[turnscope.Instrumentation] = []

    def attach(session: AgentSession[Any]) -> None:
        handles.append(turnscope.instrument(session, session_id="example", sinks=[sink]))

    result = await simulate.run(SCENARIO, speed=4, on_session=attach, agent=Assistant)
    assert await handles[0].aflush(timeout=10)
    return result, sink


def _llm_messages(raw: str | None) -> list[dict[str, Any]]:
    assert raw is not None, "turnscope did not capture what the LLM was sent"
    found = json.loads(raw)
    assert isinstance(found, list)
    return found


async def test_the_example_tool_runs_with_the_scripted_arguments(
    example_call: tuple[simulate.SimulationResult, MemorySink],
) -> None:
    _, sink = example_call
    (tool,) = [tool for turn in sink.turns for tool in turn.tools]
    assert tool.name == "lookup_order"
    assert json.loads(tool.arguments) == {"order_number": "1042"}
    assert tool.status == "done"
    assert tool.output == STATUS


async def test_the_tool_output_reaches_the_llm_and_the_answer_is_spoken(
    example_call: tuple[simulate.SimulationResult, MemorySink],
) -> None:
    result, sink = example_call
    assert [r.prompt_key for r in result.truth.llm_requests][:2] == [ASKS, STATUS]
    (turn,) = [turn for turn in sink.turns if turn.tools]
    second = [r for r in turn.requests if r.kind == "llm"][1]
    tool_messages = [m for m in _llm_messages(second.input) if m["role"] == "tool"]
    assert tool_messages == [{"role": "tool", "name": "lookup_order", "content": STATUS}]
    assert turn.agent_text is not None
    assert ANSWER in turn.agent_text


async def test_the_llm_is_sent_the_example_instructions(
    example_call: tuple[simulate.SimulationResult, MemorySink],
) -> None:
    _, sink = example_call
    first = next(r for turn in sink.turns for r in turn.requests if r.kind == "llm")
    system = [m["content"] for m in _llm_messages(first.input) if m["role"] == "system"]
    assert system == [Assistant().instructions]
    assert "You are Max, the voice assistant of Acme Outdoor" in system[0]
    assert "lookup_order" in first.tools_offered


async def test_every_answered_turn_has_its_response_latency(
    example_call: tuple[simulate.SimulationResult, MemorySink],
) -> None:
    _, sink = example_call
    answered = [turn for turn in sink.turns if turn.user_text]
    assert [turn.user_text for turn in answered] == [ASKS, "Great, thanks. Bye!"]
    for turn in answered:
        assert turn.outcome == "answered"
        assert turn.e2e is not None
        assert 0 < turn.e2e < 5
