"""Turn and call records → the span tree of DESIGN §5, as plain data.

Planning is pure (records in, ``PlannedSpan`` trees out) so the tree can be tested without a
tracer; ``sinks/spans.py`` turns plans into real OpenTelemetry spans with explicit times.

    turn N        user start of speech → agent end of speech; input/output = what was said
    ├── response     user end of speech → first agent audio (Langfuse's latency = e2e)
    ├── endpointing  user end of speech → turn committed
    ├── stt          generation: the utterance window, its share of metered audio
    ├── llm          generation, one per request: usage, TTFT as completion_start_time
    ├── realtime     generation, one per speech-to-speech response: text/audio usage, TTFT
    ├── tool <name>  tool: arguments, output, status
    └── tts          generation, one per request: characters, TTFB as completion_start_time
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Literal

from turnscope.export import semconv as sc
from turnscope.records import Breakdown

if TYPE_CHECKING:
    from collections.abc import Sequence

    from opentelemetry.util.types import AttributeValue

    from turnscope.records import (
        Call,
        CallContext,
        ComponentRequest,
        ErrorRecord,
        Suspect,
        ToolRecord,
        Turn,
        Unknown,
    )

__all__ = ["PlannedSpan", "call_summary_plan", "context_attributes", "turn_plan"]

Level = Literal["DEFAULT", "WARNING", "ERROR"]


@dataclass
class PlannedSpan:
    name: str
    start: float
    end: float
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    children: list[PlannedSpan] = field(default_factory=list)
    error: str | None = None
    """Set: the span's status is ERROR with this description."""
    events: list[tuple[str, float, dict[str, AttributeValue]]] = field(default_factory=list)
    """OpenTelemetry span events (Langfuse drops them; it gets ``event`` children instead)."""

    def walk(self) -> list[PlannedSpan]:
        return [self, *(s for child in self.children for s in child.walk())]


def iso(seconds: float) -> str:
    """ISO-8601 UTC, as Langfuse reads ``completion_start_time``."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()


def context_attributes(
    context: CallContext, *, environment: str | None, release: str | None
) -> dict[str, AttributeValue]:
    """What Langfuse needs on every span of a trace (its v4 ingestion reads each span alone)."""
    found: dict[str, AttributeValue] = {
        sc.SESSION_ID: context.session_id,
        sc.CONVERSATION_ID: context.session_id,
        sc.CALL_ID: context.call_id,
    }
    if context.user_id:
        found[sc.USER_ID] = context.user_id
    if context.trace_name:
        found[sc.TRACE_NAME] = context.trace_name
    if context.tags:
        found[sc.TRACE_TAGS] = list(context.tags)
    if environment:
        found[sc.ENVIRONMENT] = environment
    if release:
        found[sc.RELEASE] = release
    if context.room:
        found[sc.ROOM] = context.room
    for key, value in context.metadata.items():
        found[f"{sc.TRACE_METADATA}.{key}"] = value
    return found


def _numbers(pairs: dict[str, float | int | None]) -> dict[str, AttributeValue]:
    return {k: v for k, v in pairs.items() if v is not None}


def _usage(buckets: dict[str, int]) -> str:
    """Langfuse usage: disjoint integer buckets and their total, so nothing is counted twice."""
    kept = {k: int(v) for k, v in buckets.items() if v}
    return json.dumps({**kept, "total": sum(kept.values())})


def _level(span: PlannedSpan, errors: Sequence[ErrorRecord], *, capture: bool = True) -> None:
    """Each error once, on the span it hit: ERROR if it was final, WARNING if retried."""
    if not errors:
        return
    final = [e for e in errors if not e.recoverable]
    worst = final[0] if final else errors[0]
    shown = worst.message_shown(capture=capture)
    message = f"{worst.component} {worst.error_type}: {shown}"
    # a span whose own operation failed (a failed tool call) stays ERROR
    span.attributes[sc.OBSERVATION_LEVEL] = "ERROR" if final or span.error else "WARNING"
    span.attributes[sc.OBSERVATION_STATUS_MESSAGE] = message
    span.attributes[sc.ERROR_TYPE] = worst.error_type
    span.attributes[sc.ERROR_MESSAGE] = shown
    span.attributes[sc.ERROR_COMPONENT] = worst.component
    span.attributes[sc.ERROR_RECOVERABLE] = worst.recoverable
    if final:
        span.error = message


_UNREPORTED_COUNTS = {
    "reasoning_tokens": (sc.REASONING_TOKENS,),
    "cache_creation_tokens": (sc.CACHE_CREATION_TOKENS, sc.LLM_CACHE_CREATION_TOKENS),
}
"""An LLM span's attributes for counts older LiveKit versions do not report."""


