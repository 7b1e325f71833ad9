"""Neutral events: what happened in a voice session, free of any framework's types.

The LiveKit adapter is the only code that turns LiveKit objects into these; the recorder
consumes nothing else. Every event carries ``at``, the wall-clock time (seconds since the
epoch) it describes, taken from the framework's own timestamps where it has them. Numbers
may be missing (``None``) when the framework did not report them.
"""

from __future__ import annotations

import math
from collections.abc import Callable  # noqa: TC003 — get_type_hints() resolves it at run time
from dataclasses import dataclass, fields, replace
from typing import Any, Literal, cast, get_type_hints

__all__ = [
    "AgentHandoff",
    "AgentMessage",
    "AgentStateChanged",
    "Component",
    "EndOfTurn",
    "ErrorRaised",
    "Event",
    "FalseInterruption",
    "LLMInput",
    "LLMRequest",
    "PlaybackFinished",
    "RealtimeRequest",
    "RoomJoined",
    "STTUsage",
    "SessionClosed",
    "SpeechCreated",
    "SpeechDone",
    "TTSRequest",
    "ToolEnded",
    "ToolStarted",
    "UserMessage",
    "UserStateChanged",
    "UserTranscript",
    "VADUsage",
    "sanitized",
]

Component = Literal["stt", "llm", "tts", "realtime", "vad", "eou", "other"]


@dataclass(frozen=True, slots=True)
class LLMRequest:
    """One finished LLM request (LiveKit ``LLMMetrics``): ``at`` is when it ended."""

    at: float
    request_id: str
    speech_id: str | None
    provider: str | None
    model: str | None
    duration: float | None
    ttft: float | None
    """Seconds to the first token; None when no token came."""
    cancelled: bool
    prompt_tokens: int
    cached_tokens: int
    cache_creation_tokens: int | None
    """None: this LiveKit version does not report cache writes (``LLMMetrics`` has them
    since 1.6.10)."""
    completion_tokens: int
    reasoning_tokens: int | None
    """None: this LiveKit version does not report them (since 1.8.0)."""
    total_tokens: int
    tokens_per_second: float | None


@dataclass(frozen=True, slots=True)
class LLMInput:
    """What one LLM request was sent, captured when the request was made (``at``)."""

    at: float
    speech_id: str | None
    render: Callable[[], tuple[str, bool]]
    """The chat context actually sent, as JSON (the newest part, if it was too long), and
    whether it was cut: rendered when the turn is delivered, off the event loop."""
    tools: tuple[str, ...]
    parameters: tuple[tuple[str, float], ...]
    """Request parameters the plugin exposes publicly (temperature, max tokens, …)."""


@dataclass(frozen=True, slots=True)
class TTSRequest:
    """One finished TTS request (LiveKit ``TTSMetrics``): ``at`` is when it ended."""

    at: float
    request_id: str
    speech_id: str | None
    provider: str | None
    model: str | None
    duration: float | None
    ttfb: float | None
    audio_duration: float
    characters: int
    cancelled: bool
    streamed: bool
    segment_id: str | None = None


@dataclass(frozen=True, slots=True)
class RealtimeRequest:
    """One response of a speech-to-speech model (LiveKit ``RealtimeModelMetrics``).

    Unlike every other request, ``at`` is when the response was *created*, not when it
    ended; and it carries no speech id: the assistant message names it in its
    ``provider_request_ids`` (OpenAI), else it belongs to the speech whose lifetime holds it.
    """

    at: float
    request_id: str
    provider: str | None
    model: str | None
    duration: float | None
    ttft: float | None
    """Seconds from the response's creation to its first output; None when none came."""
    cancelled: bool
    input_tokens: int
    input_audio_tokens: int
    cached_tokens: int
    cached_audio_tokens: int
    output_tokens: int
    output_audio_tokens: int
    total_tokens: int
    tokens_per_second: float | None


@dataclass(frozen=True, slots=True)
class STTUsage:
    """One STT usage report (LiveKit ``STTMetrics``): ``at`` is when it was reported.

    Streaming recognizers meter audio as a stream — periodically, silence included — so a
    report is not one utterance; the recorder prorates it over the user's speech.
    """

    at: float
    request_id: str
    provider: str | None
    model: str | None
    audio_duration: float
    duration: float | None
    """Request time of a non-streaming recognition; None (0 in LiveKit) when streamed."""
    streamed: bool


@dataclass(frozen=True, slots=True)
class VADUsage:
    """Periodic VAD inference statistics (LiveKit ``VADMetrics``)."""

    at: float
    inference_seconds: float
    inference_count: int


@dataclass(frozen=True, slots=True)
class EndOfTurn:
    """The user's turn was committed (LiveKit ``EOUMetrics``)."""

    at: float
    speech_id: str | None
    end_of_utterance_delay: float | None
    transcription_delay: float | None
    on_user_turn_completed_delay: float | None
    detector: str | None = None
    """What decided the turn was over: ``vad``, ``stt``, or a turn-detector model."""


@dataclass(frozen=True, slots=True)
class UserTranscript:
    at: float
    text: str
    is_final: bool
    language: str | None


@dataclass(frozen=True, slots=True)
class UserMessage:
    """The user's committed message, with LiveKit's per-turn timings."""

    at: float
    item_id: str
    text: str
    started_speaking_at: float | None
    stopped_speaking_at: float | None
    transcription_delay: float | None
    end_of_turn_delay: float | None
    on_user_turn_completed_delay: float | None


