"""The simulated agent: a small travel assistant with one function tool."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from livekit.agents import Agent, RunContext, StopResponse, function_tool, llm, stt, tts

from turnscope.simulate.llm import FALLBACK_REPLY, Reply, prompt_key
from turnscope.simulate.truth import CallbackTruth, SayTruth, SimulationTruth, ToolCallTruth

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Collection, Mapping

    from livekit.agents.voice import ModelSettings

    from turnscope.simulate.profiles import LatencySampler

__all__ = [
    "BOOKING_REFERENCE",
    "HOURS_INSTRUCTIONS",
    "BillingAgent",
    "CannedAgent",
    "FrontDeskAgent",
    "ScriptedAgent",
    "ToolSpeakerAgent",
    "weather_report",
]

BOOKING_REFERENCE = "Your booking reference is A B C one two three."
"""What the ``read_booking`` tool says itself, with ``session.say()``."""
HOURS_INSTRUCTIONS = "Tell the caller the opening hours."
"""The instructions the ``check_hours`` tool asks a reply with (``generate_reply``)."""

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
        callback_seconds: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__(instructions=INSTRUCTIONS)
        self._sampler = sampler
        self._truth = truth
        self._ignore = frozenset(ignore)
        self._callback_seconds = dict(callback_seconds or {})

    async def on_user_turn_completed(
        self, turn_ctx: llm.ChatContext, new_message: llm.ChatMessage
    ) -> None:
        text = new_message.text_content or ""
        seconds = self._sampler.scaled(self._callback_seconds.get(text, 0.0))
        record = CallbackTruth(text=text, seconds=seconds, started_at=time.time())
        self._truth.callbacks.append(record)
        if seconds:  # e.g. a slow lookup before answering
            await asyncio.sleep(seconds)
        record.ended_at = time.time()
        if text in self._ignore:
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


class CannedAgent(ScriptedAgent):
    """Answers from its script in its own ``llm_node``: text, but no LLM request at all."""

    def __init__(
        self, *, replies: Mapping[str, Reply], sampler: LatencySampler, truth: SimulationTruth
    ) -> None:
        super().__init__(sampler=sampler, truth=truth)
        self._replies = dict(replies)

    async def llm_node(
        self, chat_ctx: llm.ChatContext, tools: list[llm.Tool], model_settings: ModelSettings
    ) -> AsyncIterator[str]:
        reply = self._replies.get(prompt_key(chat_ctx), FALLBACK_REPLY)
        await asyncio.sleep(self._sampler.draw("llm_ttft", self._sampler.profile.llm_ttft))
        yield reply.text


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


class ToolSpeakerAgent(FrontDeskAgent):
    """Tools that answer the caller themselves: one speaks with ``session.say()``, one asks
    for a reply with ``session.generate_reply()``, one hands over to an agent that speaks
    first. Each returns nothing for the model to answer."""

    @function_tool
    async def read_booking(self, context: RunContext[None]) -> None:
        """Read the caller's booking reference out loud."""
        self._ran("read_booking")
        self._truth.says.append(SayTruth(text=BOOKING_REFERENCE, issued_at=time.time()))
        context.session.say(BOOKING_REFERENCE)

    @function_tool
    async def check_hours(self, context: RunContext[None]) -> None:
        """Tell the caller the opening hours."""
        self._ran("check_hours")
        context.session.generate_reply(instructions=HOURS_INSTRUCTIONS)

    @function_tool
    async def connect_billing(self, context: RunContext[None]) -> Agent:
        """Connect the caller to billing, who will greet them."""
        self._ran("connect_billing")
        return self._billing()

    def _ran(self, name: str) -> None:
        now = time.time()
        self._truth.tool_calls.append(
            ToolCallTruth(name, {}, started_at=now, injected_latency=0.0, ended_at=now)
        )


def tool_arguments(**arguments: str) -> str:
    """JSON arguments of a scripted tool call."""
    return json.dumps(arguments)
