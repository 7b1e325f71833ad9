"""A call of this suite's design for failed tool calls and the first greeting: the agent
greets, then answers one question with two tools in parallel, one of which LiveKit cannot
run (an unknown name), then a goodbye. Shared by the recording, report and export tests
(a ``Scenario`` holds a dict, so ``SimulationCache`` cannot key it)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from tests.conftest import TEST_SPEED, record
from turnscope.simulate import Reply, Scenario, ToolCall, Utterance
from turnscope.simulate.agent import tool_arguments

if TYPE_CHECKING:
    from tests.conftest import RecordedCall

MIXED_TOOLS = Scenario(
    name="mixed_tools",
    description="A greeting; then get_weather works while get_forecst, in parallel, fails.",
    greeting="Hello, this is Acme Travel.",
    utterances=(
        Utterance("What's the weather and the forecast for Paris?", 1.3),
        Utterance("Thanks, bye.", 0.7),
    ),
    replies={
        "What's the weather and the forecast for Paris?": Reply(
            tool_calls=(
                ToolCall("get_weather", tool_arguments(city="Paris")),
                ToolCall("get_forecst", tool_arguments(city="Paris")),
            )
        ),
        "Thanks, bye.": Reply("Goodbye!"),
    },
)

_played: list[RecordedCall] = []


def mixed_tools() -> RecordedCall:
    """The ``MIXED_TOOLS`` call, simulated once per test session."""
    if not _played:
        _played.append(asyncio.run(record(MIXED_TOOLS, speed=TEST_SPEED)))
    return _played[0]
