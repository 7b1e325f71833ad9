"""Records: what the recorder emits and every sink consumes.

A ``Turn`` is emitted once, complete, when LiveKit's speech handle has finished (plus a short
grace for late metrics); a ``Call`` once at session close. Times are wall-clock seconds since
the epoch; durations are seconds. A number the framework did not report is ``None``, never 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "MODEL_KINDS",
    "Breakdown",
    "Call",
    "CallContext",
    "CallCost",
    "CallSummary",
    "ComponentRequest",
    "ErrorRecord",
    "InputModality",
    "MetadataValue",
    "Outcome",
    "Suspect",
    "ToolRecord",
    "Turn",
    "TurnCost",
    "TurnSource",
    "Unknown",
]

Outcome = Literal["answered", "interrupted", "superseded", "no_reply", "failed"]
"""How a turn ended: the reply played in full, was cut off while playing, was cancelled
before its first audio (``superseded``: the user went on talking, so LiveKit dropped it for
a newer turn; nothing was cut off), was never produced (the agent chose not to answer, or
the turn was dropped before a speech), or failed (an error dropped it).
"""


TurnSource = Literal["user", "say", "generate_reply", "none"]

InputModality = Literal["audio", "text"]

MODEL_KINDS = ("llm", "realtime")
"""Request kinds that are the model answering: their tokens, TTFT and cost count alike."""


@dataclass(frozen=True, slots=True)
class Suspect:
    """A value the framework reported that cannot be true (``recording/plausibility.py``
    says why). The record's own field holds ``None`` instead, so the value stays out of
    percentiles, budgets, scores and metrics; here it is kept, raw, to be shown."""

    field: str
    """The record's field it would have filled (``e2e``, ``heard_seconds``, …)."""
    reason: str
    """``negative``, ``implausible``, ``contradictory`` or ``over_metered``."""
    value: float
    """What was reported (seconds, tokens or USD, as the field)."""


Unknown = tuple[str, str]
"""(field, reason): a field that holds no measurement, and why — ``cancelled``,
``not_reported``, ``not_measured``, ``unpriced`` or ``not_reported_by_livekit`` (the installed
LiveKit version has no such field: docs/livekit-versions.md). A count the store must keep as 0 (its
column allows no NULL) is not a measurement when it is named here."""


@dataclass(frozen=True, slots=True)
class ComponentRequest:
    """One STT, LLM, TTS or realtime-model request, as it counts for this turn.

    A realtime response counts its tokens like an LLM request does (``prompt_tokens`` is
    its input, ``completion_tokens`` its output), with the audio and cached-audio parts.
    """

    kind: Literal["stt", "llm", "tts", "realtime"]
    request_id: str
    provider: str | None
    model: str | None
    started_at: float
    ended_at: float
    first_output_at: float | None = None
    """First token (LLM) or first audio byte (TTS)."""
    ttft: float | None = None
    ttfb: float | None = None
    duration: float | None = None
    cancelled: bool = False
    discarded: bool = False
    """Belonged to a discarded preemptive attempt folded into this turn."""
    prompt_tokens: int = 0
    cached_tokens: int = 0
    cache_creation_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    total_tokens: int = 0
    tokens_per_second: float | None = None
    input_audio_tokens: int = 0
    """Of ``prompt_tokens``, those that were audio (realtime models)."""
    cached_audio_tokens: int = 0
    output_audio_tokens: int = 0
    """Of ``completion_tokens``, those that were audio (realtime models)."""
    characters: int = 0
    audio_duration: float = 0.0
    """Audio synthesized (TTS), or this turn's prorated share of metered audio (STT)."""
    metered_audio: float = 0.0
    """STT: the whole usage report's audio, of which ``audio_duration`` is this turn's share."""
    streamed: bool = False
    input: str | None = None
    """LLM: the chat context the request was sent (JSON), when content capture is on."""
    input_truncated: bool = False
    render_input: Callable[[], tuple[str, bool]] | None = field(
        default=None, compare=False, repr=False
    )
    """LLM: renders ``input`` and ``input_truncated``; kept unrendered until the turn is
    delivered, so the encoding happens off the agent's event loop."""
    output: str | None = None
    """LLM: what the request produced — its text, or the tool calls it made (JSON)."""
    parameters: tuple[tuple[str, float], ...] = ()
    """LLM: request parameters the plugin exposes (temperature, max tokens, …)."""
    tools_offered: tuple[str, ...] = ()
    segment_id: str | None = None
    """TTS: the segment a streaming synthesis belonged to."""
    cost_usd: float | None = None
    """What this request cost; None before pricing, or when its model has no known price."""
    cost_details: tuple[tuple[str, float], ...] = ()
    """The cost split (``input``, ``output``, ``total``), as Langfuse's cost_details."""
    unpriced: bool = False
    unknown: tuple[Unknown, ...] = ()
    """Fields of this request that hold no measurement (e.g. the tokens of a request
    cancelled before its usage arrived), and why."""
    suspect: tuple[Suspect, ...] = ()


