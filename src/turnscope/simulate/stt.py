"""A scripted streaming speech-to-text: hears the simulation's tones, returns scripted words.

Usage is metered the way real streaming plugins meter it. ``per_utterance`` reports each
utterance's speech once it is final; ``periodic`` reports every 5 s of audio sent (silence
included, as streaming recognizers bill a connection) plus the remainder when the stream closes.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Literal

from livekit.agents import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    LanguageCode,
    NotGivenOr,
    stt,
    utils,
)

from turnscope.simulate.audio import frame_energy
from turnscope.simulate.truth import SimulationTruth, STTUsageTruth

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from livekit import rtc

    from turnscope.simulate.profiles import LatencySampler

__all__ = ["STTUsageMode", "ScriptedSTT"]

STTUsageMode = Literal["per_utterance", "periodic"]

USAGE_PERIOD_SECONDS = 5.0
"""How much audio a periodic usage report covers, at speed 1."""


class ScriptedSTT(stt.STT[None]):
    """Presents itself as AssemblyAI's streaming model (as LiveKit's AssemblyAI plugin names
    it) unless told otherwise."""

    def __init__(
        self,
        transcripts: list[str],
        *,
        sampler: LatencySampler,
        truth: SimulationTruth,
        usage: STTUsageMode = "per_utterance",
        endpoint_silence: float = 0.1,
        threshold: float = 3000.0,
        provider: str = "AssemblyAI",
        model: str = "universal-streaming-english",
    ) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=True, interim_results=True))
        self._transcripts = deque(transcripts)
        self.sampler = sampler
        self.truth = truth
        self.usage = usage
        self.endpoint_silence = sampler.scaled(endpoint_silence)
        self.usage_period = sampler.scaled(USAGE_PERIOD_SECONDS)
        self.threshold = threshold
        self._provider = provider
        self._model = model

    @property
    def model(self) -> str:
        return self._model

    @property
    def provider(self) -> str:
        return self._provider

    def next_transcript(self) -> str:
        return self._transcripts.popleft() if self._transcripts else "(unscripted words)"

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        raise NotImplementedError("the scripted STT only streams")

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> stt.RecognizeStream:
        return _ScriptedRecognizeStream(stt=self, conn_options=conn_options)


class _ScriptedRecognizeStream(stt.RecognizeStream):
    def __init__(self, *, stt: ScriptedSTT, conn_options: APIConnectOptions) -> None:
        super().__init__(stt=stt, conn_options=conn_options)
        self._scripted = stt
        self._stream_id = utils.shortuuid("stt_stream_")
        self._pending: set[asyncio.Task[None]] = set()
        self._meter = _UsageMeter()
        self._utterances = 0

    async def _run(self) -> None:
        scripted = self._scripted
        in_speech = False
        speech_seconds = silence_seconds = 0.0
        speech_started_at = 0.0
        async for item in self._input_ch:
            if isinstance(item, stt.RecognizeStream._FlushSentinel):
                continue
            now = time.time()
            self._meter.add(item, now)
            if scripted.usage == "periodic" and self._meter.seconds >= scripted.usage_period:
                self._report_usage(self._meter.take(), at_close=False)
            if frame_energy(item) > scripted.threshold:
                silence_seconds = 0.0
                if not in_speech:
                    in_speech = True
                    speech_started_at = now - item.duration
                    self._utterances += 1
                    self._send(stt.SpeechEventType.START_OF_SPEECH)
                speech_seconds += item.duration
                self._maybe_send_interim(speech_seconds, item.duration)
            elif in_speech:
                silence_seconds += item.duration
                if silence_seconds >= scripted.endpoint_silence:
                    in_speech = False
                    window = (speech_started_at, now - silence_seconds)
                    self._spawn(self._finalize(speech_seconds, window))
                    speech_seconds = silence_seconds = 0.0

    def _maybe_send_interim(self, speech_seconds: float, frame_seconds: float) -> None:
        # an interim result every ~300 ms of speech, as a streaming recognizer sends them
        step = self._scripted.sampler.scaled(0.3)
        if int(speech_seconds / step) != int((speech_seconds - frame_seconds) / step):
            self._send(stt.SpeechEventType.INTERIM_TRANSCRIPT, "…")

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _finalize(self, speech_seconds: float, window: tuple[float, float]) -> None:
        scripted = self._scripted
        await asyncio.sleep(
            scripted.sampler.draw("stt_final", scripted.sampler.profile.stt_final_delay)
        )
        self._send(stt.SpeechEventType.FINAL_TRANSCRIPT, scripted.next_transcript())
        self._send(stt.SpeechEventType.END_OF_SPEECH)
        if scripted.usage == "per_utterance":
            self._report_usage(_UsageSlice(speech_seconds, *window), at_close=False)

    def _send(self, kind: stt.SpeechEventType, text: str | None = None) -> None:
        alternatives = (
            [stt.SpeechData(language=LanguageCode("en"), text=text, confidence=0.97)]
            if text
            else []
        )
        self._event_ch.send_nowait(
            stt.SpeechEvent(
                type=kind,
                request_id=f"{self._stream_id}_{self._utterances}",
                alternatives=alternatives,
            )
        )

    def _report_usage(self, usage: _UsageSlice, *, at_close: bool) -> None:
        if usage.seconds <= 0:
            return
        request_id = (
            self._stream_id
            if self._scripted.usage == "periodic"
            else (f"{self._stream_id}_{self._utterances}")
        )
        self._scripted.truth.stt_usage.append(
            STTUsageTruth(
                request_id=request_id,
                sent_at=time.time(),
                audio_seconds=usage.seconds,
                window_start=usage.start,
                window_end=usage.end,
                at_close=at_close,
            )
        )
        self._event_ch.send_nowait(
            stt.SpeechEvent(
                type=stt.SpeechEventType.RECOGNITION_USAGE,
                request_id=request_id,
                recognition_usage=stt.RecognitionUsage(audio_duration=usage.seconds),
            )
        )

    async def aclose(self) -> None:
        # A real plugin sends its last usage report when the stream closes: the remainder
        # of audio since the last periodic report. Give LiveKit's metrics task a turn to
        # forward it before the base class cancels that task.
        if self._scripted.usage == "periodic":
            self._report_usage(self._meter.take(), at_close=True)
            for _ in range(3):
                await asyncio.sleep(0)
        for task in list(self._pending):
            task.cancel()
        await super().aclose()


class _UsageSlice:
    """Audio seconds covered by one usage report, and the wall-clock window they span."""

    __slots__ = ("end", "seconds", "start")

    def __init__(self, seconds: float, start: float, end: float) -> None:
        self.seconds = seconds
        self.start = start
        self.end = end


class _UsageMeter:
    """Counts audio sent to the recognizer since the last report.

    Audio is streamed in real time, so a report's window is laid on the wall clock from the
    moment the stream's first audio began: report k covers the audio right after report k-1.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self._origin: float | None = None
        self._reported = 0.0

    def add(self, frame: rtc.AudioFrame, now: float) -> None:
        if self._origin is None:
            self._origin = now - frame.duration
        self.seconds += frame.duration

    def take(self) -> _UsageSlice:
        origin = self._origin if self._origin is not None else time.time()
        start = origin + self._reported
        taken = _UsageSlice(self.seconds, start, start + self.seconds)
        self._reported += self.seconds
        self.seconds = 0.0
        return taken
