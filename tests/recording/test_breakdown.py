"""The breakdown on fixed timelines: each part where DESIGN §4 puts it."""

from __future__ import annotations

import pytest

from turnscope.events import AgentMessage, EndOfTurn, LLMRequest, TTSRequest, UserMessage
from turnscope.recording.breakdown import breakdown, total_latency

STOP = 1000.0
"""The user stops speaking."""


def user(*, endpointing: float = 0.5, callback: float = 0.01) -> UserMessage:
    return UserMessage(STOP, "u", "hi", STOP - 1.0, STOP, 0.2, endpointing, callback)


def reply(first_audio: float, *, ttft: float, ttfs: float | None, ttfb: float) -> AgentMessage:
    return AgentMessage(
        first_audio,
        "a",
        "hello",
        False,
        first_audio,
        first_audio + 1,
        ttft,
        ttfs,
        ttfb,
        0.002,
        first_audio - STOP,
    )


def llm(start: float, duration: float, ttft: float) -> LLMRequest:
    return LLMRequest(
        start + duration,
        f"r{start}",
        "s",
        "openai",
        "m",
        duration,
        ttft,
        False,
        100,
        0,
        0,
        10,
        0,
        110,
        40.0,
    )


def test_plain_turn_is_consecutive_parts() -> None:
    committed = STOP + 0.51
    first_audio = committed + 0.3 + 0.05 + 0.12 + 0.002
    parts = breakdown(
        e2e=first_audio - STOP,
        user=user(),
        reply=reply(first_audio, ttft=0.3, ttfs=0.35, ttfb=0.12),
        llm=[llm(committed, 0.6, 0.3)],
        queue_wait=0.001,
        created_at=committed,
    )
    assert parts.endpointing == 0.5
    assert parts.turn_callback == 0.01
    assert parts.tool_steps == 0
    assert parts.preemptive_overlap == 0
    assert parts.sentence_aggregation == pytest.approx(0.05)
    assert parts.queue_wait == 0  # authorized long before the audio was ready
    assert parts.other == pytest.approx(0.0, abs=1e-9)


def test_only_the_queue_wait_left_when_the_audio_was_ready_counts() -> None:
    """LiveKit generates while the speech waits to be authorized: a long wait (a busy
    scheduler) delays the audio only by what is left of it once the audio is ready."""
    committed = STOP + 0.51
    ready = committed + 0.3 + 0.05 + 0.12
    authorized = ready + 0.08
    first_audio = authorized + 0.002
    parts = breakdown(
        e2e=first_audio - STOP,
        user=user(),
        reply=reply(first_audio, ttft=0.3, ttfs=0.35, ttfb=0.12),
        llm=[llm(committed, 0.6, 0.3)],
        queue_wait=authorized - committed,
        created_at=committed,
    )
    assert parts.queue_wait == pytest.approx(0.08)
    assert parts.other == pytest.approx(0.0, abs=1e-9)


def test_tool_steps_run_from_the_first_request_to_the_speaking_one() -> None:
    committed = STOP + 0.51
    step2 = committed + 0.4 + 0.25  # first request 0.4 s, then the tool 0.25 s
    first_audio = step2 + 0.3 + 0.05 + 0.12 + 0.002
    parts = breakdown(
        e2e=first_audio - STOP,
        user=user(),
        reply=reply(first_audio, ttft=0.3, ttfs=0.35, ttfb=0.12),
        llm=[llm(step2, 0.6, 0.3), llm(committed, 0.4, 0.35)],
        queue_wait=0.0,
    )
    assert parts.tool_steps == pytest.approx(0.65)
    assert parts.other == pytest.approx(0.0, abs=1e-9)


def test_preemptive_overlap_is_reported_negative_not_hidden() -> None:
    early = STOP + 0.2  # the LLM started 0.31 s before the turn was committed
    first_audio = STOP + 0.51 + 0.1 + 0.12 + 0.002
    parts = breakdown(
        e2e=first_audio - STOP,
        user=user(),
        reply=reply(first_audio, ttft=0.3, ttfs=0.41, ttfb=0.12),
        llm=[llm(early, 0.5, 0.3)],
        queue_wait=0.0,
    )
    assert parts.preemptive_overlap == pytest.approx(-0.31)
    assert parts.other == pytest.approx(0.0, abs=1e-9)


