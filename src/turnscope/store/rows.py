"""Records → rows of the store's tables. With content capture off, every column that could
hold what someone said (transcripts, agent text, tool arguments and outputs) is NULL."""

from __future__ import annotations

import dataclasses
import json
import time
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from turnscope import records
from turnscope.records import MODEL_KINDS
from turnscope.store.migrations import BREAKDOWN_COLUMNS

if TYPE_CHECKING:
    from turnscope.records import (
        Call,
        CallContext,
        CallSummary,
        ComponentRequest,
        Suspect,
        ToolRecord,
        Turn,
        Unknown,
    )

__all__ = [
    "CALL_END_SQL",
    "CALL_START_SQL",
    "COMPONENT_SQL",
    "EVENT_SQL",
    "TURN_SQL",
    "call_end_row",
    "call_start_row",
    "component_rows",
    "event_rows",
    "states_json",
    "suspect_json",
    "turn_error_rows",
    "turn_row",
    "unknown_json",
]

CALL_START_SQL = """
INSERT INTO calls (call_id, session_id, user_id, trace_name, tags, metadata, recorded_at, room)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (call_id) DO UPDATE SET
    session_id = excluded.session_id, user_id = excluded.user_id,
    trace_name = excluded.trace_name, tags = excluded.tags, metadata = excluded.metadata,
    room = COALESCE(excluded.room, calls.room)
"""

CALL_END_SQL = """
INSERT INTO calls (call_id, session_id, started_at, ended_at, turns, close_reason, close_error,
    stt_audio, idle_stt_audio, late_events, dropped_events, unattributed_requests, recorded_at,
    cost_usd, cost_idle_stt, cost_by_component, cost_by_model, unpriced, summary,
    suspect, unknown, stt_repeated_reports, joined_late, user_states, agent_states)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (call_id) DO UPDATE SET
    started_at = excluded.started_at, ended_at = excluded.ended_at, turns = excluded.turns,
    close_reason = excluded.close_reason, close_error = excluded.close_error,
    stt_audio = excluded.stt_audio, idle_stt_audio = excluded.idle_stt_audio,
    late_events = excluded.late_events, dropped_events = excluded.dropped_events,
    unattributed_requests = excluded.unattributed_requests,
    cost_usd = excluded.cost_usd, cost_idle_stt = excluded.cost_idle_stt,
    cost_by_component = excluded.cost_by_component, cost_by_model = excluded.cost_by_model,
    unpriced = excluded.unpriced, summary = excluded.summary,
    suspect = excluded.suspect, unknown = excluded.unknown,
    stt_repeated_reports = excluded.stt_repeated_reports, joined_late = excluded.joined_late,
    user_states = excluded.user_states, agent_states = excluded.agent_states
"""

_TURN_COLUMNS = (
    "call_id", "turn", "speech_id", "source", "outcome", "started_at", "ended_at",
    "user_text", "agent_text", "user_started_at", "user_stopped_at", "agent_started_at",
    "agent_stopped_at", "interrupted", "preemptive", "discarded_attempts", "e2e",
    *BREAKDOWN_COLUMNS,
    "total_latency", "transcription_delay", "end_of_utterance_delay", "llm_ttft", "tts_ttfb",
    "prompt_tokens", "cached_tokens", "completion_tokens", "tts_characters", "stt_audio",
    "tools", "errors", "agent_name", "eou_detector",
    "cost_usd", "cost_stt", "cost_llm", "cost_tts", "cost_discarded", "unpriced",
    "heard_seconds", "input_modality", "handoff_to", "cost_realtime", "suspect", "unknown",
    "answered_by",
)  # fmt: skip
TURN_SQL = (
    f"INSERT OR REPLACE INTO turns ({', '.join(_TURN_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_TURN_COLUMNS))})"
)

_COMPONENT_COLUMNS = (
    "call_id", "turn", "kind", "request_id", "name", "provider", "model", "started_at",
    "ended_at", "duration", "ttft", "ttfb", "cancelled", "discarded", "prompt_tokens",
    "cached_tokens", "cache_creation_tokens", "completion_tokens", "reasoning_tokens",
    "total_tokens", "tokens_per_second", "characters", "audio_duration", "metered_audio",
    "streamed", "status", "arguments", "output", "input", "cost_usd",
    "input_audio_tokens", "cached_audio_tokens", "output_audio_tokens", "suspect", "unknown",
)  # fmt: skip
COMPONENT_SQL = (
    f"INSERT INTO components ({', '.join(_COMPONENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_COMPONENT_COLUMNS))})"
)

