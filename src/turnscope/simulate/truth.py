"""What really happened in a simulated call, measured on the simulation's own clocks.

LiveKit reports its own view of a call (metrics, chat messages). The truth below is
recorded independently by the scripted parts themselves: the audio input knows when each
utterance really ended, the audio output knows when the first agent frame arrived, and each
scripted provider knows the latency it injected. Tests compare turnscope's records (and
LiveKit's) against it. All times are wall-clock ``time.time()`` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "CallbackTruth",
    "LLMRequestTruth",
    "PlaybackTruth",
    "STTUsageTruth",
    "SayTruth",
    "SimulationTruth",
    "TTSRequestTruth",
    "ToolCallTruth",
    "UtteranceTruth",
]


@dataclass
class UtteranceTruth:
    """One stretch of sound the simulated user made."""

    index: int
    transcript: str
    kind: Literal["speech", "noise"]
    started_at: float
    """When the first frame of the sound was delivered, minus its length."""
    ended_at: float | None = None
    """When the last frame of the sound was delivered (its audio ends then)."""

    @property
    def duration(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.started_at


@dataclass
class PlaybackTruth:
    """One audio segment the agent played (one speech, or one part of it)."""

    first_frame_at: float
    """When the first agent audio frame of the segment reached the output."""
    pushed_seconds: float = 0.0
    """Audio handed to the output."""
    ended_at: float | None = None
    played_seconds: float | None = None
    interrupted: bool | None = None


@dataclass
class STTUsageTruth:
    """One usage report the scripted STT sent (how real streaming plugins meter audio)."""

    request_id: str
    sent_at: float
    audio_seconds: float
    window_start: float
    """Wall time of the first audio frame this report covers."""
    window_end: float
    """Wall time of the last audio frame this report covers."""
    at_close: bool = False


@dataclass
class LLMRequestTruth:
    """One LLM request as the scripted LLM served it."""

    request_id: str
    started_at: float
    prompt_key: str
    """The last user message or tool output the request answered."""
    injected_ttft: float
    failed: bool = False
    text: str = ""
    tool_calls: list[str] = field(default_factory=list)
    ended_at: float | None = None
    first_chunk_at: float | None = None
    """When it began to stream; None if cancelled before (LiveKit then reports nothing)."""


@dataclass
class TTSRequestTruth:
    """One TTS request as the scripted TTS served it."""

    request_id: str
    started_at: float
    text: str
    injected_ttfb: float
    audio_seconds: float = 0.0
    failed: bool = False


@dataclass
class ToolCallTruth:
    """One function tool execution."""

    name: str
    arguments: dict[str, str]
    started_at: float
    injected_latency: float
    ended_at: float | None = None


@dataclass
class CallbackTruth:
    """One run of the agent's ``on_user_turn_completed``."""

    text: str
    """The user message it ran for."""
    seconds: float
    """How long it was scripted to take (scaled by speed)."""
    started_at: float
    ended_at: float | None = None


@dataclass
class TypedTruth:
    """A message the user typed (text sessions)."""

    text: str
    sent_at: float


@dataclass
class SayTruth:
    """A ``session.say()`` the scenario issued."""

    text: str
    issued_at: float


@dataclass
class SimulationTruth:
    """Everything the simulation measured on its own clocks."""

    session_started_at: float = 0.0
    utterances: list[UtteranceTruth] = field(default_factory=list)
    playbacks: list[PlaybackTruth] = field(default_factory=list)
    stt_usage: list[STTUsageTruth] = field(default_factory=list)
    llm_requests: list[LLMRequestTruth] = field(default_factory=list)
    tts_requests: list[TTSRequestTruth] = field(default_factory=list)
    tool_calls: list[ToolCallTruth] = field(default_factory=list)
    says: list[SayTruth] = field(default_factory=list)
    typed: list[TypedTruth] = field(default_factory=list)
    callbacks: list[CallbackTruth] = field(default_factory=list)

    def speech(self) -> list[UtteranceTruth]:
        """The user's utterances that carry words (noise bursts excluded)."""
        return [u for u in self.utterances if u.kind == "speech" and u.ended_at is not None]

    def answered_utterance(self, playback: PlaybackTruth) -> UtteranceTruth | None:
        """The last spoken utterance that ended before this playback began."""
        before = [
            u
            for u in self.speech()
            if u.ended_at is not None and u.ended_at <= playback.first_frame_at
        ]
        return before[-1] if before else None

    def response_latency(self, playback: PlaybackTruth) -> float | None:
        """End of the user's speech → first agent frame, for the playback that answers it."""
        utterance = self.answered_utterance(playback)
        if utterance is None or utterance.ended_at is None:
            return None
        return playback.first_frame_at - utterance.ended_at

    def playback_starting_at(
        self, wall_time: float, tolerance: float = 0.002
    ) -> PlaybackTruth | None:
        """The playback whose first frame arrived at ``wall_time``."""
        for playback in self.playbacks:
            if abs(playback.first_frame_at - wall_time) <= tolerance:
                return playback
        return None
