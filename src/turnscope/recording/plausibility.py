"""What is unknown and what is suspect: the rules, written once (DESIGN §1, §2).

A number in a record is a measurement, or it is absent. Two kinds of absence:

- **unknown** — the framework had nothing to report and said so with a 0 (LiveKit's habit):
  the field is ``None`` (or, for a count the store keeps as 0, named) and the record lists
  ``(field, reason)`` in its ``unknown``. Reasons: ``cancelled`` (the request was cut off
  before its usage arrived), ``not_reported`` (the plugin sent no usage at all),
  ``not_measured`` (LiveKit's 0.0 for a delay it never measured) and ``unpriced`` (no price
  is known for the model).
- **suspect** — the framework reported a value that cannot be true: negative, physically
  implausible for a voice turn, contradicted by the framework's own other timestamps, or
  more STT audio than the call lasted. The field is ``None`` and the record keeps a
  ``Suspect(field, reason, raw value)`` to show.

Because the field itself is ``None``, percentiles, budgets, Langfuse scores, OTel metrics and
EMF lines leave it out with no code of their own; the store, the reports and the spans show
the reasons. Pure functions: no state, no clock.
"""

from __future__ import annotations

import math
from dataclasses import fields
from typing import TYPE_CHECKING

from turnscope.records import Suspect

if TYPE_CHECKING:
    from turnscope.events import Event
    from turnscope.records import Unknown

__all__ = [
    "CANCELLED",
    "CLOCK_NOISE",
    "CONTRADICTORY",
    "IMPLAUSIBLE",
    "MAX_VOICE_E2E",
    "NEGATIVE",
    "NOT_MEASURED",
    "NOT_REPORTED",
    "NOT_REPORTED_BY_LIVEKIT",
    "OVER_METERED",
    "REASONS",
    "TIMELINE_SLACK",
    "UNPRICED",
    "call_end",
    "check_e2e",
    "dropped_values",
    "measured_delay",
    "non_negative",
    "over_metered",
    "unreported_usage",
    "usage_contradiction",
    "user_window",
]

CANCELLED = "cancelled"
NOT_REPORTED = "not_reported"
NOT_REPORTED_BY_LIVEKIT = "not_reported_by_livekit"
NOT_MEASURED = "not_measured"
UNPRICED = "unpriced"
NEGATIVE = "negative"
IMPLAUSIBLE = "implausible"
CONTRADICTORY = "contradictory"
OVER_METERED = "over_metered"

REASONS = {
    CANCELLED: "the request was cancelled before its usage was reported",
    NOT_REPORTED: "the plugin reported no usage (LiveKit sends 0)",
    NOT_MEASURED: "LiveKit did not measure it (it sends 0.0)",
    NOT_REPORTED_BY_LIVEKIT: "this LiveKit version does not report it (it came later)",
    UNPRICED: "no price is known for the model",
    NEGATIVE: "negative: a duration, count or cost cannot be",
    IMPLAUSIBLE: "far beyond what a voice turn or the call's own timeline allows",
    CONTRADICTORY: "LiveKit's own timestamps disagree",
    OVER_METERED: "more STT audio was metered than the call lasted",
}
"""Every reason, with the one line the reports and docs show for it."""

CLOCK_NOISE = 0.002
"""Seconds. A difference of two LiveKit timestamps taken in different tasks (first token
vs. first sentence, a message's start vs. its end) can come out a hair below zero from
scheduling alone: down to -2 ms it is clamped to 0. Anything more negative is not noise."""

MAX_VOICE_E2E = 60.0
"""Seconds. No caller waits a minute of silence for a reply; LiveKit's stale end-of-speech
anchor (livekit/agents#6093) produced e2e of hundreds of seconds. Beyond this, e2e is
implausible."""

TIMELINE_SLACK = 1.0
"""Seconds. The end of speech an e2e implies (first agent audio - e2e) may precede the
user's speech window or the call's first event by VAD's backdating at most; beyond this
slack, LiveKit measured from an end of speech this turn never had."""

STT_METER_SLACK = 1.0
"""Seconds of metered STT audio allowed beyond the call's wall duration: a stream's last
report may cover audio sent moments before the first event the recorder saw."""


def non_negative(field: str, value: float | None) -> tuple[float | None, Suspect | None]:
    """A duration, count or cost that must not be negative: clamped to 0 within
    ``CLOCK_NOISE`` (scheduling noise), else None and a ``negative`` suspect."""
    if value is None or value >= 0:
        return value, None
    if value >= -CLOCK_NOISE:
        return 0.0, None
    return None, Suspect(field, NEGATIVE, value)


