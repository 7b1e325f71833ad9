"""Every span attribute name turnscope emits, in one place.

Three families: the OpenTelemetry GenAI conventions (``gen_ai.*``) for any backend; the keys
Langfuse really reads (``langfuse.*``, ``session.id``, ``user.id`` — see the research notes:
``langfuse.trace.userId``, ``langfuse.usage.*``, ``langfuse.cost.total`` and
``langfuse.model`` are *not* among them); and our own numbers under ``voice.*``, numeric and
in seconds unless the name says otherwise.
"""

from __future__ import annotations

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.semconv.attributes import error_attributes

# -- trace context (on every span) -----------------------------------------------------------
SESSION_ID = "session.id"
USER_ID = "user.id"
CONVERSATION_ID = gen_ai.GEN_AI_CONVERSATION_ID
TRACE_NAME = "langfuse.trace.name"
TRACE_TAGS = "langfuse.trace.tags"
TRACE_METADATA = "langfuse.trace.metadata"
"""Prefix: ``langfuse.trace.metadata.<key>`` per metadata entry."""
ROOM = f"{TRACE_METADATA}.room"
"""The LiveKit room the call ran in (``CallContext.room``), as trace metadata ``room``; a
``room`` of the user's own metadata takes its place."""
ENVIRONMENT = "langfuse.environment"
RELEASE = "langfuse.release"

# -- Langfuse observation fields ---------------------------------------------------------------
OBSERVATION_TYPE = "langfuse.observation.type"
OBSERVATION_INPUT = "langfuse.observation.input"
OBSERVATION_OUTPUT = "langfuse.observation.output"
OBSERVATION_LEVEL = "langfuse.observation.level"
OBSERVATION_STATUS_MESSAGE = "langfuse.observation.status_message"
OBSERVATION_MODEL = "langfuse.observation.model.name"
OBSERVATION_MODEL_PARAMETERS = "langfuse.observation.model.parameters"
OBSERVATION_USAGE = "langfuse.observation.usage_details"
OBSERVATION_COST = "langfuse.observation.cost_details"
OBSERVATION_COMPLETION_START = "langfuse.observation.completion_start_time"
OBSERVATION_PROMPT_NAME = "langfuse.observation.prompt.name"
OBSERVATION_PROMPT_VERSION = "langfuse.observation.prompt.version"

# -- GenAI conventions --------------------------------------------------------------------
OPERATION = gen_ai.GEN_AI_OPERATION_NAME
PROVIDER = gen_ai.GEN_AI_PROVIDER_NAME
REQUEST_MODEL = gen_ai.GEN_AI_REQUEST_MODEL
REQUEST_TEMPERATURE = gen_ai.GEN_AI_REQUEST_TEMPERATURE
REQUEST_MAX_TOKENS = gen_ai.GEN_AI_REQUEST_MAX_TOKENS
RESPONSE_ID = gen_ai.GEN_AI_RESPONSE_ID
TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk"
INPUT_TOKENS = gen_ai.GEN_AI_USAGE_INPUT_TOKENS
OUTPUT_TOKENS = gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS
CACHE_READ_TOKENS = "gen_ai.usage.cache_read.input_tokens"
CACHE_CREATION_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
REASONING_TOKENS = "gen_ai.usage.reasoning.output_tokens"
TOOL_NAME = gen_ai.GEN_AI_TOOL_NAME
TOOL_CALL_ID = gen_ai.GEN_AI_TOOL_CALL_ID
TOOL_ARGUMENTS = "gen_ai.tool.call.arguments"
TOOL_RESULT = "gen_ai.tool.call.result"

