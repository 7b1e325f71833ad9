"""A scripted LLM: streams scripted replies word by word, with tool calls and usage.

Each reply is chosen by the prompt's last user message, or by the last tool output when
the model is called again after a tool ran. Presents itself as OpenAI gpt-4o-mini (provider
``api.openai.com``, as LiveKit's OpenAI plugin reports it) unless told otherwise.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livekit.agents import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectionError,
    APIConnectOptions,
    NotGivenOr,
    llm,
    utils,
)

from turnscope.simulate.truth import LLMRequestTruth, SimulationTruth

if TYPE_CHECKING:
    from collections.abc import Mapping

    from turnscope.simulate.profiles import LatencySampler

__all__ = ["Reply", "ScriptedLLM", "ToolCall"]


@dataclass(frozen=True)
class ToolCall:
    """A function call the scripted model makes."""

    name: str
    arguments: str
    """JSON object of the arguments."""


@dataclass(frozen=True)
class Reply:
    """What the scripted model answers to one prompt."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    fail_first: int = 0
    """Fail this many attempts with a retryable connection error before answering."""
    word_interval: float | None = None
    """Seconds between streamed words (at speed 1) instead of the profile's: a slow stream
    the caller can cut off before its usage chunk (which comes last) is sent."""


FALLBACK_REPLY = Reply(text="Sure, I can help with that.")


@dataclass
class _Attempts:
    counts: dict[str, int] = field(default_factory=dict)

    def next(self, key: str) -> int:
        n = self.counts.get(key, 0)
        self.counts[key] = n + 1
        return n


class ScriptedLLM(llm.LLM[None]):
    def __init__(
        self,
        script: Mapping[str, Reply],
        *,
        sampler: LatencySampler,
        truth: SimulationTruth,
        provider: str = "api.openai.com",
        model: str = "gpt-4o-mini",
        temperature: float = 0.7,
    ) -> None:
        super().__init__()
        self.script = dict(script)
        self.sampler = sampler
        self.truth = truth
        self.temperature = temperature
        self._provider = provider
        self._model = model
        self._attempts = _Attempts()
        self._cached_prefix = 0
        """Tokens the provider's prompt cache holds from the previous request."""

    def cache_usage(self, cacheable: int) -> tuple[int, int]:
        """(cached read, cache written) tokens of a request whose prompt has ``cacheable``
        tokens in whole blocks: what an earlier request cached is read, the rest written."""
        read = min(self._cached_prefix, cacheable)
        written = cacheable - read
        self._cached_prefix = max(self._cached_prefix, cacheable)
        return read, written

    @property
    def model(self) -> str:
        return self._model

    @property
    def provider(self) -> str:
        return self._provider

    def reply_for(self, key: str) -> tuple[Reply, bool]:
        """The reply to a prompt, and whether this attempt is scripted to fail."""
        reply = self.script.get(key, FALLBACK_REPLY)
        return reply, self._attempts.next(key) < reply.fail_first

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        return _ScriptedLLMStream(
            self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options
        )


def prompt_key(chat_ctx: llm.ChatContext) -> str:
    """The last user message or tool output: what the model is answering; or the
    instructions a ``generate_reply(instructions=...)`` added after them."""
    instructions: str | None = None
    for item in reversed(chat_ctx.items):
        if item.type == "function_call_output":
            return instructions if instructions is not None else item.output
        if item.type != "message":
            continue
        if item.role == "user":
            return instructions if instructions is not None else item.text_content or ""
        if item.role == "system" and instructions is None:
            instructions = item.text_content or ""
    return ""


def prompt_tokens(chat_ctx: llm.ChatContext) -> tuple[int, int]:
    """Prompt tokens (about 4 characters each) and how many of them are cacheable: a cache
    holds whole 128-token blocks, from 256 tokens on."""
    chars = 0
    for item in chat_ctx.items:
        if item.type == "message":
            chars += len(item.text_content or "")
        elif item.type == "function_call":
            chars += len(item.arguments) + len(item.name)
        elif item.type == "function_call_output":
            chars += len(item.output)
    tokens = 250 + chars // 4  # system prompt and tool definitions, then the conversation
    cacheable = (tokens // 128) * 128 if tokens >= 256 else 0
    return tokens, min(cacheable, tokens)


class _ScriptedLLMStream(llm.LLMStream):
    async def _run(self) -> None:
        scripted = self._llm
        assert isinstance(scripted, ScriptedLLM)
        key = prompt_key(self.chat_ctx)
        reply, fails = scripted.reply_for(key)
        request_id = utils.shortuuid("chatcmpl-")
        ttft = scripted.sampler.draw("llm_ttft", scripted.sampler.profile.llm_ttft)
        record = LLMRequestTruth(
            request_id=request_id,
            started_at=time.time(),
            prompt_key=key,
            injected_ttft=ttft,
            failed=fails,
            text=reply.text,
            tool_calls=[call.name for call in reply.tool_calls],
        )
        scripted.truth.llm_requests.append(record)
        await asyncio.sleep(ttft)
        if fails:
            record.ended_at = time.time()
            raise APIConnectionError("scripted connection failure (simulated)")
        record.first_chunk_at = time.time()  # a chunk goes out before the next await
        words = reply.text.split(" ") if reply.text else []
        for i, word in enumerate(words):
            self._send(
                request_id,
                llm.ChoiceDelta(role="assistant", content=word if i == 0 else f" {word}"),
            )
            interval = (
                scripted.sampler.scaled(reply.word_interval)
                if reply.word_interval is not None
                else scripted.sampler.draw("llm_token", scripted.sampler.profile.llm_token_interval)
            )
            await asyncio.sleep(interval)
        if reply.tool_calls:
            calls = [
                llm.FunctionToolCall(
                    name=call.name, arguments=call.arguments, call_id=utils.shortuuid("call_")
                )
                for call in reply.tool_calls
            ]
            self._send(request_id, llm.ChoiceDelta(role="assistant", tool_calls=calls))
        prompt, cacheable = prompt_tokens(self.chat_ctx)
        cached, written = scripted.cache_usage(cacheable)
        completion = max(1, round(len(reply.text) / 4)) + 12 * len(reply.tool_calls)
        self._event_ch.send_nowait(
            llm.ChatChunk(
                id=request_id,
                usage=llm.CompletionUsage(
                    completion_tokens=completion,
                    prompt_tokens=prompt,
                    prompt_cached_tokens=cached,
                    cache_creation_tokens=written,
                    total_tokens=prompt + completion,
                ),
            )
        )
        record.ended_at = time.time()

    def _send(self, request_id: str, delta: llm.ChoiceDelta) -> None:
        self._event_ch.send_nowait(llm.ChatChunk(id=request_id, delta=delta))
