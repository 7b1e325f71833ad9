"""Records of one request, built from its events: what each LLM, realtime, TTS request and
error becomes in a Turn, and what each model request produced (its output)."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from turnscope.recording import plausibility as pl
from turnscope.recording.breakdown import request_start
from turnscope.records import ComponentRequest, ErrorRecord

if TYPE_CHECKING:
    from turnscope import events as ev
    from turnscope.records import Suspect, ToolRecord, Unknown

__all__ = [
    "error_record",
    "llm_outputs",
    "llm_request",
    "realtime_output",
    "realtime_request",
    "tool_errors",
    "tts_request",
    "usage_quality",
]

TOKEN_FIELDS = ("prompt_tokens", "completion_tokens", "total_tokens")


def usage_quality(
    *, cancelled: bool, prompt: int, completion: int, cached: int, cache_creation: int
) -> tuple[tuple[Unknown, ...], tuple[Suspect, ...]]:
    """What a model request's token counts are worth (see ``plausibility``): unknown with a
    reason when LiveKit's zeros mean "not reported" (the cost too), a suspect when cached
    tokens exceed the prompt (its cost would come out negative)."""
    reason = pl.unreported_usage(cancelled=cancelled, input_tokens=prompt, output_tokens=completion)
    if reason is not None:
        return (*((f, reason) for f in TOKEN_FIELDS), ("cost_usd", reason)), ()
    contradiction = pl.usage_contradiction(prompt, cached, cache_creation)
    if contradiction is not None:
        return (("cost_usd", pl.CONTRADICTORY),), (contradiction,)
    return (), ()


def realtime_output(
    response: ev.RealtimeRequest,
    responses: list[ev.RealtimeRequest],
    messages: list[ev.AgentMessage],
    tools: list[ev.ToolStarted],
) -> str | None:
    """What a realtime response produced: the messages that name it (or, when none name
    any, those that began after it was created), and the tool calls made while it ran."""
    named = [m.text for m in messages if response.request_id in m.provider_request_ids]
    if not named and not any(m.provider_request_ids for m in messages):
        later = [r.at for r in responses if r.at > response.at]
        until = min(later, default=math.inf)
        named = [
            m.text
            for m in messages
            if response.at <= (m.started_speaking_at or m.at) < until and m.text
        ]
    end = response.at + (response.duration or 0.0)
    calls = [
        {"name": t.name, "arguments": t.arguments}
        for t in tools
        if response.at <= t.at <= end + 0.05
    ]
    if calls:
        parts: dict[str, Any] = {"tool_calls": calls}
        if named:
            parts["text"] = " ".join(named)
        return json.dumps(parts, ensure_ascii=False)
    return " ".join(named) or None


def realtime_request(r: ev.RealtimeRequest, output: str | None) -> ComponentRequest:
    """A realtime model's response as a request record (``kind="realtime"``)."""
    unknown, suspect = usage_quality(
        cancelled=r.cancelled,
        prompt=r.input_tokens,
        completion=r.output_tokens,
        cached=r.cached_tokens,
        cache_creation=0,
    )
    return ComponentRequest(
        kind="realtime",
        request_id=r.request_id,
        provider=r.provider,
        model=r.model,
        started_at=r.at,
        ended_at=r.at + (r.duration or 0.0),
        first_output_at=r.at + r.ttft if r.ttft is not None else None,
        ttft=r.ttft,
        duration=r.duration,
        cancelled=r.cancelled,
        prompt_tokens=r.input_tokens,
        cached_tokens=r.cached_tokens,
        completion_tokens=r.output_tokens,
        total_tokens=r.total_tokens,
        tokens_per_second=r.tokens_per_second,
        input_audio_tokens=r.input_audio_tokens,
        cached_audio_tokens=r.cached_audio_tokens,
        output_audio_tokens=r.output_audio_tokens,
        output=output,
        unknown=unknown,
        suspect=suspect,
    )


def llm_outputs(
    llm: list[ev.LLMRequest], messages: list[ev.AgentMessage], tools: list[ev.ToolStarted]
) -> dict[str, str]:
    """What each LLM request of a speech produced: the messages that began speaking after it
    started (and before the next one did), and the tool calls it made."""
    ordered = sorted(llm, key=request_start)
    produced: dict[str, dict[str, Any]] = {r.request_id: {} for r in ordered}
    for message in messages:
        at = message.started_speaking_at or message.at
        source = next((r for r in reversed(ordered) if request_start(r) <= at), None)
        if source is not None and message.text:
            texts = produced[source.request_id].setdefault("text", [])
            texts.append(message.text)
    for tool in tools:
        # the request that asked for the tool started before it (it may end after: the usage
        # chunk comes last, and LiveKit starts tools as soon as the call is streamed)
        source = next((r for r in reversed(ordered) if request_start(r) <= tool.at), None)
        if source is not None:
            calls = produced[source.request_id].setdefault("tool_calls", [])
            calls.append({"name": tool.name, "arguments": tool.arguments})
    outputs = {}
    for request_id, parts in produced.items():
        if "tool_calls" in parts:
            if "text" in parts:
                parts["text"] = " ".join(parts["text"])
            outputs[request_id] = json.dumps(parts, ensure_ascii=False)
        elif "text" in parts:
            outputs[request_id] = " ".join(parts["text"])
    return outputs


