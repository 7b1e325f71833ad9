"""Under a harness that patches ``time.time`` (LiveKit's virtual-time tests do), every time
turnscope records comes from the patched clock, and each utterance is recorded once.

LiveKit itself then runs two clocks: its metrics read the patched ``time.time`` at call time,
while its events' ``created_at`` comes from the function their pydantic ``default_factory``
captured at import. The adapter reads its own clock at call time and takes an event's time
only when it agrees with that clock.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest

import turnscope
from tests.conftest import TEST_SPEED
from turnscope import simulate
from turnscope.livekit.adapter import LiveKitAdapter
from turnscope.sinks.memory import MemorySink

if TYPE_CHECKING:
    from livekit.agents import AgentSession

    from turnscope import events

SHIFT = 86_400.0
"""The patched clock runs one day ahead of the real one."""


def _raise(error: BaseException) -> None:
    raise error


async def _record_shifted(scenario: str) -> tuple[MemorySink, list[events.Event], float]:
    sink = MemorySink()
    seen: list[events.Event] = []
    handles: list[turnscope.Instrumentation] = []
    real = time.time

    def attach(session: AgentSession[Any]) -> None:
        handles.append(turnscope.instrument(session, sinks=[sink]))
        LiveKitAdapter(session, seen.append, on_internal_error=_raise).attach()

    with mock.patch("time.time", side_effect=lambda: real() + SHIFT):
        started = time.time()
        await simulate.run(scenario, on_session=attach, speed=TEST_SPEED)
        assert await handles[0].aflush(timeout=10)
    assert handles[0].internal_errors == []
    return sink, seen, started


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("basic", [("say", "answered")] + [("user", "answered")] * 3),
        ("no_reply", [("user", "answered"), ("none", "no_reply"), ("user", "answered")]),
    ],
)
def test_each_utterance_is_one_turn_under_a_patched_clock(
    scenario: str, expected: list[tuple[str, str]]
) -> None:
    sink, seen, started = asyncio.run(_record_shifted(scenario))
    assert [(t.source, t.outcome) for t in sink.turns] == expected
    assert all(t.e2e is not None and 0 < t.e2e < 5 for t in sink.turns if t.source == "user")
    # nothing carries the unpatched clock: every time is on the shifted timeline
    assert min(e.at for e in seen) >= started - 5
    (call,) = sink.calls
    assert started - 5 <= call.started_at <= call.ended_at
