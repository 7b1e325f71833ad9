"""LiveKit objects → neutral events. Pure functions: no state, no I/O.

LiveKit reports "unknown" as -1 (an LLM request with no token), 0.0 (a streamed STT
request's duration) or a missing key; these become ``None`` so nothing downstream mistakes
them for a measurement. Non-finite or negative durations from odd plugins become ``None``.
"""

from __future__ import annotations

import functools
import json
import math
from typing import TYPE_CHECKING, Any

from turnscope import events

if TYPE_CHECKING:
    from livekit.agents import llm
    from livekit.agents.metrics import RealtimeModelMetrics

__all__ = [
    "agent_handoff",
    "agent_message",
    "error_event",
    "llm_input",
    "metrics_event",
    "render_chat",
    "user_message",
]

PROMPT_LIMIT = 32_000
"""Characters of chat context kept per LLM request: the newest messages, whole."""
PARAMETERS = ("temperature", "max_tokens", "max_completion_tokens", "top_p")
"""Request parameters read from a plugin's public attributes or the call's extra kwargs."""

MESSAGE_LIMIT = 500
"""Longest error message kept: provider errors can echo whole request bodies."""


def seconds(value: object) -> float | None:
    """A duration LiveKit reported, or None when it is missing or not a measurement."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    if not math.isfinite(number) or number < 0:
        return None
    return number


CLOCK_DISAGREEMENT = 600.0
"""Seconds between a time LiveKit stamped on an event and the clock read when the event is
handed over beyond which the two come from different clocks. Every event reaches us while
LiveKit emits it, and what it backdates (VAD speech start, a response's creation, a message's
first word) lies within one utterance or response of now. Under a harness that patches
``time.time`` (LiveKit's virtual-time tests), LiveKit's pydantic events still stamp
``created_at`` with the *unpatched* function their ``default_factory`` captured at import,
while its metrics read the patched one: such a time is replaced by the clock read now, so a
call never carries two timelines."""


def signed_seconds(value: object) -> float | None:
    """A difference of two times LiveKit reported, negative if they were out of order: kept,
    so the recorder can flag it with its raw value rather than lose it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def timestamp(value: object, fallback: float) -> float:
    """A wall-clock time LiveKit reported, or ``fallback`` (the clock read now) when it is
    unusable or from another clock (see ``CLOCK_DISAGREEMENT``)."""
    number = seconds(value)
    if number is None or number <= 0 or abs(number - fallback) > CLOCK_DISAGREEMENT:
        return fallback
    return number


COUNT_LIMIT = 2**63
"""Counts at or beyond this fit no store or OTLP integer (signed 64-bit): not a measurement."""


def count(value: object) -> int:
    """A token or character count LiveKit reported; 0 (LiveKit's own "none") when it is
    missing, negative, non-finite or too large to be real."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    if not math.isfinite(value) or value < 0 or value >= COUNT_LIMIT:
        return 0
    return int(value)


def _count_since(metrics: object, name: str) -> int | None:
    """A count LiveKit added to a metrics class after 1.5.3: None (not reported) when the
    installed version's class has no such field, never a 0 that would read as measured."""
    if not hasattr(metrics, name):
        return None
    return count(getattr(metrics, name))


def _metadata(metrics: Any) -> tuple[str | None, str | None]:
    meta = getattr(metrics, "metadata", None)
    provider = getattr(meta, "model_provider", None)
    model = getattr(meta, "model_name", None)
    return (
        provider if isinstance(provider, str) else None,
        model if isinstance(model, str) else None,
    )


def metrics_event(metrics: object, now: float) -> events.Event | None:
    """The neutral event for one LiveKit metrics object; None for kinds we do not record."""
    # imported here, not with the module: loading LiveKit takes two seconds, which the CLI's
    # reports (they import turnscope, never a session) should not pay
    from livekit.agents.metrics import (
        EOUMetrics,
        LLMMetrics,
        RealtimeModelMetrics,
        STTMetrics,
        TTSMetrics,
        VADMetrics,
    )

    at = timestamp(getattr(metrics, "timestamp", None), now)
    if isinstance(metrics, LLMMetrics):
        provider, model = _metadata(metrics)
        return events.LLMRequest(
            at=at,
            request_id=str(metrics.request_id),
            speech_id=metrics.speech_id,
            provider=provider,
            model=model,
            duration=seconds(metrics.duration),
            ttft=seconds(metrics.ttft),
            cancelled=bool(metrics.cancelled),
            prompt_tokens=count(metrics.prompt_tokens),
            cached_tokens=count(metrics.prompt_cached_tokens),
            cache_creation_tokens=_count_since(metrics, "cache_creation_tokens"),  # 1.6.10
            completion_tokens=count(metrics.completion_tokens),
            reasoning_tokens=_count_since(metrics, "reasoning_tokens"),  # LiveKit 1.8.0
            total_tokens=count(metrics.total_tokens),
            tokens_per_second=seconds(metrics.tokens_per_second),
        )
    if isinstance(metrics, TTSMetrics):
        provider, model = _metadata(metrics)
        return events.TTSRequest(
            at=at,
            request_id=str(metrics.request_id),
            speech_id=metrics.speech_id,
            provider=provider,
            model=model,
            duration=seconds(metrics.duration),
            ttfb=seconds(metrics.ttfb),
            audio_duration=seconds(metrics.audio_duration) or 0.0,
            characters=count(metrics.characters_count),
            cancelled=bool(metrics.cancelled),
            streamed=bool(metrics.streamed),
            segment_id=metrics.segment_id,
        )
    if isinstance(metrics, STTMetrics):
        provider, model = _metadata(metrics)
        streamed = bool(metrics.streamed)
        return events.STTUsage(
            at=at,
            request_id=str(metrics.request_id),
            provider=provider,
            model=model,
            audio_duration=seconds(metrics.audio_duration) or 0.0,
            duration=None if streamed else seconds(metrics.duration),
            streamed=streamed,
        )
    if isinstance(metrics, EOUMetrics):
        provider, model = _metadata(metrics)
        detector = provider if provider in ("vad", "stt") or not model else f"{provider}/{model}"
        return events.EndOfTurn(
            at=at,
            speech_id=metrics.speech_id,
            end_of_utterance_delay=seconds(metrics.end_of_utterance_delay),
            transcription_delay=seconds(metrics.transcription_delay),
            on_user_turn_completed_delay=seconds(metrics.on_user_turn_completed_delay),
            detector=detector,
        )
    if isinstance(metrics, RealtimeModelMetrics):
        return _realtime_request(metrics, at)
    if isinstance(metrics, VADMetrics):
        return events.VADUsage(
            at=at,
            inference_seconds=seconds(metrics.inference_duration_total) or 0.0,
            inference_count=count(metrics.inference_count),
        )
    return None


def _realtime_request(metrics: RealtimeModelMetrics, at: float) -> events.RealtimeRequest | None:
    """A realtime response; None for the zero-usage report of a connection being opened."""
    if not metrics.request_id:
        return None
    provider, model = _metadata(metrics)
    inputs = getattr(metrics, "input_token_details", None)
    outputs = getattr(metrics, "output_token_details", None)
    cached_details = getattr(inputs, "cached_tokens_details", None)
    return events.RealtimeRequest(
        at=at,
        request_id=str(metrics.request_id),
        provider=provider,
        model=model,
        duration=seconds(metrics.duration),
        ttft=seconds(metrics.ttft),
        cancelled=bool(metrics.cancelled),
        input_tokens=count(metrics.input_tokens),
        input_audio_tokens=count(getattr(inputs, "audio_tokens", 0)),
        cached_tokens=count(getattr(inputs, "cached_tokens", 0)),
        cached_audio_tokens=count(getattr(cached_details, "audio_tokens", 0)),
        output_tokens=count(metrics.output_tokens),
        output_audio_tokens=count(getattr(outputs, "audio_tokens", 0)),
        total_tokens=count(metrics.total_tokens),
        tokens_per_second=seconds(metrics.tokens_per_second),
    )


def user_message(message: llm.ChatMessage, now: float) -> events.UserMessage:
    m: dict[str, Any] = dict(message.metrics)
    return events.UserMessage(
        at=timestamp(message.created_at, now),
        item_id=message.id,
        text=message.text_content or "",
        started_speaking_at=seconds(m.get("started_speaking_at")),
        stopped_speaking_at=seconds(m.get("stopped_speaking_at")),
        transcription_delay=seconds(m.get("transcription_delay")),
        end_of_turn_delay=seconds(m.get("end_of_turn_delay")),
        on_user_turn_completed_delay=seconds(m.get("on_user_turn_completed_delay")),
    )


def agent_message(message: llm.ChatMessage, now: float) -> events.AgentMessage:
    m: dict[str, Any] = dict(message.metrics)
    return events.AgentMessage(
        at=timestamp(message.created_at, now),
        item_id=message.id,
        text=message.text_content or "",
        interrupted=bool(message.interrupted),
        started_speaking_at=seconds(m.get("started_speaking_at")),
        stopped_speaking_at=seconds(m.get("stopped_speaking_at")),
        llm_node_ttft=seconds(m.get("llm_node_ttft")),
        llm_node_ttfs=seconds(m.get("llm_node_ttfs")),
        tts_node_ttfb=seconds(m.get("tts_node_ttfb")),
        playback_latency=seconds(m.get("playback_latency")),
        e2e_latency=signed_seconds(m.get("e2e_latency")),
        provider_request_ids=tuple(
            str(i) for i in m.get("provider_request_ids") or () if isinstance(i, str)
        ),
    )


def agent_handoff(item: Any, now: float) -> events.AgentHandoff | None:
    """An ``AgentHandoff`` chat item; None for the first agent's start (no agent before)."""
    old, new = getattr(item, "old_agent_id", None), getattr(item, "new_agent_id", None)
    if not isinstance(old, str) or not isinstance(new, str):
        return None
    return events.AgentHandoff(
        at=timestamp(getattr(item, "created_at", None), now), old_agent=old, new_agent=new
    )


_COMPONENT_BY_ERROR: dict[str, events.Component] = {
    "LLMError": "llm",
    "STTError": "stt",
    "TTSError": "tts",
    "RealtimeModelError": "realtime",
}


def error_event(error: object, now: float) -> events.ErrorRaised:
    """An ``error`` event's payload (LLMError, STTError, TTSError, …) as a neutral event."""
    kind = type(error).__name__
    component = _COMPONENT_BY_ERROR.get(kind, "other")
    cause = getattr(error, "error", None)
    cause_type = type(cause).__name__ if isinstance(cause, BaseException) else kind
    message = str(cause) if cause is not None else str(error)
    label = getattr(error, "label", None)
    return events.ErrorRaised(
        at=timestamp(getattr(error, "timestamp", None), now),
        component=component,
        error_type=cause_type,
        message=message[:MESSAGE_LIMIT],
        recoverable=bool(getattr(error, "recoverable", False)),
        label=label if isinstance(label, str) else None,
    )


def _item(item: Any) -> dict[str, Any] | None:
    kind = getattr(item, "type", None)
    if kind == "message":
        return {"role": item.role, "content": item.text_content or ""}
    if kind == "function_call":
        return {"role": "assistant", "tool_call": {"name": item.name, "arguments": item.arguments}}
    if kind == "function_call_output":
        return {"role": "tool", "name": item.name, "content": item.output}
    return None


def render_chat(items: tuple[Any, ...]) -> tuple[str, bool]:
    """A chat context as JSON — the newest messages, whole, up to ``PROMPT_LIMIT``
    characters — and whether older ones were left out."""
    converted = [m for m in (_item(i) for i in items) if m is not None]
    kept: list[str] = []
    size = 0
    for encoded in reversed([json.dumps(m, ensure_ascii=False) for m in converted]):
        if size + len(encoded) > PROMPT_LIMIT and kept:
            break
        kept.append(encoded)
        size += len(encoded) + 1
    kept.reverse()
    return "[" + ",".join(kept) + "]", len(kept) < len(converted)


def llm_input(
    chat_ctx: Any, tools: Any, plugin: Any, extra: Any, speech_id: str | None, now: float
) -> events.LLMInput:
    """What an LLM request is being sent: its chat context, the names of the tools offered,
    and the parameters the plugin exposes publicly. The chat context is only *kept* here (a
    shallow copy of its items, a few µs): encoding it took ~200 µs a request on the event
    loop, so it is rendered when the turn is delivered, off the loop."""
    items = tuple(getattr(chat_ctx, "items", ()))
    offered = (getattr(t, "id", None) or getattr(t, "name", None) for t in tools or ())
    names = tuple(str(n) for n in offered if n)
    found: list[tuple[str, float]] = []
    for name in PARAMETERS:
        value = extra.get(name) if isinstance(extra, dict) else None
        if value is None:
            value = getattr(plugin, name, None)
        number = seconds(value) if not isinstance(value, bool) else None
        if number is not None:
            found.append((name, number))
    return events.LLMInput(
        at=now,
        speech_id=speech_id,
        render=functools.partial(render_chat, items),
        tools=names,
        parameters=tuple(found),
    )
