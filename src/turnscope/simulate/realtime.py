"""A scripted speech-to-speech (realtime) model, presented as OpenAI ``gpt-realtime``.

It answers like the scripted LLM — the reply is chosen by the last user message or tool
output in the chat context LiveKit pushes to it — but as a realtime model does: one
*response* per ``generate_reply``, whose audio and transcript stream together, with one
``RealtimeModelMetrics`` per response (``timestamp`` = the response's creation, tokens split
into text and audio, cached ones apart). Turn detection stays with the session's VAD and
VAD (``turn_detection=False``), as in a realtime agent that keeps its own turn detector;
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any, Literal

from livekit import rtc
from livekit.agents import NOT_GIVEN, NotGivenOr, llm, utils
from livekit.agents.metrics import RealtimeModelMetrics
from livekit.agents.metrics.base import Metadata

from turnscope.simulate.audio import OUTPUT_SAMPLE_RATE, tone
from turnscope.simulate.llm import FALLBACK_REPLY, Reply, prompt_key, prompt_tokens
from turnscope.simulate.truth import LLMRequestTruth, SimulationTruth

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping, Sequence

    from turnscope.simulate.profiles import LatencySampler

__all__ = ["ScriptedRealtimeModel"]

FRAME_SECONDS = 0.1
AMPLITUDE = 3000
AUDIO_TOKENS_PER_SECOND = 10
"""OpenAI counts realtime audio at about 10 tokens a second (input and output)."""


class ScriptedRealtimeModel(llm.RealtimeModel):
    def __init__(
        self,
        script: Mapping[str, Reply],
        transcripts: Sequence[str],
        *,
        sampler: LatencySampler,
        truth: SimulationTruth,
        provider: str = "api.openai.com",
        model: str = "gpt-realtime",
    ) -> None:
        super().__init__(
            capabilities=llm.RealtimeCapabilities(
                message_truncation=False,
                turn_detection=False,
                user_transcription=True,
                auto_tool_reply_generation=False,
                audio_output=True,
                manual_function_calls=False,
                mutable_chat_context=True,
                mutable_instructions=True,
                mutable_tools=True,
            )
        )
        self.script = dict(script)
        self.transcripts = list(transcripts)
        """What the model will hear the caller say, utterance by utterance."""
        self.sampler = sampler
        self.truth = truth
        self._provider = provider
        self._model = model
        self._sessions: list[_ScriptedRealtimeSession] = []
        self.on_metrics: Callable[[RealtimeModelMetrics], object] | None = None
        """Also told of every response's metrics (LiveKit creates the sessions)."""

    @property
    def model(self) -> str:
        return self._model

    @property
    def provider(self) -> str:
        return self._provider

    def session(self, *, turn_detection_disabled: bool = False) -> llm.RealtimeSession[Any]:
        created = _ScriptedRealtimeSession(self)
        self._sessions.append(created)
        return created

    async def aclose(self) -> None:
        for session in self._sessions:
            await session.aclose()


