"""The store's schema, as numbered migrations. Never edit one that has shipped: add another.

Turns keep the latency breakdown as numeric columns (seconds), so reports and budgets are
plain SQL over them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable

__all__ = ["AFTER", "BREAKDOWN_COLUMNS", "MIGRATIONS"]

BREAKDOWN_COLUMNS = (
    "endpointing",
    "previous_turn_wait",
    "turn_callback",
    "tool_steps",
    "llm_first_token",
    "sentence_aggregation",
    "tts_first_byte",
    "tts_retry",
    "queue_wait",
    "playback",
    "preemptive_overlap",
    "other",
)
"""Every part of the breakdown, one REAL column of ``turns`` each, in timeline order (the
migration that added a part says so; Breakdown.PARTS is pinned to this by a test)."""

_V1_BREAKDOWN_COLUMNS = (
    "endpointing",
    "turn_callback",
    "tool_steps",
    "llm_first_token",
    "sentence_aggregation",
    "tts_first_byte",
    "queue_wait",
    "playback",
    "preemptive_overlap",
    "other",
)
"""The parts migration 1 created, frozen: a shipped migration never changes."""

_V1 = f"""
CREATE TABLE calls (
    call_id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    user_id TEXT,
    trace_name TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    metadata TEXT NOT NULL DEFAULT '{{}}',
    started_at REAL,
    ended_at REAL,
    turns INTEGER NOT NULL DEFAULT 0,
    close_reason TEXT,
    close_error TEXT,
    stt_audio REAL,
    idle_stt_audio REAL,
    late_events INTEGER NOT NULL DEFAULT 0,
    dropped_events INTEGER NOT NULL DEFAULT 0,
    unattributed_requests INTEGER NOT NULL DEFAULT 0,
    recorded_at REAL NOT NULL
);
CREATE INDEX calls_by_start ON calls (started_at);
CREATE TABLE turns (
    call_id TEXT NOT NULL,
    turn INTEGER NOT NULL,
    speech_id TEXT,
    source TEXT NOT NULL,
    outcome TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL NOT NULL,
    user_text TEXT,
    agent_text TEXT,
    user_started_at REAL,
    user_stopped_at REAL,
    agent_started_at REAL,
    agent_stopped_at REAL,
    interrupted INTEGER NOT NULL,
    preemptive INTEGER NOT NULL,
    discarded_attempts INTEGER NOT NULL,
    e2e REAL,
    {", ".join(f"{c} REAL" for c in _V1_BREAKDOWN_COLUMNS)},
    total_latency REAL,
    transcription_delay REAL,
    end_of_utterance_delay REAL,
    llm_ttft REAL,
    tts_ttfb REAL,
    prompt_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    tts_characters INTEGER NOT NULL,
    stt_audio REAL NOT NULL,
    tools INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    PRIMARY KEY (call_id, turn)
);
CREATE TABLE components (
    call_id TEXT NOT NULL,
    turn INTEGER NOT NULL,
    kind TEXT NOT NULL,
    request_id TEXT,
    name TEXT,
    provider TEXT,
    model TEXT,
    started_at REAL,
    ended_at REAL,
    duration REAL,
    ttft REAL,
    ttfb REAL,
    cancelled INTEGER NOT NULL DEFAULT 0,
    discarded INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens INTEGER NOT NULL DEFAULT 0,
    total_tokens INTEGER NOT NULL DEFAULT 0,
    tokens_per_second REAL,
    characters INTEGER NOT NULL DEFAULT 0,
    audio_duration REAL,
    metered_audio REAL,
    streamed INTEGER NOT NULL DEFAULT 0,
    status TEXT,
    arguments TEXT,
    output TEXT
);
CREATE INDEX components_by_turn ON components (call_id, turn);
CREATE TABLE events (
    call_id TEXT NOT NULL,
    turn INTEGER,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    component TEXT,
    detail TEXT,
    message TEXT,
    recoverable INTEGER,
    request_id TEXT
);
CREATE INDEX events_by_call ON events (call_id, at)
"""

_V2 = """
ALTER TABLE components ADD COLUMN input TEXT;
ALTER TABLE turns ADD COLUMN agent_name TEXT;
ALTER TABLE turns ADD COLUMN eou_detector TEXT
"""
"""2: what each LLM request was sent (its output goes in ``output``); the turn's agent and
what detected the end of the user's turn."""

_V3 = """
ALTER TABLE turns ADD COLUMN cost_usd REAL;
ALTER TABLE turns ADD COLUMN cost_stt REAL;
ALTER TABLE turns ADD COLUMN cost_llm REAL;
ALTER TABLE turns ADD COLUMN cost_tts REAL;
ALTER TABLE turns ADD COLUMN cost_discarded REAL;
ALTER TABLE turns ADD COLUMN unpriced TEXT;
ALTER TABLE components ADD COLUMN cost_usd REAL;
ALTER TABLE calls ADD COLUMN cost_usd REAL;
ALTER TABLE calls ADD COLUMN cost_idle_stt REAL;
ALTER TABLE calls ADD COLUMN cost_by_component TEXT;
ALTER TABLE calls ADD COLUMN cost_by_model TEXT;
ALTER TABLE calls ADD COLUMN unpriced TEXT
"""
"""3: cost in USD — per request, per turn (by component), per call (by component and model,
idle STT), and what could not be priced."""

