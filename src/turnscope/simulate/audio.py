"""Scripted audio input and output: the simulated caller's microphone and speaker.

The input delivers real-time-paced 20 ms frames: a tone while the simulated user speaks,
zeros while they are silent. It follows a script of utterances whose start is cued by what
the agent does (for example "speak 0.8 s after the agent's reply ends"), so a scenario
means the same thing at every latency profile and speed. The output pretends to play agent
audio in real time. Both record what happened on their own clocks into the truth.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from livekit import rtc
from livekit.agents.voice import io

from turnscope.simulate.truth import PlaybackTruth, SimulationTruth, UtteranceTruth

if TYPE_CHECKING:
    from turnscope.simulate.scenarios import Utterance

__all__ = [
    "CAPTURED_AT",
    "FRAME_SECONDS",
    "INPUT_SAMPLE_RATE",
    "OUTPUT_SAMPLE_RATE",
    "ScriptedAudioInput",
    "ScriptedAudioOutput",
    "frame_energy",
    "tone",
]

INPUT_SAMPLE_RATE = 16_000
OUTPUT_SAMPLE_RATE = 24_000
FRAME_SECONDS = 0.02
CAPTURED_AT = "turnscope.captured_at"
"""Key in a frame's ``userdata``: the wall time its audio ended (it was 'captured')."""
SPEECH_AMPLITUDE = 8000
"""Loud enough for both the VAD and the STT."""
NOISE_AMPLITUDE = 1500
"""Loud enough for the VAD, too quiet for the STT: a cough, a door."""


def tone(seconds: float, *, sample_rate: int, amplitude: int) -> bytes:
    """16-bit mono PCM of a 220 Hz tone."""
    n = round(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.int16).tobytes()


def frame_energy(frame: rtc.AudioFrame) -> float:
    """Root mean square of a 16-bit frame: how loud it is."""
    data = np.frombuffer(frame.data, dtype=np.int16)
    if len(data) == 0:
        return 0.0
    return float(np.sqrt(np.mean(data.astype(np.float32) ** 2)))


CueCheck = Callable[["Utterance", float], bool]
"""Tells whether an utterance's cue has happened, given when the previous utterance ended."""


class ScriptedAudioInput(io.AudioInput):
    """The simulated user's microphone, following the scenario's script."""

    def __init__(
        self,
        script: Sequence[Utterance],
        *,
        speed: float,
        truth: SimulationTruth,
        cue_check: CueCheck,
    ) -> None:
        super().__init__(label="turnscope.simulate.ScriptedAudioInput")
        self._script = list(script)
        self._speed = speed
        self._truth = truth
        self._cue_check = cue_check
        samples = round(INPUT_SAMPLE_RATE * FRAME_SECONDS)
        self._frames = {
            "silence": b"\x00\x00" * samples,
            "speech": tone(
                FRAME_SECONDS, sample_rate=INPUT_SAMPLE_RATE, amplitude=SPEECH_AMPLITUDE
            ),
            "noise": tone(FRAME_SECONDS, sample_rate=INPUT_SAMPLE_RATE, amplitude=NOISE_AMPLITUDE),
        }
        self._clock_start: float | None = None
        self._wall_start = 0.0
        self._delivered = 0
        self._next = 0
        """Index of the utterance being spoken or waited for."""
        self._speaking_frames_left = 0
        self._previous_end = 0.0
        self._cued_at: float | None = None
        self.script_done = asyncio.Event()
        """Set once the last utterance has been spoken."""

    async def __anext__(self) -> rtc.AudioFrame:
        captured = await self._pace()
        data = self._next_frame(captured)
        frame = rtc.AudioFrame(
            data=data,
            sample_rate=INPUT_SAMPLE_RATE,
            num_channels=1,
            samples_per_channel=len(data) // 2,
        )
        frame.userdata[CAPTURED_AT] = captured
        return frame

    async def _pace(self) -> float:
        """Deliver each frame when its audio has been 'captured', as a microphone does, and
        return the wall time its audio ended. That time is the truth even when the agent's
        loop is late to take the frame (a busy loop receives frames in a burst): the caller
        spoke when the script says, not when the agent got round to listening."""
        if self._clock_start is None:
            self._clock_start = time.perf_counter()
            self._wall_start = time.time()
            self._previous_end = self._wall_start
        self._delivered += 1
        due = self._clock_start + self._delivered * FRAME_SECONDS
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        return self._wall_start + self._delivered * FRAME_SECONDS

    def _next_frame(self, now: float) -> bytes:
        if self._speaking_frames_left > 0:
            return self._continue_utterance(now)
        if self._next >= len(self._script):
            self.script_done.set()
            return self._frames["silence"]
        utterance = self._script[self._next]
        if self._cued_at is None:
            if not self._cue_check(utterance, self._previous_end):
                return self._frames["silence"]
            self._cued_at = now
        if now - self._cued_at + 1e-9 < utterance.gap / self._speed:
            return self._frames["silence"]
        if utterance.after == "reply" and not self._cue_check(utterance, self._previous_end):
            # the agent spoke up again during the pause (a new agent's greeting after a
            # handoff, a queued say): the caller lets it finish, as on a real call
            self._cued_at = None
            return self._frames["silence"]
        return self._begin_utterance(utterance, now)

    def _begin_utterance(self, utterance: Utterance, now: float) -> bytes:
        self._truth.utterances.append(
            UtteranceTruth(
                index=self._next,
                transcript=utterance.text,
                kind=utterance.kind,
                started_at=now - FRAME_SECONDS,
            )
        )
        self._speaking_frames_left = max(
            1, math.ceil(utterance.seconds / self._speed / FRAME_SECONDS)
        )
        return self._continue_utterance(now)

    def _continue_utterance(self, now: float) -> bytes:
        utterance = self._script[self._next]
        self._speaking_frames_left -= 1
        if self._speaking_frames_left == 0:
            self._truth.utterances[-1].ended_at = now
            self._previous_end = now
            self._next += 1
            self._cued_at = None
        return self._frames[utterance.kind]


