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
"""A start less than 1 ms before the commit is clock noise, not preemptive generation."""


def request_start(request: LLMRequest | TTSRequest) -> float:
    """Metrics are emitted when a request ends: it started ``duration`` earlier."""
    return request.at - (request.duration or 0.0)


def _speaking_step(llm: Sequence[LLMRequest], first_audio_at: float) -> LLMRequest | None:
    """The LLM request whose text was heard first: the last one to start before the audio."""
    before = [r for r in llm if request_start(r) <= first_audio_at]
    return max(before, key=request_start) if before else None


def _speaking_start(
    llm: Sequence[LLMRequest],
    first: LLMRequest,
    first_audio: float,
    answer: tuple[float, Sequence[LLMRequest]] | None,
) -> float:
    """When the step that spoke began: the speech's own LLM request whose text was heard;
    for an answer from another speech, that speech's LLM request, else its creation (a
    ``say()`` has no LLM request)."""
    if answer is None:
        return request_start(_speaking_step(llm, first_audio) or first)
    created, answer_llm = answer
    speaking = _speaking_step(answer_llm, first_audio)
    return request_start(speaking) if speaking is not None else created


def breakdown(
    *,
    e2e: float,
    user: UserMessage,
    reply: AgentMessage,
    llm: Sequence[LLMRequest],
    queue_wait: float | None,
    created_at: float | None = None,
    answer: tuple[float, Sequence[LLMRequest]] | None = None,
) -> Breakdown:
    """Split ``e2e`` into its parts; ``llm`` are the speech's own requests, in any order;
    ``created_at`` is when LiveKit created the speech (its ``speech_created``).

    ``answer`` is (creation time, LLM requests) of another speech whose audio answered the
    user (a ``say()`` or ``generate_reply()`` from a tool, a new agent speaking first):
    ``reply`` is then its message, ``queue_wait`` its queue wait, and the tool steps run from
    this speech's first LLM request to the start of the step that spoke there."""
    endpointing = user.end_of_turn_delay
    callback = user.on_user_turn_completed_delay
    ttft = reply.llm_node_ttft
    ttfs = reply.llm_node_ttfs
    aggregation = ttfs - ttft if ttfs is not None and ttft is not None else None
    first_audio = reply.started_speaking_at
    tool_steps: float | None = 0.0 if llm else None
    if llm and first_audio is not None:
        first = min(llm, key=request_start)
        tool_steps = _speaking_start(llm, first, first_audio, answer) - request_start(first)
    began = min(request_start(r) for r in llm) if llm else created_at
    overlap, wait = _start_gap(user, began, created_at)
    if first_audio is not None and queue_wait is not None:
        queue_wait = _queue_wait_left(user, reply, llm, created_at, answer, first_audio, queue_wait)
    parts = Breakdown(
        endpointing=endpointing,
        previous_turn_wait=wait,
        turn_callback=callback,
        tool_steps=tool_steps,
        llm_first_token=ttft,
        sentence_aggregation=aggregation,
        tts_first_byte=reply.tts_node_ttfb,
        tts_retry=None,
        queue_wait=queue_wait,
        playback=reply.playback_latency,
        preemptive_overlap=overlap,
        other=0.0,
    )
    return replace(parts, other=e2e - parts.explained())


def _queue_wait_left(
    user: UserMessage,
    reply: AgentMessage,
    llm: Sequence[LLMRequest],
    created_at: float | None,
    answer: tuple[float, Sequence[LLMRequest]] | None,
    first_audio: float,
    queue_wait: float,
) -> float:
    """The part of LiveKit's queue wait that delayed the first audio.

    A reply's LLM and TTS run while its speech waits to be authorized (LiveKit starts the
    generation at once and holds only the audio), so the wait delays the caller only by
    what is left of it when the first audio is ready: authorized (scheduled + the queue
    wait) minus ready (the speaking step's start + its first token + aggregation + TTS first
    byte). A speech is scheduled when created, a preemptive one at the commit. A ``say()``
    synthesizes only once authorized: its whole wait counts."""
    if answer is not None:
        scheduled, answer_llm = answer
        speaking = _speaking_step(answer_llm, first_audio)
        if speaking is None:
            return queue_wait  # a say(): nothing runs before it is authorized
        started = request_start(speaking)
    else:
        if user.stopped_speaking_at is None or (created_at is None and not llm):
            return queue_wait
        committed = (
            user.stopped_speaking_at
            + (user.end_of_turn_delay or 0.0)
            + (user.on_user_turn_completed_delay or 0.0)
        )
        began = min(request_start(r) for r in llm) if llm else None
        started_at = created_at if created_at is not None else began or 0.0
        scheduled = max(started_at, committed)
        speaking = _speaking_step(llm, first_audio) if llm else None
        started = request_start(speaking) if speaking is not None else started_at
    ttft, ttfs = reply.llm_node_ttft or 0.0, reply.llm_node_ttfs
    aggregation = ttfs - ttft if ttfs is not None else 0.0
    ready = started + ttft + aggregation + (reply.tts_node_ttfb or 0.0)
    return max(0.0, scheduled + queue_wait - ready)


def _start_gap(
    user: UserMessage, began: float | None, created_at: float | None
) -> tuple[float, float | None]:
    """(preemptive overlap, previous-turn wait), against the commit of the user's turn as
    LiveKit's delays put it (end of speech + endpointing + turn callback).

    The overlap: the speech's work (its first LLM request; its creation when it made none,
    as when an ``llm_node`` yields text itself) began before the commit — preemptive
    generation, reported negative. The wait: the speech was created after the commit, so
    the turn waited (for the previous turn's ``on_user_turn_completed`` still running, or
    its reply being stopped: LiveKit runs them one at a time) before its own callback ran."""
    if user.stopped_speaking_at is None:
        return 0.0, None
    endpointing = user.end_of_turn_delay or 0.0
    committed = user.stopped_speaking_at + endpointing + (user.on_user_turn_completed_delay or 0.0)
    if began is not None and began - committed < -OVERLAP_NOISE:
        return began - committed, 0.0
    if created_at is None:
        return 0.0, None
    return 0.0, max(created_at - committed, 0.0)


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
        previous_turn_wait=None,
        turn_callback=callback,
        tool_steps=speaking.at - first.at,
        llm_first_token=speaking.ttft,
        sentence_aggregation=None,
        tts_first_byte=None,
        tts_retry=None,
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