@dataclass(frozen=True, slots=True)
class ToolRecord:
    call_id: str
    name: str
    arguments: str
    started_at: float
    ended_at: float | None
    status: Literal["done", "error", "cancelled", "unknown"]
    output: str | None


@dataclass(frozen=True, slots=True)
class ErrorRecord:
    at: float
    component: str
    error_type: str
    message: str
    recoverable: bool
    request_id: str | None = None
    """The request it hit, when one could be found."""
    content: bool = False
    """The message is what the conversation produced (a failed tool's output, which may
    hold the caller's words), not a provider's error text: left out where content capture
    is off, as the tool's own output is (``message_shown``)."""

    def message_shown(self, *, capture: bool) -> str:
        """The message as a sink may keep it: with capture off, a content message is
        replaced by a note saying so."""
        if self.content and not capture:
            return "(not captured: content capture is off)"
        return self.message


@dataclass(frozen=True, slots=True)
class TurnCost:
    """USD of a turn's priced requests; what could not be priced is listed, not counted."""

    total: float | None
    """None when no request could be priced (never a $0 that looks like a price)."""
    by_component: tuple[tuple[str, float], ...]
    discarded: float
    """Part of the total spent on discarded preemptive attempts."""
    unpriced: tuple[str, ...]
    """``kind:provider/model`` of the requests that have no known price."""
    uncounted: tuple[str, ...] = ()
    """``kind:provider/model (reason)`` of requests whose usage is not known (cancelled,
    not reported, contradictory): not counted either."""


@dataclass(frozen=True, slots=True)
class CallCost:
    total: float | None
    """None when nothing in the call could be priced."""
    by_component: tuple[tuple[str, float], ...]
    by_model: tuple[tuple[str, float], ...]
    idle_stt: float | None
    """STT audio metered outside every user turn (silence, noise); None if unpriced."""
    unpriced: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CallSummary:
    """The call at a glance: engagement, interruptions, errors and state (issue: phase 3)."""

    turns: int
    duration: float
    e2e_p50: float | None
    e2e_p95: float | None
    e2e_max: float | None
    interruptions: int
    """Turns whose reply the user cut off while it played (``superseded`` replies, cancelled
    before any audio, are not interruptions)."""
    interruption_rate: float | None
    """Interruptions per reply that reached the caller's ears: both counts are of replies
    that played."""
    false_interruptions: int
    """Noise that paused the agent, which then resumed (or not: see resumed)."""
    false_interruptions_resumed: int
    errors_by_component: tuple[tuple[str, int], ...]
    unrecoverable_errors: int
    user_time_in_state: tuple[tuple[str, float], ...]
    agent_time_in_state: tuple[tuple[str, float], ...]
    away_episodes: tuple[tuple[float, float], ...]
    """(start, end) of each time the user was away."""
    time_to_first_greeting: float | None
    """Session start → first audio of the greeting: None unless the call opened with the
    agent speaking on its own (its first turn answered no user), or if that never played."""
    suspect_values: int = 0
    """Values of the call's turns flagged suspect: kept out of the percentiles above."""