_USAGE_ATTRIBUTES = (
    sc.OBSERVATION_USAGE,
    sc.INPUT_TOKENS,
    sc.OUTPUT_TOKENS,
    sc.CACHE_READ_TOKENS,
    sc.CACHE_CREATION_TOKENS,
    sc.REASONING_TOKENS,
    sc.LLM_PROMPT_TOKENS,
    sc.LLM_COMPLETION_TOKENS,
    sc.LLM_CACHED_TOKENS,
    sc.LLM_CACHE_CREATION_TOKENS,
    sc.LLM_TOTAL_TOKENS,
    sc.REALTIME_INPUT_AUDIO_TOKENS,
    sc.REALTIME_CACHED_AUDIO_TOKENS,
    sc.REALTIME_OUTPUT_AUDIO_TOKENS,
)
"""What a model request says about its tokens: left out when they are not a measurement."""


def _quality(
    attributes: dict[str, AttributeValue],
    suspect: Sequence[Suspect],
    unknown: Sequence[Unknown],
    names: tuple[str, str, str],
) -> None:
    """The suspect values (``field:reason`` and each raw value) and the unknown fields
    (``field:reason``) of a record, under the ``(suspect, suspect value, unknown)`` names."""
    listed, value_prefix, unknown_name = names
    if suspect:
        attributes[listed] = [f"{s.field}:{s.reason}" for s in suspect]
        for s in suspect:
            attributes[f"{value_prefix}.{s.field}"] = s.value
    if unknown:
        attributes[unknown_name] = [f"{field}:{reason}" for field, reason in unknown]


def _llm(r: ComponentRequest, *, capture: bool) -> PlannedSpan:
    fresh_input = max(0, r.prompt_tokens - r.cached_tokens - r.cache_creation_tokens)
    attributes: dict[str, AttributeValue] = {
        sc.OBSERVATION_TYPE: "generation",
        sc.OPERATION: "chat",
        sc.OBSERVATION_USAGE: _usage(
            {
                "input": fresh_input,
                "input_cached_tokens": r.cached_tokens,
                "input_cache_creation": r.cache_creation_tokens,
                "output": r.completion_tokens,
            }
        ),
        sc.INPUT_TOKENS: r.prompt_tokens,
        sc.OUTPUT_TOKENS: r.completion_tokens,
        sc.CACHE_READ_TOKENS: r.cached_tokens,
        sc.CACHE_CREATION_TOKENS: r.cache_creation_tokens,
        sc.REASONING_TOKENS: r.reasoning_tokens,
        sc.RESPONSE_ID: r.request_id,
        sc.LLM_PROMPT_TOKENS: r.prompt_tokens,
        sc.LLM_COMPLETION_TOKENS: r.completion_tokens,
        sc.LLM_CACHED_TOKENS: r.cached_tokens,
        sc.LLM_CACHE_CREATION_TOKENS: r.cache_creation_tokens,
        sc.LLM_TOTAL_TOKENS: r.total_tokens,
        sc.LLM_CANCELLED: r.cancelled,
        sc.REQUEST_DISCARDED: r.discarded,
        **_numbers(
            {
                sc.LLM_TTFT: r.ttft,
                sc.TIME_TO_FIRST_CHUNK: r.ttft,
                sc.LLM_DURATION: r.duration,
                sc.LLM_TOKENS_PER_SECOND: r.tokens_per_second,
            }
        ),
    }
    for name in _UNREPORTED_COUNTS.keys() & {f for f, _ in r.unknown}:
        for attribute in _UNREPORTED_COUNTS[name]:  # no 0 that reads as measured
            attributes.pop(attribute, None)
    if r.first_output_at is not None:
        attributes[sc.OBSERVATION_COMPLETION_START] = iso(r.first_output_at)
    parameters = dict(r.parameters)
    if parameters:
        attributes[sc.OBSERVATION_MODEL_PARAMETERS] = json.dumps(parameters)
        if "temperature" in parameters:
            attributes[sc.REQUEST_TEMPERATURE] = parameters["temperature"]
        tokens = parameters.get("max_tokens") or parameters.get("max_completion_tokens")
        if tokens is not None:
            attributes[sc.REQUEST_MAX_TOKENS] = int(tokens)
    if r.tools_offered:
        attributes[sc.LLM_TOOLS_OFFERED] = list(r.tools_offered)
    if capture and r.input is not None:
        attributes[sc.OBSERVATION_INPUT] = r.input
        attributes[sc.LLM_INPUT_TRUNCATED] = r.input_truncated
    if capture and r.output is not None:
        attributes[sc.OBSERVATION_OUTPUT] = r.output
    return PlannedSpan("llm", r.started_at, r.ended_at, attributes)


