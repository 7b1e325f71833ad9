"""Latency profiles: how fast the scripted providers answer, reproducibly.

A profile names a range for every latency the simulation injects. Each request draws its
value from a random generator seeded by ``(seed, kind, n)`` — the n-th request of that kind —
so a run is reproducible whatever order the event loop happens to serve requests in.
Every value is divided by the run's speed factor, so a run at speed 4 is the same
conversation, four times faster.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["PROFILES", "LatencyProfile", "LatencySampler", "Span"]


@dataclass(frozen=True)
class Span:
    """A closed range of seconds a latency is drawn from, uniformly."""

    low: float
    high: float

    def draw(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)


@dataclass(frozen=True)
class LatencyProfile:
    """Latencies of one kind of deployment, in seconds at speed 1."""

    name: str
    stt_final_delay: Span
    """End of the user's speech (as the STT hears it) → final transcript."""
    llm_ttft: Span
    """LLM request start → first token."""
    llm_token_interval: Span
    """Time between two streamed LLM chunks (one word each)."""
    tts_ttfb: Span
    """TTS request start → first audio byte."""
    tool_latency: Span
    """Time a function tool takes to run."""
    tts_seconds_per_char: float = 0.06
    """Length of synthesized speech per character of text (about 15 characters a second)."""
    tts_synthesis_factor: float = 0.2
    """Synthesis time per second of audio (5x faster than real time)."""


PROFILES: dict[str, LatencyProfile] = {
    profile.name: profile
    for profile in (
        LatencyProfile(
            name="realistic",
            stt_final_delay=Span(0.12, 0.25),
            llm_ttft=Span(0.30, 0.60),
            llm_token_interval=Span(0.015, 0.03),
            tts_ttfb=Span(0.10, 0.20),
            tool_latency=Span(0.08, 0.25),
        ),
        LatencyProfile(
            name="fast",
            stt_final_delay=Span(0.08, 0.12),
            llm_ttft=Span(0.15, 0.25),
            llm_token_interval=Span(0.01, 0.015),
            tts_ttfb=Span(0.06, 0.10),
            tool_latency=Span(0.03, 0.08),
        ),
        LatencyProfile(
            name="slow",
            stt_final_delay=Span(0.25, 0.50),
            llm_ttft=Span(0.80, 1.60),
            llm_token_interval=Span(0.03, 0.06),
            tts_ttfb=Span(0.25, 0.45),
            tool_latency=Span(0.40, 1.20),
        ),
    )
}


class LatencySampler:
    """Draws the latency of the n-th request of a kind: reproducible and scaled by speed."""

    def __init__(self, profile: LatencyProfile, *, seed: int, speed: float) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.profile = profile
        self.seed = seed
        self.speed = speed
        self._counts: dict[str, int] = {}

    def scaled(self, seconds: float) -> float:
        """A duration of the conversation (audio, silence, timeouts) at this run's speed."""
        return seconds / self.speed

    def draw(self, kind: str, span: Span) -> float:
        """The next latency for ``kind``, already scaled by speed."""
        n = self._counts.get(kind, 0)
        self._counts[kind] = n + 1
        rng = random.Random(f"{self.seed}:{kind}:{n}")
        return span.draw(rng) / self.speed
