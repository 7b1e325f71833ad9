"""A scripted text-to-speech: a tone as long as the text would take to say.

Presents itself as OpenAI tts-1 (as LiveKit's OpenAI plugin names it: the provider is the
API host) unless told otherwise. By default it is a chunked
(one request per sentence) TTS, which LiveKit wraps in its sentence StreamAdapter; with
``streaming=True`` it is a streaming TTS that reports one request per segment.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from livekit.agents import (
    DEFAULT_API_CONNECT_OPTIONS,
    APIConnectOptions,
    APIStatusError,
    APITimeoutError,
    tts,
    utils,
)

from turnscope.simulate.audio import OUTPUT_SAMPLE_RATE, tone
from turnscope.simulate.truth import SimulationTruth, TTSRequestTruth

if TYPE_CHECKING:
    from collections.abc import Iterable

    from turnscope.simulate.profiles import LatencySampler

__all__ = ["ScriptedTTS"]

CHUNK_SECONDS = 0.1
RETRY_TIMEOUT = 0.6
"""Seconds a ``retry_on`` synthesis hangs before it times out (at speed 1)."""
AMPLITUDE = 3000


class ScriptedTTS(tts.TTS[None]):
    def __init__(
        self,
        *,
        sampler: LatencySampler,
        truth: SimulationTruth,
        fail_on: Iterable[str] = (),
        retry_on: Iterable[str] = (),
        streaming: bool = False,
        provider: str = "api.openai.com",
        model: str = "tts-1",
        voice: str = "794f9389-aac1-45b6-b726-9d9369183238",
    ) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=streaming),
            sample_rate=OUTPUT_SAMPLE_RATE,
            num_channels=1,
        )
        self.sampler = sampler
        self.truth = truth
        self.fail_on = tuple(fail_on)
        """Text fragments whose synthesis fails with a non-retryable provider error."""
        self.retry_on = tuple(retry_on)
        """Text fragments whose first attempt times out (a retryable error): the retry works."""
        self._timed_out: set[str] = set()
        self.voice = voice
        self._provider = provider
        self._model = model

    @property
    def model(self) -> str:
        return self._model

    @property
    def provider(self) -> str:
        return self._provider

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        return _ScriptedChunkedStream(tts=self, input_text=text, conn_options=conn_options)

    def stream(
        self, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.SynthesizeStream:
        if not self.capabilities.streaming:
            return super().stream(conn_options=conn_options)
        return _ScriptedSynthesizeStream(tts=self, conn_options=conn_options)

    def begin_request(self, request_id: str, text: str) -> TTSRequestTruth:
        """Draw the first-byte latency of a request and record it in the truth."""
        record = TTSRequestTruth(
            request_id=request_id,
            started_at=time.time(),
            text=text,
            injected_ttfb=self.sampler.draw("tts_ttfb", self.sampler.profile.tts_ttfb),
        )
        self.truth.tts_requests.append(record)
        return record

    async def check_timeout(self, record: TTSRequestTruth) -> None:
        """The first attempt at a ``retry_on`` text hangs, then times out."""
        if record.text in self._timed_out or not any(f in record.text for f in self.retry_on):
            return
        self._timed_out.add(record.text)
        record.failed = True
        await asyncio.sleep(self.sampler.scaled(RETRY_TIMEOUT))
        raise APITimeoutError("scripted synthesis timeout (simulated)")

    def check_failure(self, record: TTSRequestTruth) -> None:
        if any(fragment in record.text for fragment in self.fail_on):
            record.failed = True
            raise APIStatusError(
                "scripted synthesis failure (simulated)", status_code=400, retryable=False
            )

    async def speak(self, text: str, emitter: tts.AudioEmitter, record: TTSRequestTruth) -> None:
        """Push the audio of ``text``, synthesized faster than real time."""
        profile = self.sampler.profile
        seconds = self.sampler.scaled(max(0.2, len(text.strip()) * profile.tts_seconds_per_char))
        pcm = tone(seconds, sample_rate=OUTPUT_SAMPLE_RATE, amplitude=AMPLITUDE)
        step = round(OUTPUT_SAMPLE_RATE * CHUNK_SECONDS) * 2
        for offset in range(0, len(pcm), step):
            chunk = pcm[offset : offset + step]
            emitter.push(chunk)
            record.audio_seconds += len(chunk) / 2 / OUTPUT_SAMPLE_RATE
            await asyncio.sleep(len(chunk) / 2 / OUTPUT_SAMPLE_RATE * profile.tts_synthesis_factor)


class _ScriptedChunkedStream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        scripted = self._tts
        assert isinstance(scripted, ScriptedTTS)
        request_id = utils.shortuuid("tts_")
        output_emitter.initialize(
            request_id=request_id,
            sample_rate=OUTPUT_SAMPLE_RATE,
            num_channels=1,
            mime_type="audio/pcm",
        )
        record = scripted.begin_request(request_id, self.input_text)
        await scripted.check_timeout(record)
        await asyncio.sleep(record.injected_ttfb)
        scripted.check_failure(record)
        await scripted.speak(self.input_text, output_emitter, record)
        output_emitter.flush()


class _ScriptedSynthesizeStream(tts.SynthesizeStream):
    """One segment per flush; audio produced sentence by sentence as text arrives."""

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        scripted = self._tts
        assert isinstance(scripted, ScriptedTTS)
        request_id = utils.shortuuid("tts_")
        output_emitter.initialize(
            request_id=request_id,
            sample_rate=OUTPUT_SAMPLE_RATE,
            num_channels=1,
            mime_type="audio/pcm",
            stream=True,
        )
        pending = ""
        record: TTSRequestTruth | None = None
        async for data in self._input_ch:
            if isinstance(data, tts.SynthesizeStream._FlushSentinel):
                if record is not None or pending.strip():
                    record = await self._say(pending, record, output_emitter, request_id)
                    output_emitter.end_segment()
                pending, record = "", None
                continue
            pending += data
            for mark in (". ", "? ", "! "):
                if mark in pending:
                    head, pending = pending.rsplit(mark, 1)
                    record = await self._say(head + mark, record, output_emitter, request_id)

    async def _say(
        self,
        text: str,
        record: TTSRequestTruth | None,
        emitter: tts.AudioEmitter,
        request_id: str,
    ) -> TTSRequestTruth:
        scripted = self._tts
        assert isinstance(scripted, ScriptedTTS)
        if record is None:
            emitter.start_segment(segment_id=utils.shortuuid("segment_"))
            self._mark_started()  # first text sent: the origin of LiveKit's ttfb
            record = scripted.begin_request(request_id, text)
            await asyncio.sleep(record.injected_ttfb)
            scripted.check_failure(record)
        else:
            record.text += text
        if text.strip():
            await scripted.speak(text, emitter, record)
        return record