def measured_delay(field: str, value: float | None) -> tuple[float | None, Unknown | None]:
    """An ``EOUMetrics`` delay: LiveKit writes ``end_of_turn_delay or 0.0``, so an exact
    0.0 is its "not measured" (a realtime model's turn, an end of speech it never saw)."""
    if value == 0.0:
        return None, (field, NOT_MEASURED)
    return value, None


def unreported_usage(*, cancelled: bool, input_tokens: int, output_tokens: int) -> str | None:
    """Why a model request's token counts are not a measurement, or None when they are.

    LiveKit reports 0 input and 0 output tokens when the provider's usage chunk never came:
    the request was cancelled mid-stream (``cancelled``) or the plugin sends no usage
    (``not_reported``). No real request has an empty prompt.
    """
    if input_tokens or output_tokens:
        return None
    return CANCELLED if cancelled else NOT_REPORTED


def usage_contradiction(prompt: int, cached: int, cache_creation: int) -> Suspect | None:
    """Cached and cache-write tokens are part of the prompt: more of them than prompt
    tokens contradicts the report (and would price the request below zero)."""
    if cached + cache_creation > prompt:
        return Suspect("cached_tokens", CONTRADICTORY, float(cached + cache_creation))
    return None


def user_window(
    started: float | None, stopped: float | None
) -> tuple[tuple[float, float] | None, Suspect | None]:
    """LiveKit's speaking window for a user message, when it is one: stopping before
    starting is a contradiction (the window is then taken from VAD by the caller)."""
    if started is None or stopped is None:
        return None, None
    if stopped < started:
        return None, Suspect("user_speech", CONTRADICTORY, stopped - started)
    return (started, stopped), None


def check_e2e(
    e2e: float | None,
    *,
    first_audio_at: float | None,
    window: tuple[float, float] | None,
    call_started_at: float | None,
) -> tuple[float | None, Suspect | None]:
    """LiveKit's ``e2e_latency`` if it can be true of this turn, else None and why.

    Negative: impossible. Beyond ``MAX_VOICE_E2E``: implausible. Measured from an end of
    speech before the user's speech window began, or before the call's first event (more
    than ``TIMELINE_SLACK``): LiveKit measured from an anchor this turn never had.
    """
    if e2e is None:
        return None, None
    if e2e < 0:
        return None, Suspect("e2e", NEGATIVE, e2e)
    if e2e > MAX_VOICE_E2E:
        return None, Suspect("e2e", IMPLAUSIBLE, e2e)
    if first_audio_at is not None:
        implied_stop = first_audio_at - e2e
        if window is not None and implied_stop < window[0] - TIMELINE_SLACK:
            return None, Suspect("e2e", CONTRADICTORY, e2e)
        if call_started_at is not None and implied_stop < call_started_at - TIMELINE_SLACK:
            return None, Suspect("e2e", IMPLAUSIBLE, e2e)
    return e2e, None


def call_end(closed_at: float, last_event_at: float) -> tuple[float, Suspect | None]:
    """When the call ended: the close event's time, but never before an event the call
    already had. Up to ``TIMELINE_SLACK`` earlier is the order in which LiveKit stamped and
    emitted them; more, and the close time contradicts the call's events (flagged, raw)."""
    if closed_at >= last_event_at:
        return closed_at, None
    if closed_at >= last_event_at - TIMELINE_SLACK:
        return last_event_at, None
    return last_event_at, Suspect("ended_at", CONTRADICTORY, closed_at)


def over_metered(metered: float, wall: float) -> Suspect | None:
    """One STT model's metered audio cannot exceed the call's wall duration (a recognizer
    hears the call once); beyond ``STT_METER_SLACK`` the plugin over-reported."""
    if metered > wall + STT_METER_SLACK:
        return Suspect("stt_audio", OVER_METERED, metered)
    return None


def dropped_values(raw: Event, clean: Event) -> list[Suspect]:
    """The numbers ``events.sanitized`` could not use in an event (a plugin's negative or
    day-long duration, a negative count), each flagged with its raw value so it does not
    vanish without a reason: ``<Event>.<field>``, ``negative`` or ``implausible``. NaN,
    infinities and values of the wrong type have no value to show; they stay only dropped."""
    found = []
    for f in fields(raw):
        value, kept = getattr(raw, f.name), getattr(clean, f.name)
        if value == kept or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if math.isfinite(value):
            reason = NEGATIVE if value < 0 else IMPLAUSIBLE
            found.append(Suspect(f"{type(raw).__name__}.{f.name}", reason, float(value)))
    return found
