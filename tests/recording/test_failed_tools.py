"""A failed tool call is one recoverable error of its turn, of component ``tool``, named by
the tool and carrying its message; and the call's first greeting is the agent's only when
the agent spoke first (newcomer6, findings 1 and 5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.failed_tools import mixed_tools

if TYPE_CHECKING:
    from tests.conftest import SimulationCache


def test_each_failed_tool_of_bad_tool_calls_is_a_recoverable_tool_error(
    simulations: SimulationCache,
) -> None:
    recorded = simulations.recorded("bad_tool_calls")
    for turn in recorded.turns:
        (tool,) = turn.tools
        (error,) = turn.errors
        assert tool.status == "error"
        assert (error.component, error.error_type, error.recoverable) == ("tool", tool.name, True)
        assert error.message == tool.output
        assert error.request_id == tool.call_id
        assert turn.outcome == "answered"  # LiveKit told the model, which still replied
    assert [t.errors[0].error_type for t in recorded.turns] == ["get_wether", "get_weather"]
    summary = recorded.call.summary
    assert summary is not None
    assert dict(summary.errors_by_component) == {"tool": 2}
    assert summary.unrecoverable_errors == 0


def test_only_the_tool_that_failed_counts_beside_one_that_worked() -> None:
    recorded = mixed_tools()
    greeting, asked, bye = recorded.turns
    assert greeting.errors == ()
    assert bye.errors == ()
    assert sorted((t.name, t.status) for t in asked.tools) == [
        ("get_forecst", "error"),
        ("get_weather", "done"),
    ]
    (error,) = asked.errors
    assert (error.component, error.error_type) == ("tool", "get_forecst")
    assert "get_forecst" in error.message
    summary = recorded.call.summary
    assert summary is not None
    assert dict(summary.errors_by_component) == {"tool": 1}


def test_a_basic_call_whose_tool_worked_has_no_errors(simulations: SimulationCache) -> None:
    recorded = simulations.recorded("basic")
    assert [t.status for turn in recorded.turns for t in turn.tools] == ["done"]
    assert [e for turn in recorded.turns for e in turn.errors] == []


@pytest.mark.parametrize("scenario", ["bargein", "preemptive", "bad_tool_calls"])
def test_no_first_greeting_when_the_user_spoke_first(
    simulations: SimulationCache, scenario: str
) -> None:
    recorded = simulations.recorded(scenario)
    first = min(recorded.turns, key=lambda t: t.index)
    assert first.source == "user"
    assert any(t.agent_started_at is not None for t in recorded.turns)  # the agent did speak
    summary = recorded.call.summary
    assert summary is not None
    assert summary.time_to_first_greeting is None


def test_the_first_greeting_is_the_greeting_turns_first_audio() -> None:
    recorded = mixed_tools()
    greeting = min(recorded.turns, key=lambda t: t.index)
    assert greeting.source == "say"
    (played, *_) = recorded.simulation.truth.playbacks
    summary = recorded.call.summary
    assert summary is not None
    assert summary.time_to_first_greeting == pytest.approx(
        played.first_frame_at - recorded.call.started_at, abs=0.005
    )