def _tts(r: ComponentRequest) -> PlannedSpan:
    attributes: dict[str, AttributeValue] = {
        sc.OBSERVATION_TYPE: "generation",
        sc.OBSERVATION_USAGE: _usage({"input_characters": r.characters}),
        sc.RESPONSE_ID: r.request_id,
        sc.TTS_CHARACTERS: r.characters,
        sc.TTS_AUDIO_DURATION: r.audio_duration,
        sc.TTS_STREAMED: r.streamed,
        sc.TTS_CANCELLED: r.cancelled,
        sc.REQUEST_DISCARDED: r.discarded,
        **_numbers({sc.TTS_TTFB: r.ttfb, sc.TTS_DURATION: r.duration}),
    }
    if r.first_output_at is not None:
        attributes[sc.OBSERVATION_COMPLETION_START] = iso(r.first_output_at)
    if r.segment_id:
        attributes[sc.TTS_SEGMENT_ID] = r.segment_id
    return PlannedSpan("tts", r.started_at, r.ended_at, attributes)


def _stt(r: ComponentRequest) -> PlannedSpan:
    attributes: dict[str, AttributeValue] = {
        sc.OBSERVATION_TYPE: "generation",
        sc.OBSERVATION_USAGE: _usage({"input_audio_ms": round(r.audio_duration * 1000)}),
        sc.RESPONSE_ID: r.request_id,
        sc.STT_AUDIO_DURATION: r.audio_duration,
        sc.STT_METERED_AUDIO: r.metered_audio,
        sc.STT_STREAMED: r.streamed,
        **_numbers({sc.STT_DURATION: r.duration}),
    }
    return PlannedSpan("stt", r.started_at, r.ended_at, attributes)


def _realtime(r: ComponentRequest, *, capture: bool) -> PlannedSpan:
    """A speech-to-speech response: one generation whose input and output are partly audio
    (priced apart), its TTFT the time to its first output."""
    text_in = max(0, r.prompt_tokens - r.input_audio_tokens)
    cached_text = max(0, r.cached_tokens - r.cached_audio_tokens)
    attributes: dict[str, AttributeValue] = {
        sc.OBSERVATION_TYPE: "generation",
        sc.OPERATION: "realtime",
        sc.OBSERVATION_USAGE: _usage(
            {
                "input": max(0, text_in - cached_text),
                "input_cached_tokens": cached_text,
                "input_audio": max(0, r.input_audio_tokens - r.cached_audio_tokens),
                "input_cached_audio": r.cached_audio_tokens,
                "output": max(0, r.completion_tokens - r.output_audio_tokens),
                "output_audio": r.output_audio_tokens,
            }
        ),
        sc.INPUT_TOKENS: r.prompt_tokens,
        sc.OUTPUT_TOKENS: r.completion_tokens,
        sc.CACHE_READ_TOKENS: r.cached_tokens,
        sc.RESPONSE_ID: r.request_id,
        sc.REALTIME_INPUT_AUDIO_TOKENS: r.input_audio_tokens,
        sc.REALTIME_CACHED_AUDIO_TOKENS: r.cached_audio_tokens,
        sc.REALTIME_OUTPUT_AUDIO_TOKENS: r.output_audio_tokens,
        sc.REALTIME_CANCELLED: r.cancelled,
        **_numbers(
            {
                sc.REALTIME_TTFT: r.ttft,
                sc.TIME_TO_FIRST_CHUNK: r.ttft,
                sc.REALTIME_DURATION: r.duration,
            }
        ),
    }
    if r.first_output_at is not None:
        attributes[sc.OBSERVATION_COMPLETION_START] = iso(r.first_output_at)
    if capture and r.output is not None:
        attributes[sc.OBSERVATION_OUTPUT] = r.output
    return PlannedSpan("realtime", r.started_at, r.ended_at, attributes)