# -- ours -----------------------------------------------------------------------------------
CALL_ID = "voice.call.id"
TURN_INDEX = "voice.turn.index"
TURN_SPEECH_ID = "voice.turn.speech_id"
TURN_SOURCE = "voice.turn.source"
TURN_OUTCOME = "voice.turn.outcome"
TURN_INTERRUPTED = "voice.turn.interrupted"
TURN_PREEMPTIVE = "voice.turn.preemptive"
TURN_DISCARDED_ATTEMPTS = "voice.turn.discarded_attempts"
TURN_TOOLS = "voice.turn.tools"
TURN_AGENT = "voice.turn.agent"
AGENT_NAME = gen_ai.GEN_AI_AGENT_NAME
EOU_DETECTOR = "voice.eou.detector"
E2E = "voice.e2e"
"""Server-side response latency: end of user speech → first agent audio (seconds)."""
TOTAL_LATENCY = "voice.total_latency"
BREAKDOWN = "voice.breakdown"
"""Prefix: ``voice.breakdown.<part>`` per part of the e2e breakdown."""
EOU_DELAY = "voice.eou.end_of_utterance_delay"
TRANSCRIPTION_DELAY = "voice.eou.transcription_delay"
TURN_CALLBACK_DELAY = "voice.eou.on_user_turn_completed_delay"

LLM_TTFT = "voice.llm.ttft"
LLM_DURATION = "voice.llm.duration"
LLM_TOKENS_PER_SECOND = "voice.llm.tokens_per_second"
LLM_PROMPT_TOKENS = "voice.llm.prompt_tokens"
LLM_COMPLETION_TOKENS = "voice.llm.completion_tokens"
LLM_CACHED_TOKENS = "voice.llm.cached_tokens"
LLM_CACHE_CREATION_TOKENS = "voice.llm.cache_creation_tokens"
LLM_TOTAL_TOKENS = "voice.llm.total_tokens"
LLM_CANCELLED = "voice.llm.cancelled"
LLM_TOOLS_OFFERED = "voice.llm.tools_offered"
LLM_INPUT_TRUNCATED = "voice.llm.input_truncated"
"""The input shown is the newest part of the chat context: the whole was too long."""
REQUEST_DISCARDED = "voice.request.discarded"
"""The request belonged to a discarded preemptive attempt folded into this turn."""

STT_AUDIO_DURATION = "voice.stt.audio_duration"
"""This turn's share of the metered audio (seconds)."""
STT_METERED_AUDIO = "voice.stt.metered_audio"
STT_DURATION = "voice.stt.duration"
STT_STREAMED = "voice.stt.streamed"

TTS_TTFB = "voice.tts.ttfb"
TTS_DURATION = "voice.tts.duration"
TTS_AUDIO_DURATION = "voice.tts.audio_duration"
TTS_CHARACTERS = "voice.tts.characters"
TTS_STREAMED = "voice.tts.streamed"
TTS_CANCELLED = "voice.tts.cancelled"
TTS_SEGMENT_ID = "voice.tts.segment_id"

COST_USD = "voice.cost.usd"
"""What a request cost (leaf generations; Langfuse gets it as cost_details)."""
COST_UNPRICED = "voice.cost.unpriced"
TURN_COST = "voice.turn.cost_usd"
TURN_COST_PART = "voice.turn.cost"
"""Prefix: ``voice.turn.cost.<stt|llm|tts|discarded>``."""
TURN_UNPRICED = "voice.turn.unpriced"
CALL_COST = "voice.call.cost_usd"
CALL_COST_PART = "voice.call.cost"
"""Prefix: ``voice.call.cost.<stt|llm|tts|idle_stt>``."""
CALL_UNPRICED = "voice.call.unpriced"

