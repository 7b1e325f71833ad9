"""A scripted voice activity detector: energy above a threshold is speech."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from livekit.agents import vad

from turnscope.simulate.audio import CAPTURED_AT, FRAME_SECONDS, frame_energy

if TYPE_CHECKING:
    from livekit import rtc

__all__ = ["ScriptedVAD"]

INFERENCE_SECONDS = 0.0008
"""Reported inference time per frame: about what silero takes on one core."""
CAPTURED_AT_FIELD = "_turnscope_captured_at"
"""Set on a start or end of speech: when the audio of the frame it was decided on ended."""


class ScriptedVAD(vad.VAD):
    """Presents itself as silero; detects the simulation's tones by their energy."""

    def __init__(self, *, min_speech: float, min_silence: float, threshold: float = 500.0) -> None:
        # an update per frame -> VADMetrics about once a second, as with silero
        super().__init__(capabilities=vad.VADCapabilities(update_interval=FRAME_SECONDS))
        self.min_speech = min_speech
        self.min_silence = min_silence
        self.threshold = threshold

    @property
    def model(self) -> str:
        return "silero"

    @property
    def provider(self) -> str:
        return "silero"

    def stream(self) -> vad.VADStream:
        return _ScriptedVADStream(self)


class _ScriptedVADStream(vad.VADStream):
    async def __anext__(self) -> vad.VADEvent:
        """Hand LiveKit its next event; a start or end of speech carries, as its
        ``inference_duration``, the whole delay from its frame's capture to now.

        LiveKit dates the user's start and end of speech with its own clock when it takes
        the event, less ``silence_duration`` and ``inference_duration``. A real VAD's
        inference time is most of its delay; here frames and events also wait for a busy
        loop, and a constant dated the end of speech late by the machine's load (5-40 ms
        measured with both cores busy), so LiveKit's e2e came out that much short of the
        truth. Measured when LiveKit takes the event, the date stays on the caller's
        clock."""
        event = await super().__anext__()
        captured = getattr(event, CAPTURED_AT_FIELD, None)
        if isinstance(captured, float):
            event.inference_duration = max(INFERENCE_SECONDS, time.time() - captured)
        return event

    async def _main_task(self) -> None:
        detector = self._vad
        assert isinstance(detector, ScriptedVAD)
        state = _VADState()
        async for item in self._input_ch:
            if isinstance(item, vad.VADStream._FlushSentinel):
                state = _VADState()
                continue
            for event in state.step(item, detector):
                self._event_ch.send_nowait(event)


class _VADState:
    """Speech/silence bookkeeping of one VAD stream."""

    def __init__(self) -> None:
        self.speaking = False
        self.run_speech = 0.0
        self.run_silence = 0.0
        self.speech_duration = 0.0
        self.silence_duration = 0.0
        self.speech_frames: list[rtc.AudioFrame] = []
        self.samples = 0

    def step(self, frame: rtc.AudioFrame, detector: ScriptedVAD) -> list[vad.VADEvent]:
        self.samples += frame.samples_per_channel
        is_speech = frame_energy(frame) > detector.threshold
        seconds = frame.duration
        if is_speech:
            self.run_speech += seconds
            self.run_silence = 0.0
        else:
            self.run_silence += seconds
            self.run_speech = 0.0
        if self.speaking:
            self.speech_frames.append(frame)
            if is_speech:
                self.speech_duration += seconds
                self.silence_duration = 0.0
            else:
                self.silence_duration += seconds
        events = [
            self._event(
                vad.VADEventType.INFERENCE_DONE,
                frames=[frame],
                probability=1.0 if is_speech else 0.0,
                speaking=self.speaking,
                raw_accumulated_silence=self.run_silence,
                raw_accumulated_speech=self.run_speech,
            )
        ]
        if not self.speaking and self.run_speech >= detector.min_speech:
            self.speaking = True
            self.speech_duration, self.silence_duration = self.run_speech, 0.0
            self.speech_frames = [frame]
            events.append(
                self._event(vad.VADEventType.START_OF_SPEECH, frames=[frame], speaking=True)
            )
            _mark_capture(events[-1], frame)
        elif self.speaking and self.run_silence >= detector.min_silence:
            self.speaking = False
            events.append(
                self._event(
                    vad.VADEventType.END_OF_SPEECH, frames=self.speech_frames, speaking=False
                )
            )
            _mark_capture(events[-1], frame)
            self.speech_frames = []
            self.speech_duration = self.silence_duration = 0.0
        return events

    def _event(self, kind: vad.VADEventType, **fields: Any) -> vad.VADEvent:
        return vad.VADEvent(
            type=kind,
            samples_index=self.samples,
            timestamp=time.time(),
            speech_duration=self.speech_duration,
            silence_duration=self.silence_duration,
            inference_duration=INFERENCE_SECONDS,
            **fields,
        )


def _mark_capture(event: vad.VADEvent, frame: rtc.AudioFrame) -> None:
    captured = frame.userdata.get(CAPTURED_AT)
    if isinstance(captured, float):
        setattr(event, CAPTURED_AT_FIELD, captured)