_PLANNERS = {"llm": _llm, "realtime": _realtime}


def _request(r: ComponentRequest, *, capture: bool) -> PlannedSpan:
    planner = _PLANNERS.get(r.kind)
    span = planner(r, capture=capture) if planner else _tts(r) if r.kind == "tts" else _stt(r)
    if any(f == "prompt_tokens" for f, _ in r.unknown):
        for name in _USAGE_ATTRIBUTES:
            span.attributes.pop(name, None)
    _quality(
        span.attributes,
        r.suspect,
        r.unknown,
        (sc.REQUEST_SUSPECT, sc.REQUEST_SUSPECT_VALUE, sc.REQUEST_UNKNOWN),
    )
    if r.cost_usd is not None:
        # only leaf generations carry cost: turn and call totals would be counted twice
        span.attributes[sc.OBSERVATION_COST] = json.dumps(dict(r.cost_details))
        span.attributes[sc.COST_USD] = r.cost_usd
    elif r.unpriced:
        span.attributes[sc.COST_UNPRICED] = True
    if r.model:
        span.attributes[sc.OBSERVATION_MODEL] = r.model
        span.attributes[sc.REQUEST_MODEL] = r.model
    if r.provider:
        span.attributes[sc.PROVIDER] = r.provider
    return span


def _tool(tool: ToolRecord, *, capture: bool) -> PlannedSpan:
    attributes: dict[str, AttributeValue] = {
        sc.OBSERVATION_TYPE: "tool",
        sc.OPERATION: "execute_tool",
        sc.TOOL_NAME: tool.name,
        sc.TOOL_CALL_ID: tool.call_id,
    }
    if capture:
        attributes[sc.OBSERVATION_INPUT] = tool.arguments
        attributes[sc.TOOL_ARGUMENTS] = tool.arguments
        if tool.output is not None:
            attributes[sc.OBSERVATION_OUTPUT] = tool.output
            attributes[sc.TOOL_RESULT] = tool.output
    end = tool.ended_at if tool.ended_at is not None else tool.started_at
    span = PlannedSpan(f"tool {tool.name}", tool.started_at, end, attributes)
    if tool.status == "error":
        span.attributes[sc.OBSERVATION_LEVEL] = "ERROR"
        span.error = f"tool {tool.name} failed"
    return span


