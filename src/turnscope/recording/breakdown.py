"""The response-latency breakdown (DESIGN §4): where the time between the end of the user's
speech and the first agent audio went, as consecutive parts of one timeline."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from turnscope.records import Breakdown

if TYPE_CHECKING:
    from collections.abc import Sequence

    from turnscope.events import (
        AgentMessage,
        EndOfTurn,
        LLMRequest,
        RealtimeRequest,
        TTSRequest,
        UserMessage,
    )

__all__ = [
    "breakdown",
    "realtime_breakdown",
    "realtime_total_latency",
    "request_start",
    "total_latency",
]

OVERLAP_NOISE = 0.001
"""An LLM start less than 1 ms before the commit is clock noise, not preemptive generation."""


def request_start(request: LLMRequest | TTSRequest) -> float:
    """Metrics are emitted when a request ends: it started ``duration`` earlier."""
    return request.at - (request.duration or 0.0)


def _speaking_step(llm: Sequence[LLMRequest], first_audio_at: float) -> LLMRequest | None:
    """The LLM request whose text was heard first: the last one to start before the audio."""
    before = [r for r in llm if request_start(r) <= first_audio_at]
    return max(before, key=request_start) if before else None


def breakdown(
    *,
    e2e: float,
    user: UserMessage,
    reply: AgentMessage,
    llm: Sequence[LLMRequest],
    queue_wait: float | None,
) -> Breakdown:
    """Split ``e2e`` into its parts; ``llm`` are the speech's own requests, in any order."""
    endpointing = user.end_of_turn_delay
    callback = user.on_user_turn_completed_delay
    ttft = reply.llm_node_ttft
    ttfs = reply.llm_node_ttfs
    aggregation = ttfs - ttft if ttfs is not None and ttft is not None else None
    first_audio = reply.started_speaking_at
    tool_steps: float | None = 0.0 if llm else None
    overlap = 0.0
    if llm and first_audio is not None:
        first = min(llm, key=request_start)
        speaking = _speaking_step(llm, first_audio) or first
        tool_steps = request_start(speaking) - request_start(first)
        if user.stopped_speaking_at is not None:
            committed = user.stopped_speaking_at + (endpointing or 0.0) + (callback or 0.0)
            early = request_start(first) - committed - (queue_wait or 0.0)
            overlap = early if early < -OVERLAP_NOISE else 0.0
    parts = Breakdown(
        endpointing=endpointing,
        turn_callback=callback,
        tool_steps=tool_steps,
        llm_first_token=ttft,
        sentence_aggregation=aggregation,
        tts_first_byte=reply.tts_node_ttfb,
        queue_wait=queue_wait,
        playback=reply.playback_latency,
        preemptive_overlap=overlap,
        other=0.0,
    )
    return replace(parts, other=e2e - parts.explained())


def total_latency(
    eou: EndOfTurn | None, llm: Sequence[LLMRequest], tts: Sequence[TTSRequest]
) -> float | None:
    """The requirements' formula: EOU delay + first LLM ttft + first TTS ttfb; None if any
    part is missing (never a partial sum that looks like a measurement)."""
    if eou is None or not eou.end_of_utterance_delay or not llm or not tts:
        return None  # LiveKit's EOU delay of 0.0 is "not measured" (see plausibility)
    first_llm = min(llm, key=request_start)
    first_tts = min(tts, key=request_start)
    if first_llm.ttft is None or first_tts.ttfb is None:
        return None
    return eou.end_of_utterance_delay + first_llm.ttft + first_tts.ttfb


def realtime_breakdown(
    *,
    e2e: float,
    reply: AgentMessage,
    responses: Sequence[RealtimeRequest],
    eou: EndOfTurn | None,
    user_stopped_at: float | None,
    committed_at: float,
    queue_wait: float | None,
) -> Breakdown:
    """Split a speech-to-speech model's ``e2e``: endpointing and the turn callback (from
    LiveKit's end-of-turn metrics; where it has no delay, end of speech → the reply
    created, less the callback), tool
    steps (first response → the one that spoke), the speaking response's time to first
    audio, and playback. There is no STT, sentence aggregation or TTS; the queue wait
    overlaps the response (LiveKit starts the model before the speech is authorized), so it
    is not a part of its own."""
    endpointing = eou.end_of_utterance_delay if eou is not None else None
    callback = eou.on_user_turn_completed_delay if eou is not None else None
    if not endpointing and user_stopped_at is not None and committed_at >= user_stopped_at:
        # LiveKit reports 0 when it saw no end of speech (a realtime model's transcript)
        endpointing = committed_at - user_stopped_at - (callback or 0.0)
    first_audio = reply.started_speaking_at
    first = responses[0]
    spoken = [r for r in responses if first_audio is None or r.at <= first_audio]
    speaking = max(spoken, key=lambda r: r.at) if spoken else first
    parts = Breakdown(
        endpointing=endpointing,
        turn_callback=callback,
        tool_steps=speaking.at - first.at,
        llm_first_token=speaking.ttft,
        sentence_aggregation=None,
        tts_first_byte=None,
        queue_wait=None if queue_wait is None else 0.0,
        playback=reply.playback_latency,
        preemptive_overlap=0.0,
        other=0.0,
    )
    return replace(parts, other=e2e - parts.explained())


def realtime_total_latency(
    eou: EndOfTurn | None, parts: Breakdown | None, responses: Sequence[RealtimeRequest]
) -> float | None:
    """The requirements' formula for a realtime model: the EOU delay (else the measured
    endpointing) + the first response's time to first output (it speaks itself: no TTS)."""
    delay = eou.end_of_utterance_delay if eou is not None else None
    if not delay and parts is not None:
        delay = parts.endpointing
    if delay is None or not responses:
        return None
    ttft = responses[0].ttft
    return None if ttft is None else delay + ttft