@dataclass(frozen=True, slots=True)
class AgentMessage:
    """One assistant message (a speech may own several), with LiveKit's latency figures."""

    at: float
    item_id: str
    text: str
    interrupted: bool
    started_speaking_at: float | None
    stopped_speaking_at: float | None
    llm_node_ttft: float | None
    llm_node_ttfs: float | None
    tts_node_ttfb: float | None
    playback_latency: float | None
    e2e_latency: float | None
    provider_request_ids: tuple[str, ...] = ()
    """The realtime responses that produced this message (OpenAI realtime reports them)."""


@dataclass(frozen=True, slots=True)
class SpeechCreated:
    at: float
    speech_id: str
    source: Literal["say", "generate_reply", "other"]
    user_initiated: bool
    agent: str | None = None
    """The id of the agent that was active when the speech was created."""
    modality: Literal["audio", "text"] | None = None
    """How the input it answers came: spoken, or typed (``session.run(user_input=...)``)."""


@dataclass(frozen=True, slots=True)
class AgentHandoff:
    """The session switched agents (a tool returned a new agent, or ``update_agent``)."""

    at: float
    old_agent: str
    new_agent: str


@dataclass(frozen=True, slots=True)
class SpeechDone:
    """A speech handle completed. ``scheduled=False`` means it never played: a discarded
    preemptive attempt."""

    at: float
    speech_id: str
    interrupted: bool
    scheduled: bool
    message_ids: tuple[str, ...]
    tool_call_ids: tuple[str, ...]
    queue_wait: float | None


@dataclass(frozen=True, slots=True)
class PlaybackFinished:
    """The audio output finished (or was cut off in) a segment: how much of it played."""

    at: float
    position: float | None
    interrupted: bool


@dataclass(frozen=True, slots=True)
class ToolStarted:
    at: float
    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ToolEnded:
    at: float
    call_id: str
    status: Literal["done", "error", "cancelled"]
    output: str | None


@dataclass(frozen=True, slots=True)
class UserStateChanged:
    at: float
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    at: float
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class ErrorRaised:
    at: float
    component: Component
    error_type: str
    message: str
    recoverable: bool
    label: str | None


@dataclass(frozen=True, slots=True)
class FalseInterruption:
    at: float
    resumed: bool


@dataclass(frozen=True, slots=True)
class SessionClosed:
    at: float
    reason: str
    error_type: str | None
    error_message: str | None


@dataclass(frozen=True, slots=True)
class RoomJoined:
    """The session runs in a LiveKit room, and this is its name (known once ``start()`` has
    connected it). Never sent for a session without a room."""

    at: float
    name: str


Event = (
    LLMRequest
    | RealtimeRequest
    | AgentHandoff
    | LLMInput
    | TTSRequest
    | STTUsage
    | VADUsage
    | EndOfTurn
    | UserTranscript
    | UserMessage
    | AgentMessage
    | SpeechCreated
    | SpeechDone
    | PlaybackFinished
    | ToolStarted
    | ToolEnded
    | UserStateChanged
    | AgentStateChanged
    | ErrorRaised
    | FalseInterruption
    | SessionClosed
    | RoomJoined
)


_NUMBER_FIELDS: dict[type[Any], tuple[tuple[str, type, bool], ...]] = {}


def _number_fields(kind: type[Any]) -> tuple[tuple[str, type, bool], ...]:
    """(name, float or int, optional) for each numeric field of an event class."""
    known = _NUMBER_FIELDS.get(kind)
    if known is None:
        hints = get_type_hints(kind)
        found: list[tuple[str, type, bool]] = []
        for f in fields(kind):
            hint = hints[f.name]
            for number in (float, int):
                if hint is number or hint == (number | None):
                    found.append((f.name, number, hint is not number))
        known = _NUMBER_FIELDS[kind] = tuple(found)
    return known


LONGEST_DURATION = 86_400.0
"""No latency, duration or audio length in a call is longer than a day: beyond, it is junk."""
LATEST_TIME = 1e11
"""Wall-clock times past this (the year 5138) are junk too."""


CHECKED_SIGNED = frozenset({"e2e_latency"})
"""Fields kept even when negative: the recorder's plausibility rules flag a negative one as
suspect with its raw value, instead of it vanishing here without a reason."""


def _usable(name: str, value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if not math.isfinite(value) or (value < 0 and name not in CHECKED_SIGNED):
        return False
    is_time = name == "at" or name.endswith("_at")
    if is_time:
        return value < LATEST_TIME
    return isinstance(value, int) or abs(value) <= LONGEST_DURATION


def sanitized(event: Event) -> Event | None:
    """The event with every unusable number (NaN, infinite, negative, wrong type) made
    ``None`` where that is allowed and 0 where it is not; ``None`` for an event whose time
    ``at`` is unusable. Keeps odd plugins and out-of-range values from reaching the records.
    """
    changes: dict[str, object] = {}
    for name, number, optional in _number_fields(type(event)):
        value = getattr(event, name)
        if value is None and optional:
            continue
        if _usable(name, value):
            continue
        if name == "at":
            return None
        changes[name] = None if optional else number(0)
    if event.at <= 0:
        return None
    if not changes:
        return event
    patched: Event = replace(cast("Any", event), **changes)
    return patched