def _turn_attributes(turn: Turn, *, capture: bool) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {
        sc.OBSERVATION_TYPE: "agent",
        sc.TURN_INDEX: turn.index,
        sc.TURN_SOURCE: turn.source,
        sc.TURN_OUTCOME: turn.outcome,
        sc.TURN_INTERRUPTED: turn.interrupted,
        sc.TURN_PREEMPTIVE: turn.preemptive,
        sc.TURN_DISCARDED_ATTEMPTS: turn.discarded_attempts,
        sc.TURN_TOOLS: [t.name for t in turn.tools],
        **_numbers(
            {
                sc.E2E: turn.e2e,
                sc.TOTAL_LATENCY: turn.total_latency,
                sc.EOU_DELAY: turn.end_of_utterance_delay,
                sc.TRANSCRIPTION_DELAY: turn.transcription_delay,
            }
        ),
    }
    if turn.speech_id:
        attributes[sc.TURN_SPEECH_ID] = turn.speech_id
    if turn.heard_seconds is not None:
        attributes[sc.TURN_HEARD] = turn.heard_seconds
    if turn.agent_name:
        attributes[sc.TURN_AGENT] = turn.agent_name
        attributes[sc.AGENT_NAME] = turn.agent_name
    if turn.eou_detector:
        attributes[sc.EOU_DETECTOR] = turn.eou_detector
    if turn.input_modality:
        attributes[sc.TURN_INPUT_MODALITY] = turn.input_modality
    if turn.handoff_to:
        attributes[sc.TURN_HANDOFF_TO] = turn.handoff_to
    _quality(
        attributes,
        turn.suspect,
        turn.unknown,
        (sc.TURN_SUSPECT, sc.TURN_SUSPECT_VALUE, sc.TURN_UNKNOWN),
    )
    if turn.answered_by:
        attributes[sc.TURN_ANSWERED_BY] = turn.answered_by
    if turn.cost is not None:
        if turn.cost.total is not None:
            attributes[sc.TURN_COST] = turn.cost.total
        for component, usd in turn.cost.by_component:
            attributes[f"{sc.TURN_COST_PART}.{component}"] = usd
        if turn.cost.discarded:
            attributes[f"{sc.TURN_COST_PART}.discarded"] = turn.cost.discarded
        if turn.cost.unpriced:
            attributes[sc.TURN_UNPRICED] = list(turn.cost.unpriced)
    if turn.breakdown is not None:
        for part in Breakdown.PARTS:
            value = getattr(turn.breakdown, part)
            if value is not None:
                attributes[f"{sc.BREAKDOWN}.{part}"] = value
    if capture:
        if turn.user_text:
            attributes[sc.OBSERVATION_INPUT] = turn.user_text
        if turn.agent_text:
            attributes[sc.OBSERVATION_OUTPUT] = turn.agent_text
    return attributes


def turn_plan(turn: Turn, *, capture: bool) -> PlannedSpan:
    """The span tree of one turn (without trace context; the sink adds it to every span)."""
    root = PlannedSpan(
        f"turn {turn.index}",
        turn.started_at,
        turn.ended_at,
        _turn_attributes(turn, capture=capture),
    )
    stopped = turn.user_stopped_at
    if turn.e2e is not None and turn.agent_started_at is not None:
        response = PlannedSpan(
            "response", turn.agent_started_at - turn.e2e, turn.agent_started_at, {sc.E2E: turn.e2e}
        )
        root.children.append(response)
    parts = turn.breakdown
    if stopped is not None and parts is not None and parts.endpointing is not None:
        endpointing = PlannedSpan(
            "endpointing",
            stopped,
            stopped + parts.endpointing,
            _numbers(
                {
                    sc.EOU_DELAY: turn.end_of_utterance_delay,
                    sc.TRANSCRIPTION_DELAY: turn.transcription_delay,
                    sc.TURN_CALLBACK_DELAY: parts.turn_callback,
                }
            ),
        )
        if turn.eou_detector:
            endpointing.attributes[sc.EOU_DETECTOR] = turn.eou_detector
        root.children.append(endpointing)
    by_request: dict[str, PlannedSpan] = {}
    for request in turn.requests:
        span = _request(request, capture=capture)
        by_request[f"{request.kind}:{request.request_id}"] = span
        root.children.append(span)
    for tool in turn.tools:
        span = _tool(tool, capture=capture)
        by_request[f"tool:{tool.call_id}"] = span  # a failed tool's error lands on its span
        root.children.append(span)
    unplaced = []
    for error in turn.errors:
        target = by_request.get(f"{error.component}:{error.request_id}")
        if target is not None:
            _level(target, [error], capture=capture)
        else:
            unplaced.append(error)
    _level(root, unplaced, capture=capture)
    root.children.sort(key=lambda s: s.start)
    return root


