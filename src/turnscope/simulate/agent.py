"""The simulated agent: a small travel assistant with one function tool."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from livekit.agents import Agent, RunContext, StopResponse, function_tool, llm, stt, tts

from turnscope.simulate.truth import SimulationTruth, ToolCallTruth

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from turnscope.simulate.profiles import LatencySampler

__all__ = ["BillingAgent", "FrontDeskAgent", "ScriptedAgent", "weather_report"]

BILLING_INSTRUCTIONS = "You are the billing desk of Acme Travel. Sort out payment questions."
INSTRUCTIONS = (
    "You are Ava, a friendly voice assistant for Acme Travel. Answer briefly. "
    "Use get_weather when the caller asks about the weather."
)


def weather_report(city: str) -> str:
    """What the weather tool returns: the scripted LLM's replies key on it."""
    return f"{city}: sunny, 21 C"


class ScriptedAgent(Agent):
    def __init__(
        self,
        *,
        sampler: LatencySampler,
        truth: SimulationTruth,
        ignore: Collection[str] = (),
    ) -> None:
        super().__init__(instructions=INSTRUCTIONS)
        self._sampler = sampler
        self._truth = truth
        self._ignore = frozenset(ignore)

    async def on_user_turn_completed(
        self, turn_ctx: llm.ChatContext, new_message: llm.ChatMessage
    ) -> None:
        if (new_message.text_content or "") in self._ignore:
            raise StopResponse  # the agent chooses not to answer (e.g. "hold on a second")

    @function_tool
    async def get_weather(self, context: RunContext[None], city: str) -> str:
        """Get the current weather for a city.

        Args:
            city: The city name.
        """
        latency = self._sampler.draw("tool", self._sampler.profile.tool_latency)
        record = ToolCallTruth(
            name="get_weather",
            arguments={"city": city},
            started_at=time.time(),
            injected_latency=latency,
        )
        self._truth.tool_calls.append(record)
        await asyncio.sleep(latency)
        record.ended_at = time.time()
        return weather_report(city)


class BillingAgent(Agent):
    """The agent a caller is handed off to: its own STT, LLM and TTS, so a call mixes
    models."""

    def __init__(self, *, stt: stt.STT[Any], llm: llm.LLM[Any], tts: tts.TTS[Any]) -> None:
        super().__init__(instructions=BILLING_INSTRUCTIONS, stt=stt, llm=llm, tts=tts)

    async def on_enter(self) -> None:
        self.session.generate_reply()


class FrontDeskAgent(ScriptedAgent):
    """The travel assistant, able to hand the caller off to billing."""

    def __init__(
        self,
        *,
        sampler: LatencySampler,
        truth: SimulationTruth,
        billing: Callable[[], BillingAgent],
    ) -> None:
        super().__init__(sampler=sampler, truth=truth)
        self._billing = billing

    @function_tool
    async def transfer_to_billing(self, context: RunContext[None]) -> tuple[Agent, str]:
        """Transfer the caller to the billing department."""
        self._truth.tool_calls.append(
            ToolCallTruth(
                name="transfer_to_billing",
                arguments={},
                started_at=time.time(),
                injected_latency=0.0,
                ended_at=time.time(),
            )
        )
        return self._billing(), "Transferring you to billing."


def tool_arguments(**arguments: str) -> str:
    """JSON arguments of a scripted tool call."""
    return json.dumps(arguments)