def llm_request(
    r: ev.LLMRequest, *, discarded: bool, output: str | None = None
) -> ComponentRequest:
    """An LLM request as a record; ``discarded`` for a thrown-away preemptive attempt's."""
    start = request_start(r)
    unknown, suspect = usage_quality(
        cancelled=r.cancelled,
        prompt=r.prompt_tokens,
        completion=r.completion_tokens,
        cached=r.cached_tokens,
        cache_creation=r.cache_creation_tokens or 0,
    )
    return ComponentRequest(
        kind="llm",
        request_id=r.request_id,
        provider=r.provider,
        model=r.model,
        started_at=start,
        ended_at=r.at,
        first_output_at=start + r.ttft if r.ttft is not None else None,
        ttft=r.ttft,
        duration=r.duration,
        cancelled=r.cancelled,
        discarded=discarded,
        prompt_tokens=r.prompt_tokens,
        cached_tokens=r.cached_tokens,
        cache_creation_tokens=r.cache_creation_tokens or 0,
        completion_tokens=r.completion_tokens,
        reasoning_tokens=r.reasoning_tokens or 0,
        total_tokens=r.total_tokens,
        tokens_per_second=r.tokens_per_second,
        output=output,
        unknown=(*unknown, *_unreported_counts(r)),
        suspect=suspect,
    )


def _unreported_counts(r: ev.LLMRequest) -> tuple[tuple[str, str], ...]:
    """The counts this LiveKit version does not report (cache writes before 1.6.10,
    reasoning tokens before 1.8.0): their record holds 0, named here as no measurement."""
    names = ("cache_creation_tokens", "reasoning_tokens")
    return tuple((n, pl.NOT_REPORTED_BY_LIVEKIT) for n in names if getattr(r, n) is None)


def tts_request(r: ev.TTSRequest, *, discarded: bool) -> ComponentRequest:
    """A TTS request as a record; ``discarded`` for a thrown-away preemptive attempt's."""
    start = request_start(r)
    return ComponentRequest(
        kind="tts",
        request_id=r.request_id,
        provider=r.provider,
        model=r.model,
        started_at=start,
        ended_at=r.at,
        first_output_at=start + r.ttfb if r.ttfb is not None else None,
        ttfb=r.ttfb,
        duration=r.duration,
        cancelled=r.cancelled,
        discarded=discarded,
        characters=r.characters,
        audio_duration=r.audio_duration,
        streamed=r.streamed,
        segment_id=r.segment_id,
    )


ERROR_CLOCK_SLACK = 0.05
"""Seconds an error's time may fall outside the request it hit: LiveKit stamps the error and
the request's metrics in different tasks."""


def tool_errors(tools: tuple[ToolRecord, ...]) -> tuple[ErrorRecord, ...]:
    """The turn's failed tool calls as errors of component ``tool``, so a broken tool counts
    in the turn's errors, ``error_rate`` and every report like any other error, once each.

    LiveKit raises no ``error`` event for a tool: it hands the failure back to the LLM as a
    ``FunctionCallOutput`` with ``is_error`` (``ToolCallEnded.status == "error"``), which can
    still answer, so the error is recoverable. Its type is the tool's name (LiveKit gives no
    exception type), its message the tool's output, its request the tool call's id."""
    return tuple(
        ErrorRecord(
            at=t.ended_at if t.ended_at is not None else t.started_at,
            component="tool",
            error_type=t.name,
            message=t.output or "no message reported",
            recoverable=True,
            request_id=t.call_id,
            content=True,  # the tool's output: may hold what the caller said
        )
        for t in tools
        if t.status == "error"
    )


def error_record(e: ev.ErrorRaised, requests: tuple[ComponentRequest, ...]) -> ErrorRecord:
    """An error as a record, naming the attempt it belongs to, by order: the first request of
    its component to end at or after it. A recoverable error is followed by a retry, whose
    request (the one LiveKit reports) may have started after it; an unrecoverable one ended
    the attempt, so it names a request only if that one was already running."""
    own = sorted((r for r in requests if r.kind == e.component), key=lambda r: r.ended_at)
    hit = next((r for r in own if r.ended_at >= e.at - ERROR_CLOCK_SLACK), None)
    if hit is not None and not e.recoverable and hit.started_at > e.at + ERROR_CLOCK_SLACK:
        hit = None
    return ErrorRecord(
        at=e.at,
        component=e.component,
        error_type=e.error_type,
        message=e.message,
        recoverable=e.recoverable,
        request_id=hit.request_id if hit is not None else None,
    )