EVENT_SQL = (
    "INSERT INTO events (call_id, turn, at, kind, component, detail, message, recoverable, "
    "request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def call_start_row(context: CallContext) -> tuple[Any, ...]:
    return (
        context.call_id,
        context.session_id,
        context.user_id,
        context.trace_name,
        json.dumps(list(context.tags)),
        json.dumps(dict(context.metadata)),
        time.time(),
        context.room,
    )


def call_end_row(call: Call, session_id: str) -> tuple[Any, ...]:
    return (
        call.call_id,
        session_id,
        call.started_at,
        call.ended_at,
        call.turns,
        call.close_reason,
        call.close_error,
        call.stt_audio,
        call.idle_stt_audio,
        call.late_events,
        call.dropped_events,
        call.unattributed_requests,
        time.time(),
        *_call_cost(call),
        json.dumps(summary_dict(call.summary)) if call.summary is not None else None,
        suspect_json(call.suspect),
        unknown_json(call.unknown),
        call.stt_duplicates,
        int(call.joined_late),
        states_json(call.user_states),
        states_json(call.agent_states),
    )


def states_json(states: tuple[tuple[float, str], ...]) -> str | None:
    """A call's state changes as stored (``calls.user_states`` / ``agent_states``): compact
    JSON ``[[at,state],...]`` in order, ``at`` in seconds as recorded; NULL when none."""
    return json.dumps(states, separators=(",", ":")) if states else None


def suspect_json(suspect: tuple[Suspect, ...]) -> str | None:
    """Flagged values as stored: ``[{"field", "reason", "value"}]``, NULL when none."""
    if not suspect:
        return None
    return json.dumps([{"field": s.field, "reason": s.reason, "value": s.value} for s in suspect])


def unknown_json(unknown: tuple[Unknown, ...]) -> str | None:
    """Fields without a measurement as stored: ``{field: reason}``, NULL when none."""
    return json.dumps(dict(unknown)) if unknown else None


def summary_dict(summary: CallSummary) -> dict[str, Any]:
    """The call summary as plain JSON (pairs become objects). Its fields are plain values and
    tuples of them: read one by one (``dataclasses.asdict`` deep-copies each, for nothing)."""
    found = dict(zip(_SUMMARY_FIELDS, _SUMMARY(summary), strict=True))
    for key in ("errors_by_component", "user_time_in_state", "agent_time_in_state"):
        found[key] = dict(found[key])
    found["away_episodes"] = [list(e) for e in found["away_episodes"]]
    return found


_SUMMARY_FIELDS = tuple(f.name for f in dataclasses.fields(records.CallSummary))
_SUMMARY = attrgetter(*_SUMMARY_FIELDS)


def _call_cost(call: Call) -> tuple[Any, ...]:
    cost = call.cost
    if cost is None:
        return (None, None, None, None, None)
    return (
        cost.total,
        cost.idle_stt,
        json.dumps(dict(cost.by_component)),
        json.dumps(dict(cost.by_model)),
        json.dumps(list(cost.unpriced)) if cost.unpriced else None,
    )


def turn_row(turn: Turn, *, capture_content: bool) -> tuple[Any, ...]:
    parts = turn.breakdown
    usage = _usage(turn.requests)
    *cost, cost_realtime = _turn_cost(turn)
    return (
        turn.call_id,
        turn.index,
        turn.speech_id,
        turn.source,
        turn.outcome,
        turn.started_at,
        turn.ended_at,
        turn.user_text if capture_content else None,
        turn.agent_text if capture_content else None,
        turn.user_started_at,
        turn.user_stopped_at,
        turn.agent_started_at,
        turn.agent_stopped_at,
        int(turn.interrupted),
        int(turn.preemptive),
        turn.discarded_attempts,
        turn.e2e,
        *(_BREAKDOWN(parts) if parts else _NO_BREAKDOWN),
        turn.total_latency,
        turn.transcription_delay,
        turn.end_of_utterance_delay,
        *usage,
        len(turn.tools),
        len(turn.errors),
        turn.agent_name,
        turn.eou_detector,
        *cost,
        turn.heard_seconds,
        turn.input_modality,
        turn.handoff_to,
        cost_realtime,
        suspect_json(turn.suspect),
        unknown_json(turn.unknown),
        turn.answered_by,
    )


_BREAKDOWN = attrgetter(*BREAKDOWN_COLUMNS)
_NO_BREAKDOWN = (None,) * len(BREAKDOWN_COLUMNS)


def _usage(requests: tuple[ComponentRequest, ...]) -> tuple[Any, ...]:
    """One pass over a turn's requests: the first model request's TTFT (its first LLM
    request, else its first realtime response — as ``Turn.first_model_request``), the first
    TTS request's TTFB (discarded attempts aside, as ``Turn.first_request``); the tokens of
    every model request, the characters of every TTS request and the audio of every STT
    request (discarded attempts included: they were paid for)."""
    first: dict[str, ComponentRequest] = {}
    prompt = cached = completion = characters = 0
    audio: float = 0
    for r in requests:
        kind = r.kind
        if kind in MODEL_KINDS:
            prompt += r.prompt_tokens
            cached += r.cached_tokens
            completion += r.completion_tokens
        elif kind == "tts":
            characters += r.characters
        elif kind == "stt":
            audio += r.audio_duration
        if not r.discarded and (kind not in first or r.started_at < first[kind].started_at):
            first[kind] = r
    model = first.get("llm") or first.get("realtime")
    tts = first.get("tts")
    return (
        model.ttft if model else None,
        tts.ttfb if tts else None,
        prompt,
        cached,
        completion,
        characters,
        audio,
    )


def _turn_cost(turn: Turn) -> tuple[Any, ...]:
    cost = turn.cost
    """Total, STT, LLM, TTS, discarded, unpriced and realtime (the last: a later column)."""
    if cost is None:
        return (None, None, None, None, None, None, None)
    parts = dict(cost.by_component)
    return (
        cost.total,
        parts.get("stt"),
        parts.get("llm"),
        parts.get("tts"),
        cost.discarded,
        json.dumps(list(cost.unpriced)) if cost.unpriced else None,
        parts.get("realtime"),
    )


def component_rows(turn: Turn, *, capture_content: bool) -> list[tuple[Any, ...]]:
    call_id, index = turn.call_id, turn.index
    rows: list[tuple[Any, ...]] = [
        (
            call_id, index, *_REQUEST_IDS(r), None, *_REQUEST_TIMES(r), int(r.cancelled),
            int(r.discarded), *_REQUEST_USAGE(r), int(r.streamed), None, None,
            r.output if capture_content else None, r.input if capture_content else None,
            *_REQUEST_COSTS(r),
            suspect_json(r.suspect) if r.suspect else None,
            unknown_json(r.unknown) if r.unknown else None,
        )
        for r in turn.requests
    ]  # fmt: skip
    rows += [
        (
            call_id, index, "tool", t.call_id, t.name, None, None, t.started_at,
            t.ended_at, _tool_duration(t),
            None, None, 0, 0, 0, 0, 0, 0, 0, 0, None, 0, None, None, 0, t.status,
            t.arguments if capture_content else None, t.output if capture_content else None,
            None, None, 0, 0, 0, None, None,
        )
        for t in turn.tools
    ]  # fmt: skip
    return rows


# a request's columns that are its fields as they are, in the order of _COMPONENT_COLUMNS
_REQUEST_IDS = attrgetter("kind", "request_id")
_REQUEST_TIMES = attrgetter(
    "provider", "model", "started_at", "ended_at", "duration", "ttft", "ttfb"
)
_REQUEST_USAGE = attrgetter(
    "prompt_tokens", "cached_tokens", "cache_creation_tokens", "completion_tokens",
    "reasoning_tokens", "total_tokens", "tokens_per_second", "characters", "audio_duration",
    "metered_audio",
)  # fmt: skip
_REQUEST_COSTS = attrgetter(
    "cost_usd", "input_audio_tokens", "cached_audio_tokens", "output_audio_tokens"
)


def _tool_duration(tool: ToolRecord) -> float | None:
    """How long a tool ran; None when its end is unknown or (events out of order) before its
    start: no stored duration is negative."""
    if tool.ended_at is None or tool.ended_at < tool.started_at:
        return None
    return tool.ended_at - tool.started_at


def event_rows(call: Call) -> list[tuple[Any, ...]]:
    """The call's own errors (those that hit no turn), false interruptions and handoffs
    (``detail`` the new agent, ``message`` the one before). Its state changes are columns of
    its ``calls`` row (``states_json``)."""
    rows: list[tuple[Any, ...]] = []
    rows += [
        (call.call_id, None, e.at, "error", e.component, e.error_type, e.message,
         int(e.recoverable), e.request_id)
        for e in call.errors
    ]  # fmt: skip
    rows += [
        (call.call_id, None, at, "false_interruption", None,
         "resumed" if resumed else "not_resumed", None, None, None)
        for at, resumed in call.false_interruptions
    ]  # fmt: skip
    rows += [
        (call.call_id, None, at, "handoff", None, new, old, None, None)
        for at, old, new in call.handoffs
    ]
    return rows


def turn_error_rows(turn: Turn, *, capture_content: bool = True) -> list[tuple[Any, ...]]:
    return [
        (turn.call_id, turn.index, e.at, "error", e.component, e.error_type,
         e.message_shown(capture=capture_content), int(e.recoverable), e.request_id)
        for e in turn.errors
    ]  # fmt: skip