def call_summary_plan(call: Call) -> PlannedSpan:
    """The small span that sums a call up at close (its own trace in per-turn mode)."""
    attributes: dict[str, AttributeValue] = {
        sc.OBSERVATION_TYPE: "span",
        sc.CALL_TURNS: call.turns,
        sc.CALL_DURATION: max(0.0, call.ended_at - call.started_at),
        sc.CALL_STT_AUDIO: call.stt_audio,
        sc.CALL_IDLE_STT_AUDIO: call.idle_stt_audio,
    }
    if call.close_reason:
        attributes[sc.CALL_CLOSE_REASON] = call.close_reason
    _quality(
        attributes,
        call.suspect,
        call.unknown,
        (sc.CALL_SUSPECT, sc.CALL_SUSPECT_VALUE, sc.CALL_UNKNOWN),
    )
    if call.stt_duplicates:
        attributes[sc.CALL_STT_REPEATED] = call.stt_duplicates
    if call.joined_late:
        attributes[sc.CALL_JOINED_LATE] = True
    if call.cost is not None:
        if call.cost.total is not None:
            attributes[sc.CALL_COST] = call.cost.total
        for component, usd in call.cost.by_component:
            attributes[f"{sc.CALL_COST_PART}.{component}"] = usd
        if call.cost.idle_stt is not None:
            attributes[f"{sc.CALL_COST_PART}.idle_stt"] = call.cost.idle_stt
        if call.cost.unpriced:
            attributes[sc.CALL_UNPRICED] = list(call.cost.unpriced)
    summary = call.summary
    if summary is not None and summary.e2e_p50 is not None:
        attributes[sc.CALL_E2E_P50] = summary.e2e_p50
        attributes[sc.CALL_E2E_P95] = summary.e2e_p95 or summary.e2e_p50
        attributes[sc.CALL_E2E_MAX] = summary.e2e_max or summary.e2e_p50
    span = PlannedSpan("call summary", call.started_at, call.ended_at, attributes)
    if call.summary is not None:
        _summarize(span, call)
    if call.close_error:
        span.attributes[sc.OBSERVATION_LEVEL] = "ERROR"
        span.attributes[sc.OBSERVATION_STATUS_MESSAGE] = f"session closed on {call.close_error}"
        span.error = f"session closed on {call.close_error}"
    _level(span, list(call.errors))
    return span


def _summarize(span: PlannedSpan, call: Call) -> None:
    """Engagement, interruptions, errors and state on the summary; away episodes and false
    interruptions as Langfuse ``event`` observations (and span events for other backends)."""
    summary = call.summary
    assert summary is not None
    a = span.attributes
    a[sc.CALL_INTERRUPTIONS] = summary.interruptions
    if summary.interruption_rate is not None:
        a[sc.CALL_INTERRUPTION_RATE] = summary.interruption_rate
    a[sc.CALL_FALSE_INTERRUPTIONS] = summary.false_interruptions
    a[sc.CALL_FALSE_INTERRUPTIONS_RESUMED] = summary.false_interruptions_resumed
    a[sc.CALL_UNRECOVERABLE_ERRORS] = summary.unrecoverable_errors
    a[sc.CALL_SUSPECT_VALUES] = summary.suspect_values
    for component, count in summary.errors_by_component:
        a[f"{sc.CALL_ERRORS}.{component}"] = count
    for state, seconds in summary.user_time_in_state:
        a[f"{sc.CALL_USER_STATE}.{state}"] = seconds
    for state, seconds in summary.agent_time_in_state:
        a[f"{sc.CALL_AGENT_STATE}.{state}"] = seconds
    a[sc.CALL_AWAY_EPISODES] = len(summary.away_episodes)
    a[sc.CALL_HANDOFFS] = len(call.handoffs)
    if summary.time_to_first_greeting is not None:
        a[sc.CALL_FIRST_GREETING] = summary.time_to_first_greeting
    for start, end in summary.away_episodes:
        details: dict[str, AttributeValue] = {
            sc.OBSERVATION_TYPE: "event",
            sc.AWAY_DURATION: end - start,
        }
        span.children.append(PlannedSpan("user away", start, start, details))
        span.events.append(("user away", start, {sc.AWAY_DURATION: end - start}))
    for at, old, new in call.handoffs:
        moved: dict[str, AttributeValue] = {sc.HANDOFF_FROM: old, sc.HANDOFF_TO: new}
        span.children.append(
            PlannedSpan("handoff", at, at, {sc.OBSERVATION_TYPE: "event", **moved})
        )
        span.events.append(("handoff", at, moved))
    for at, resumed in call.false_interruptions:
        details = {sc.OBSERVATION_TYPE: "event", sc.FALSE_INTERRUPTION_RESUMED: resumed}
        span.children.append(PlannedSpan("false interruption", at, at, details))
        span.events.append(("false interruption", at, {sc.FALSE_INTERRUPTION_RESUMED: resumed}))