def test_missing_first_sentence_time_leaves_aggregation_unknown() -> None:
    first_audio = STOP + 0.51 + 0.3 + 0.12 + 0.002
    parts = breakdown(
        e2e=first_audio - STOP,
        user=user(),
        reply=reply(first_audio, ttft=0.3, ttfs=None, ttfb=0.12),
        llm=[llm(STOP + 0.51, 0.6, 0.3)],
        queue_wait=None,
    )
    assert parts.sentence_aggregation is None
    assert parts.queue_wait is None
    assert parts.other == pytest.approx(0.0, abs=1e-9)


def test_total_latency_is_null_not_zero_when_a_part_is_missing() -> None:
    eou = EndOfTurn(STOP + 0.5, "s", 0.5, 0.2, 0.01)
    tts = TTSRequest(STOP + 2, "t", "s", "cartesia", "sonic-2", 0.4, 0.12, 1.0, 20, False, False)
    request = llm(STOP + 0.51, 0.6, 0.3)
    assert total_latency(eou, [request], [tts]) == pytest.approx(0.92)
    assert total_latency(None, [request], [tts]) is None
    assert total_latency(eou, [request], []) is None
    no_token = (
        LLMRequest(**{**request.__dict__, "ttft": None}) if hasattr(request, "__dict__") else None
    )
    assert no_token is None or total_latency(eou, [no_token], [tts]) is None


def test_a_failed_tool_is_an_error_on_its_span() -> None:
    from turnscope.export.spantree import turn_plan
    from turnscope.records import ToolRecord, Turn

    tool = ToolRecord("call_1", "book", '{"day": "mon"}', STOP + 1, STOP + 1.2, "error", "no slot")
    turn = Turn("c", 1, "s", "user", "answered", STOP - 1, STOP + 3, tools=(tool,))
    (span,) = [s for s in turn_plan(turn, capture=True).walk() if s.name == "tool book"]
    assert span.error == "tool book failed"
    assert span.attributes["langfuse.observation.level"] == "ERROR"
    assert span.attributes["langfuse.observation.output"] == "no slot"


def test_the_store_has_a_column_for_every_breakdown_part() -> None:
    """Migration 1 lists the parts as they were; a new part needs a new migration."""
    from turnscope.records import Breakdown
    from turnscope.store.migrations import BREAKDOWN_COLUMNS

    assert tuple(BREAKDOWN_COLUMNS) == Breakdown.PARTS


def test_a_reply_without_an_llm_request_overlaps_from_its_creation() -> None:
    """Preemptive generation by an ``llm_node`` that yields text itself: no LLM request, so
    the overlap is measured from the speech's creation."""
    created = STOP + 0.2  # 0.31 s before the turn was committed
    first_audio = STOP + 0.51 + 0.1 + 0.12 + 0.002
    parts = breakdown(
        e2e=first_audio - STOP,
        user=user(),
        reply=reply(first_audio, ttft=0.3, ttfs=0.41, ttfb=0.12),
        llm=[],
        queue_wait=0.0,
        created_at=created,
    )
    assert parts.preemptive_overlap == pytest.approx(-0.31)
    assert parts.previous_turn_wait == 0
    assert parts.other == pytest.approx(0.0, abs=1e-9)


def test_a_turn_that_waited_for_the_previous_callback_names_the_wait() -> None:
    committed = STOP + 0.51
    created = committed + 0.8  # the previous turn's on_user_turn_completed ran on
    first_audio = created + 0.3 + 0.05 + 0.12 + 0.002
    parts = breakdown(
        e2e=first_audio - STOP,
        user=user(),
        reply=reply(first_audio, ttft=0.3, ttfs=0.35, ttfb=0.12),
        llm=[llm(created, 0.6, 0.3)],
        queue_wait=0.0,
        created_at=created,
    )
    assert parts.previous_turn_wait == pytest.approx(0.8)
    assert parts.preemptive_overlap == 0
    assert parts.other == pytest.approx(0.0, abs=1e-9)