class ScriptedAudioOutput(io.AudioOutput):
    """The simulated caller's speaker: plays agent audio in real time and records when.

    It supports pause/resume, so LiveKit's false-interruption handling (pause on noise,
    resume when no words follow) runs for real.
    """

    def __init__(self, *, truth: SimulationTruth) -> None:
        super().__init__(
            label="turnscope.simulate.ScriptedAudioOutput",
            capabilities=io.AudioOutputCapabilities(pause=True),
            sample_rate=None,
        )
        self._truth = truth
        self._segment: PlaybackTruth | None = None
        self._pushed = 0.0
        self._flushed = False
        self._paused_at: float | None = None
        self._paused_total = 0.0
        self._timer: asyncio.TimerHandle | None = None

    @property
    def playing(self) -> bool:
        """Whether a segment is being played (or paused mid-way)."""
        return self._segment is not None

    def _position(self) -> float:
        if self._segment is None:
            return 0.0
        now = time.time()
        paused = self._paused_total + (now - self._paused_at if self._paused_at else 0.0)
        return min(self._pushed, max(0.0, now - self._segment.first_frame_at - paused))

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if self._segment is None:
            started = time.time()
            self._segment = PlaybackTruth(first_frame_at=started)
            self._truth.playbacks.append(self._segment)
            self.on_playback_started(created_at=started)
        self._pushed += frame.duration
        self._segment.pushed_seconds = self._pushed

    def flush(self) -> None:
        super().flush()
        if self._segment is None:
            return
        self._flushed = True
        if self._paused_at is None:
            self._schedule_finish()

    def clear_buffer(self) -> None:
        if self._segment is None:
            return
        self._finish(played=self._position(), interrupted=True)

    def pause(self) -> None:
        # LiveKit calls pause() repeatedly while the user keeps talking
        if self._paused_at is None and self._segment is not None:
            self._paused_at = time.time()
            self._cancel_timer()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._paused_total += time.time() - self._paused_at
            self._paused_at = None
            if self._flushed:
                self._schedule_finish()

    def _schedule_finish(self) -> None:
        self._cancel_timer()
        remaining = max(0.0, self._pushed - self._position())
        self._timer = asyncio.get_running_loop().call_later(
            remaining, lambda: self._finish(played=self._pushed, interrupted=False)
        )

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _finish(self, *, played: float, interrupted: bool) -> None:
        self._cancel_timer()
        segment = self._segment
        if segment is None:
            return
        segment.ended_at = time.time()
        segment.played_seconds = played
        segment.interrupted = interrupted
        self._segment = None
        self._pushed = 0.0
        self._flushed = False
        self._paused_at = None
        self._paused_total = 0.0
        self.on_playback_finished(playback_position=played, interrupted=interrupted)