_V4 = """
ALTER TABLE turns ADD COLUMN heard_seconds REAL;
ALTER TABLE calls ADD COLUMN summary TEXT
"""
"""4: how much of an interrupted reply was heard; the call summary (JSON: interruptions,
errors by component, time in each state, away episodes, time to first greeting)."""

_V5 = """
ALTER TABLE turns ADD COLUMN input_modality TEXT;
ALTER TABLE turns ADD COLUMN handoff_to TEXT;
ALTER TABLE turns ADD COLUMN cost_realtime REAL;
ALTER TABLE components ADD COLUMN input_audio_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE components ADD COLUMN cached_audio_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE components ADD COLUMN output_audio_tokens INTEGER NOT NULL DEFAULT 0
"""
"""5: realtime models, handoffs and text turns — how the user's input came (audio, text),
the agent handed over to, the realtime model's cost, and audio tokens per request."""

_V6 = """
ALTER TABLE turns ADD COLUMN suspect TEXT;
ALTER TABLE turns ADD COLUMN unknown TEXT;
ALTER TABLE components ADD COLUMN suspect TEXT;
ALTER TABLE components ADD COLUMN unknown TEXT;
ALTER TABLE calls ADD COLUMN suspect TEXT;
ALTER TABLE calls ADD COLUMN unknown TEXT;
ALTER TABLE calls ADD COLUMN stt_repeated_reports INTEGER NOT NULL DEFAULT 0
"""
"""6: data quality (``recording/plausibility.py``) — per turn, request and call, the values
flagged suspect (JSON list of ``{field, reason, value}``, the raw value; the field's own
column is NULL) and the fields that hold no measurement (JSON object field → reason); STT
usage reports that repeated audio already counted."""

_V7 = """
ALTER TABLE turns ADD COLUMN previous_turn_wait REAL;
ALTER TABLE turns ADD COLUMN tts_retry REAL;
ALTER TABLE turns ADD COLUMN answered_by TEXT;
ALTER TABLE calls ADD COLUMN joined_late INTEGER NOT NULL DEFAULT 0
"""
"""7: two parts of the breakdown — the wait for the previous turn's callback, and the time
lost to retried TTS — and the speech that answered the user when it was not the turn's own
(a tool's ``say()``/``generate_reply()``, a new agent speaking first); whether turnscope
joined the call late (``instrument()`` after ``session.start()``)."""


_V8 = """
CREATE TABLE histograms (
    metric TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    count INTEGER NOT NULL,
    low REAL NOT NULL,
    high REAL NOT NULL,
    total REAL NOT NULL,
    PRIMARY KEY (metric, bucket)
) WITHOUT ROWID;
CREATE TABLE histogram_metrics (
    metric TEXT PRIMARY KEY,
    definition TEXT NOT NULL
)
"""
"""8 (issue 21): a histogram per metric, kept by every writer in the transaction that adds
the values: ``bucket`` is the value in thousandths of its unit (ms), rounded as the reports
round; ``low``/``high`` the exact extremes in the bucket, ``total`` their sum. Which metrics
are kept, and by which definition, is in ``histogram_metrics`` (``store.histograms``)."""

_V9 = """
ALTER TABLE calls ADD COLUMN room TEXT
"""
"""9 (issue 21): the name of the LiveKit room the call ran in (``CallContext.room``), NULL
without a room (console or text mode) and for calls recorded before this migration: what
``--call`` finds a call by, after its id and its session id."""

_V10 = """
ALTER TABLE calls ADD COLUMN user_states TEXT;
ALTER TABLE calls ADD COLUMN agent_states TEXT
"""
"""10 (issue 21): a call's user and agent state changes (``Call.user_states`` /
``Call.agent_states``), one compact JSON array per call, ``[[at,state],...]`` in the order
they happened (``at`` in seconds, as recorded); NULL when the call had none, and while it is
still open. They were one ``events`` row each (kind ``user_state`` / ``agent_state``): five a turn,
a quarter of the store's bytes, and a fifth of the writer's time. ``_move_states`` moves an
older store's rows into these columns, in the same transaction."""


def _move_states(connection: sqlite3.Connection) -> None:
    """Each call's ``user_state`` / ``agent_state`` events into its new columns (their
    order kept: the order the writer inserted them), then those events deleted. In Python,
    not SQL: SQLite's JSON functions print a REAL with 15 digits, and a timestamp needs 17."""
    rows = connection.execute(
        "SELECT call_id, kind, at, detail FROM events "
        "WHERE kind IN ('user_state', 'agent_state') ORDER BY call_id, rowid"
    )
    found: dict[str, dict[str, list[tuple[float, str]]]] = {}
    for call_id, kind, at, detail in rows:
        found.setdefault(call_id, {}).setdefault(kind, []).append((at, detail))
    connection.executemany(
        "UPDATE calls SET user_states = ?, agent_states = ? WHERE call_id = ?",
        [
            (_json(kinds.get("user_state")), _json(kinds.get("agent_state")), call_id)
            for call_id, kinds in found.items()
        ],
    )
    connection.execute(
        "DELETE FROM events WHERE kind IN ('user_state', 'agent_state') "
        "AND call_id IN (SELECT call_id FROM calls)"
    )


def _json(states: list[tuple[float, str]] | None) -> str | None:
    return json.dumps(states, separators=(",", ":")) if states else None


MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9, _V10)

AFTER: dict[int, Callable[[sqlite3.Connection], None]] = {10: _move_states}
"""What a migration (by number) also does in Python once its SQL ran, in its transaction."""