@dataclass(frozen=True, slots=True)
class Breakdown:
    """The response latency (``e2e``) split into consecutive parts of one timeline.

    ``other`` is what the parts do not explain (e2e minus their sum). With preemptive
    generation the reply starts before the turn is committed; that overlap is reported as
    ``preemptive_overlap`` (zero or negative), never hidden. ``previous_turn_wait`` is the
    time the committed turn waited for the previous one (its ``on_user_turn_completed``
    still running, or its reply being stopped) before this turn's callback could run.
    ``tts_retry`` is the time lost to failed attempts when the TTS request that spoke first
    was retried (its start → its last recoverable error); ``tts_first_byte`` keeps the
    backoff and the first byte of the attempt that worked.
    """

    endpointing: float | None
    previous_turn_wait: float | None
    turn_callback: float | None
    tool_steps: float | None
    llm_first_token: float | None
    sentence_aggregation: float | None
    tts_first_byte: float | None
    tts_retry: float | None
    queue_wait: float | None
    playback: float | None
    preemptive_overlap: float
    other: float

    PARTS = (
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

    def explained(self) -> float:
        """The sum of every part but ``other``."""
        total = 0.0
        for name in self.PARTS[:-1]:
            value = getattr(self, name)
            total += value or 0.0
        return total


@dataclass(frozen=True, slots=True)
class Turn:
    """One agent reply (one LiveKit speech) with the user utterance that triggered it."""

    call_id: str
    index: int
    """1-based, in the order turns began."""
    speech_id: str | None
    """None for a user utterance that got no speech at all."""
    source: TurnSource
    """``user``: a reply to the user's speech; ``say``/``generate_reply``: the agent spoke on
    its own (greeting, announcement); ``none``: no reply."""
    outcome: Outcome
    started_at: float
    ended_at: float
    user_text: str | None = None
    user_started_at: float | None = None
    user_stopped_at: float | None = None
    agent_text: str | None = None
    agent_messages: tuple[str, ...] = ()
    agent_started_at: float | None = None
    agent_stopped_at: float | None = None
    interrupted: bool = False
    preemptive: bool = False
    """The reply was generated preemptively (the LLM started before the turn was committed)."""
    discarded_attempts: int = 0
    e2e: float | None = None
    """Server-side response latency: end of user speech → first agent audio handed to the
    output. Excludes the network and the caller's jitter buffer."""
    breakdown: Breakdown | None = None
    total_latency: float | None = None
    """end_of_utterance_delay + first LLM ttft + first TTS ttfb (the requirements' formula)."""
    transcription_delay: float | None = None
    end_of_utterance_delay: float | None = None
    eou_detector: str | None = None
    """What decided the user's turn was over: ``vad``, ``stt``, or a turn-detector model."""
    agent_name: str | None = None
    """The agent (its LiveKit id) that was active when the reply was created."""
    requests: tuple[ComponentRequest, ...] = ()
    tools: tuple[ToolRecord, ...] = ()
    errors: tuple[ErrorRecord, ...] = ()
    cost: TurnCost | None = None
    heard_seconds: float | None = None
    """For an interrupted reply: how long it played before the user cut in."""
    input_modality: InputModality | None = None
    """How the user's input came, spoken or typed; None when the turn answered no input."""
    handoff_to: str | None = None
    """The agent the session handed over to during this turn (a tool returned it)."""
    suspect: tuple[Suspect, ...] = ()
    """Values LiveKit reported for this turn that cannot be true, kept raw; the field each
    would have filled is None."""
    unknown: tuple[Unknown, ...] = ()
    """Fields of this turn that hold no measurement, and why."""
    answered_by: str | None = None
    """The speech whose audio answered the user, when it was not this turn's own: a
    ``session.say()`` or ``generate_reply()`` from a tool, or a new agent speaking first
    after a handoff. ``e2e`` and the breakdown then run to that speech's first audio (that
    speech is a turn of its own, with no e2e, so the wait counts once)."""

    @property
    def realtime(self) -> bool:
        """Answered by a speech-to-speech model rather than STT → LLM → TTS."""
        return any(r.kind == "realtime" for r in self.requests)

    def with_inputs_rendered(self) -> Turn:
        """The turn with what each LLM request was sent rendered (see ``render_input``)."""
        if not any(r.render_input is not None for r in self.requests):
            return self
        return replace(self, requests=tuple(_rendered(r) for r in self.requests))

    def first_request(self, kind: str) -> ComponentRequest | None:
        """The turn's first request of a kind (discarded preemptive attempts aside)."""
        own = [r for r in self.requests if r.kind == kind and not r.discarded]
        return min(own, key=lambda r: r.started_at) if own else None

    def first_model_request(self) -> ComponentRequest | None:
        """The turn's first LLM request, or its first realtime response if it had no LLM."""
        return self.first_request("llm") or self.first_request("realtime")


@dataclass(frozen=True, slots=True)
class Call:
    """A whole session, emitted once at close."""

    call_id: str
    started_at: float
    ended_at: float
    turns: int
    close_reason: str | None
    close_error: str | None
    idle_stt_audio: float
    """Metered STT audio (silence, noise) that fell in no user turn."""
    stt_audio: float
    errors: tuple[ErrorRecord, ...] = ()
    """Errors that hit no turn."""
    late_events: int = 0
    """Events that arrived after the turn they belonged to was emitted, or after close."""
    unattributed_requests: int = 0
    """LLM/TTS requests that named no speech, or a discarded attempt with no successor."""
    dropped_events: int = 0
    """Events the adapter could not hand over (full queue, bad input)."""
    user_states: tuple[tuple[float, str], ...] = field(default=())
    agent_states: tuple[tuple[float, str], ...] = field(default=())
    false_interruptions: tuple[tuple[float, bool], ...] = field(default=())
    stt_by_model: tuple[tuple[str | None, str | None, float, float], ...] = ()
    """(provider, model, metered seconds, idle seconds) per STT model."""
    cost: CallCost | None = None
    summary: CallSummary | None = None
    handoffs: tuple[tuple[float, str, str], ...] = ()
    """(when, from, to) of every switch of agent during the call."""
    suspect: tuple[Suspect, ...] = ()
    """Call-level values that cannot be true: STT audio metered beyond the call's own
    duration (``stt_audio``, ``over_metered``), a close time before the last event seen."""
    unknown: tuple[Unknown, ...] = ()
    stt_duplicates: int = 0
    """STT usage reports dropped as a repeat of audio already counted."""
    joined_late: bool = False
    """``instrument()`` was called after ``session.start()``: the call is recorded from
    then on (``started_at`` is that moment); a turn already in flight is not recorded."""


def _rendered(request: ComponentRequest) -> ComponentRequest:
    if request.render_input is None:
        return request
    text, truncated = request.render_input()
    return replace(request, input=text, input_truncated=truncated, render_input=None)


# -- who and what a call is: the identity every sink stamps on what it writes ----------

MetadataValue = str | int | float | bool


@dataclass(frozen=True)
class CallContext:
    call_id: str
    """Unique per call: the LiveKit job id when there is one, else a random id."""
    session_id: str
    """Groups the call's traces (the Langfuse session); defaults to ``call_id``."""
    user_id: str | None = None
    trace_name: str | None = None
    tags: tuple[str, ...] = ()
    metadata: Mapping[str, MetadataValue] = field(default_factory=dict)
    prompt_name: str | None = None
    """A Langfuse prompt the LLM generations are linked to."""
    prompt_version: int | None = None
    room: str | None = None
    """The name of the LiveKit room the session runs in (``session.room_io.room.name``),
    set once the session has started in a connected room; None without a room (console or
    text mode, a session started with no ``room``) and until the room is known."""