CALL_INTERRUPTIONS = "voice.call.interruptions"
CALL_INTERRUPTION_RATE = "voice.call.interruption_rate"
CALL_FALSE_INTERRUPTIONS = "voice.call.false_interruptions"
CALL_FALSE_INTERRUPTIONS_RESUMED = "voice.call.false_interruptions_resumed"
CALL_ERRORS = "voice.call.errors"
"""Prefix: ``voice.call.errors.<component>`` counts."""
CALL_UNRECOVERABLE_ERRORS = "voice.call.unrecoverable_errors"
CALL_USER_STATE = "voice.call.user_time_in_state"
"""Prefix: seconds per user state (speaking, listening, away)."""
CALL_AGENT_STATE = "voice.call.agent_time_in_state"
CALL_AWAY_EPISODES = "voice.call.away_episodes"
CALL_FIRST_GREETING = "voice.call.time_to_first_greeting"
AWAY_DURATION = "voice.away.duration"
FALSE_INTERRUPTION_RESUMED = "voice.false_interruption.resumed"
TURN_INPUT_MODALITY = "voice.turn.input_modality"
"""How the user's input came: ``audio`` (spoken) or ``text`` (typed)."""
TURN_HANDOFF_TO = "voice.turn.handoff_to"
"""The agent the session handed over to during the turn."""
TURN_ANSWERED_BY = "voice.turn.answered_by"
"""The speech whose audio answered the user, when it was not the turn's own."""
HANDOFF_FROM = "voice.handoff.from"
HANDOFF_TO = "voice.handoff.to"
CALL_HANDOFFS = "voice.call.handoffs"
REALTIME_TTFT = "voice.realtime.ttft"
REALTIME_DURATION = "voice.realtime.duration"
REALTIME_INPUT_AUDIO_TOKENS = "voice.realtime.input_audio_tokens"
REALTIME_CACHED_AUDIO_TOKENS = "voice.realtime.cached_audio_tokens"
REALTIME_OUTPUT_AUDIO_TOKENS = "voice.realtime.output_audio_tokens"
REALTIME_CANCELLED = "voice.realtime.cancelled"
TURN_HEARD = "voice.turn.heard_seconds"
"""An interrupted reply: how long it played before the user cut in."""

CALL_TURNS = "voice.call.turns"
CALL_JOINED_LATE = "voice.call.joined_late"
"""True when turnscope was attached after the session started: recorded from then on."""
CALL_DURATION = "voice.call.duration"
CALL_CLOSE_REASON = "voice.call.close_reason"
CALL_E2E_P50 = "voice.call.e2e_p50"
CALL_E2E_P95 = "voice.call.e2e_p95"
CALL_E2E_MAX = "voice.call.e2e_max"
CALL_STT_AUDIO = "voice.call.stt_audio"
CALL_IDLE_STT_AUDIO = "voice.call.idle_stt_audio"

# -- data quality (recording/plausibility.py) ---------------------------------------------
TURN_SUSPECT = "voice.turn.suspect"
"""``field:reason`` of each value LiveKit reported for the turn that cannot be true (its own
attribute is left out, so no backend averages it)."""
TURN_SUSPECT_VALUE = "voice.turn.suspect_value"
"""Prefix: ``voice.turn.suspect_value.<field>`` = the raw value that was flagged."""
TURN_UNKNOWN = "voice.turn.unknown"
"""``field:reason`` of each turn field that holds no measurement (not measured, cancelled…)."""
REQUEST_SUSPECT = "voice.request.suspect"
REQUEST_SUSPECT_VALUE = "voice.request.suspect_value"
"""Prefix: ``voice.request.suspect_value.<field>`` = the raw value that was flagged."""
REQUEST_UNKNOWN = "voice.request.unknown"
"""``field:reason``: e.g. ``prompt_tokens:cancelled`` (the usage attributes are left out)."""
CALL_SUSPECT = "voice.call.suspect"
CALL_SUSPECT_VALUE = "voice.call.suspect_value"
"""Prefix: ``voice.call.suspect_value.<field>`` = the raw value that was flagged."""
CALL_UNKNOWN = "voice.call.unknown"
CALL_SUSPECT_VALUES = "voice.call.suspect_values"
"""How many values of the call's turns were flagged suspect (kept out of the percentiles)."""
CALL_STT_REPEATED = "voice.call.stt_repeated_reports"
"""STT usage reports dropped or trimmed because they repeated audio already counted."""

# -- errors (on the span the error hit) -----------------------------------------------------
ERROR_TYPE = error_attributes.ERROR_TYPE
"""OpenTelemetry's ``error.type``: the exception class (``APITimeoutError``, …)."""
ERROR_MESSAGE = "voice.error.message"
ERROR_COMPONENT = "voice.error.component"
"""``stt``, ``llm``, ``tts``, ``realtime`` or ``other``."""
ERROR_RECOVERABLE = "voice.error.recoverable"
"""True when LiveKit retried after it (the level is then WARNING, else ERROR)."""