class _ScriptedRealtimeSession(llm.RealtimeSession[None]):
    def __init__(self, model: ScriptedRealtimeModel) -> None:
        super().__init__(model)
        self._scripted = model
        self._chat_ctx = llm.ChatContext.empty()
        self._tools = llm.ToolContext.empty()
        self._input_seconds = 0.0
        """Audio pushed since the last response: the next response's audio input."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._current: asyncio.Task[None] | None = None
        self._cached_prefix = 0

    @property
    def chat_ctx(self) -> llm.ChatContext:
        return self._chat_ctx.copy()

    @property
    def tools(self) -> llm.ToolContext:
        return self._tools.copy()

    async def update_instructions(self, instructions: str) -> None:
        return None

    async def update_chat_ctx(self, chat_ctx: llm.ChatContext) -> None:
        self._chat_ctx = chat_ctx.copy()

    async def update_tools(self, tools: list[llm.Tool]) -> None:
        self._tools = llm.ToolContext(tools)

    def update_options(self, *, tool_choice: NotGivenOr[llm.ToolChoice | None] = NOT_GIVEN) -> None:
        return None

    def push_audio(self, frame: rtc.AudioFrame) -> None:
        self._input_seconds += frame.samples_per_channel / frame.sample_rate

    def push_video(self, frame: rtc.VideoFrame) -> None:
        return None

    def generate_reply(
        self,
        *,
        instructions: NotGivenOr[str] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        tools: NotGivenOr[list[llm.Tool]] = NOT_GIVEN,
    ) -> asyncio.Future[llm.GenerationCreatedEvent]:
        created: asyncio.Future[llm.GenerationCreatedEvent] = asyncio.Future()
        task = asyncio.create_task(self._respond(created))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._current = task
        return created

    def commit_audio(self) -> None:
        """The caller's turn is over: transcribe it (as the model does) and keep it."""
        model = self._scripted
        if not model.transcripts or self._input_seconds <= 0:
            return
        transcript = model.transcripts.pop(0)
        item_id = utils.shortuuid("item_")
        self._chat_ctx.add_message(role="user", content=transcript, id=item_id)
        self.emit(
            "input_audio_transcription_completed",
            llm.InputTranscriptionCompleted(item_id=item_id, transcript=transcript, is_final=True),
        )

    def clear_audio(self) -> None:
        self._input_seconds = 0.0

    def interrupt(self) -> None:
        if self._current is not None and not self._current.done():
            self._current.cancel()

    def truncate(
        self,
        *,
        message_id: str,
        modalities: list[Literal["text", "audio"]],
        audio_end_ms: int,
        audio_transcript: NotGivenOr[str] = NOT_GIVEN,
    ) -> None:
        return None

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _respond(self, created: asyncio.Future[llm.GenerationCreatedEvent]) -> None:
        """One response: created at once, first audio after the drawn TTFT, then the rest
        faster than real time; its metrics when it is done (or cancelled)."""
        model = self._scripted
        key = prompt_key(self._chat_ctx)
        reply = model.script.get(key, FALLBACK_REPLY)
        response_id = utils.shortuuid("resp_")
        started = time.time()
        ttft = model.sampler.draw("llm_ttft", model.sampler.profile.llm_ttft)
        record = LLMRequestTruth(
            request_id=response_id,
            started_at=started,
            prompt_key=key,
            injected_ttft=ttft,
            text=reply.text,
            tool_calls=[call.name for call in reply.tool_calls],
            first_chunk_at=started,  # a realtime response is reported from its creation
        )
        model.truth.llm_requests.append(record)
        messages: utils.aio.Chan[llm.MessageGeneration] = utils.aio.Chan()
        functions: utils.aio.Chan[llm.FunctionCall] = utils.aio.Chan()
        text: utils.aio.Chan[str] = utils.aio.Chan()
        audio: utils.aio.Chan[rtc.AudioFrame] = utils.aio.Chan()
        modalities: asyncio.Future[list[Literal["text", "audio"]]] = asyncio.Future()
        modalities.set_result(["audio", "text"])
        created.set_result(
            llm.GenerationCreatedEvent(
                message_stream=messages,
                function_stream=functions,
                user_initiated=True,
                response_id=response_id,
            )
        )
        input_seconds, self._input_seconds = self._input_seconds, 0.0
        cancelled = False
        first_at: float | None = None
        output_seconds = 0.0
        try:
            await asyncio.sleep(ttft)
            if reply.text:
                messages.send_nowait(
                    llm.MessageGeneration(
                        message_id=utils.shortuuid("item_"),
                        text_stream=text,
                        audio_stream=audio,
                        modalities=modalities,
                    )
                )
                first_at = time.time()
                text.send_nowait(reply.text)
                async for frame in _speech(reply.text, model.sampler):
                    audio.send_nowait(frame)
                    output_seconds += frame.samples_per_channel / frame.sample_rate
            for call in reply.tool_calls:
                first_at = first_at or time.time()
                functions.send_nowait(
                    llm.FunctionCall(
                        call_id=utils.shortuuid("call_"), name=call.name, arguments=call.arguments
                    )
                )
        except asyncio.CancelledError:
            cancelled = True
        finally:
            for channel in (text, audio, messages, functions):
                channel.close()
            record.ended_at = time.time()
            self._report(
                reply, response_id, started, first_at, input_seconds, output_seconds, cancelled
            )

    def _report(
        self,
        reply: Reply,
        response_id: str,
        started: float,
        first_at: float | None,
        input_seconds: float,
        output_seconds: float,
        cancelled: bool,
    ) -> None:
        model = self._scripted
        text_in, _ = prompt_tokens(self._chat_ctx)
        audio_in = round(input_seconds * AUDIO_TOKENS_PER_SECOND)
        cached = min(self._cached_prefix, text_in)  # the prompt cache holds the last prefix
        self._cached_prefix = (text_in // 128) * 128 if text_in >= 256 else 0
        text_out = max(1, round(len(reply.text) / 4)) + 12 * len(reply.tool_calls)
        audio_out = round(output_seconds * AUDIO_TOKENS_PER_SECOND)
        duration = time.time() - started
        metrics = RealtimeModelMetrics(
            label=model.label,
            request_id=response_id,
            timestamp=started,
            duration=duration,
            ttft=first_at - started if first_at is not None else -1,
            cancelled=cancelled,
            input_tokens=text_in + audio_in,
            output_tokens=text_out + audio_out,
            total_tokens=text_in + audio_in + text_out + audio_out,
            tokens_per_second=(text_out + audio_out) / duration if duration > 0 else 0.0,
            input_token_details=RealtimeModelMetrics.InputTokenDetails(
                audio_tokens=audio_in,
                text_tokens=text_in,
                cached_tokens=cached,
                cached_tokens_details=RealtimeModelMetrics.CachedTokenDetails(text_tokens=cached),
            ),
            output_token_details=RealtimeModelMetrics.OutputTokenDetails(
                text_tokens=text_out, audio_tokens=audio_out
            ),
            metadata=Metadata(model_name=model.model, model_provider=model.provider),
        )
        self.emit("metrics_collected", metrics)
        if model.on_metrics is not None:
            model.on_metrics(metrics)


async def _speech(text: str, sampler: LatencySampler) -> AsyncIterator[rtc.AudioFrame]:
    """The reply's audio, 100 ms frames, produced five times faster than real time."""
    profile = sampler.profile
    seconds = sampler.scaled(max(0.2, len(text.strip()) * profile.tts_seconds_per_char))
    pcm = tone(seconds, sample_rate=OUTPUT_SAMPLE_RATE, amplitude=AMPLITUDE)
    step = round(OUTPUT_SAMPLE_RATE * FRAME_SECONDS) * 2
    for offset in range(0, len(pcm), step):
        chunk = pcm[offset : offset + step]
        samples = len(chunk) // 2
        yield rtc.AudioFrame(chunk, OUTPUT_SAMPLE_RATE, 1, samples)
        await asyncio.sleep(samples / OUTPUT_SAMPLE_RATE * profile.tts_synthesis_factor)
