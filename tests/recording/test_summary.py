"""The call summary: exactly the errors, interruptions and away episodes a scenario injects."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from turnscope.recording.summary import time_in_state
from turnscope.store import open_for_reading

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache
    from turnscope.records import CallSummary


def summary_of(simulations: SimulationCache, name: str, **options: object) -> CallSummary:
    call = simulations.recorded(name, **options).call
    assert call.summary is not None
    return call.summary


def test_errors_by_component_with_their_flags(simulations: SimulationCache) -> None:
    summary = summary_of(simulations, "errors")
    assert dict(summary.errors_by_component) == {"llm": 1, "tts": 1}
    assert summary.unrecoverable_errors == 1
    assert summary.interruptions == 0


def test_bargein_counts_the_interruption_and_what_was_heard(simulations: SimulationCache) -> None:
    recorded = simulations.recorded("bargein")
    summary = summary_of(simulations, "bargein")
    assert summary.interruptions == 1
    assert summary.interruption_rate == pytest.approx(1 / 3)
    (cut,) = [t for t in recorded.turns if t.interrupted]
    (played,) = [p for p in recorded.simulation.truth.playbacks if p.interrupted]
    assert cut.heard_seconds == pytest.approx(played.played_seconds, abs=0.05)
    assert cut.heard_seconds is not None
    assert cut.heard_seconds < played.pushed_seconds


def test_falseint_is_a_resumed_false_interruption(simulations: SimulationCache) -> None:
    summary = summary_of(simulations, "falseint")
    assert (summary.false_interruptions, summary.false_interruptions_resumed) == (1, 1)
    assert summary.interruptions == 0


def test_away_episode_and_time_in_state_add_up(simulations: SimulationCache) -> None:
    summary = summary_of(simulations, "away")
    (episode,) = summary.away_episodes
    speed = simulations.get("away").speed
    # the caller waits 4.5 s (scaled) after the reply; away is declared after 2.5 s
    assert episode[1] - episode[0] == pytest.approx((4.5 - 2.5) / speed, abs=0.25)
    for spent in (summary.user_time_in_state, summary.agent_time_in_state):
        assert sum(seconds for _, seconds in spent) == pytest.approx(summary.duration)
    assert dict(summary.user_time_in_state)["away"] == pytest.approx(episode[1] - episode[0])


def test_time_to_first_greeting(simulations: SimulationCache) -> None:
    recorded = simulations.recorded("basic")
    summary = summary_of(simulations, "basic")
    truth = recorded.simulation.truth
    first_frame = truth.playbacks[0].first_frame_at
    assert summary.time_to_first_greeting == pytest.approx(
        first_frame - recorded.call.started_at, abs=0.005
    )
    assert summary.time_to_first_greeting is not None
    assert 0 < summary.time_to_first_greeting < 1.0


def test_time_in_state_splits_the_span_exactly() -> None:
    spent = time_in_state(
        [(2.0, "speaking"), (5.0, "listening"), (7.0, "away")], 0.0, 10.0, "listening"
    )
    assert spent == {"listening": 4.0, "speaking": 3.0, "away": 3.0}


def test_a_session_closed_by_an_error_still_delivers_its_turns_and_summary(
    simulations: SimulationCache,
) -> None:
    recorded = simulations.recorded("errors", max_unrecoverable_errors=0)
    call = recorded.call
    assert call.close_reason == "error"
    assert call.close_error is not None
    assert [t.outcome for t in recorded.turns][:2] == ["answered", "failed"]
    assert call.summary is not None
    assert call.summary.unrecoverable_errors >= 1
    assert recorded.handle.internal_errors == []


SUMMARY_LINES = {
    "errors": "errors: llm 1, tts 1 (1 unrecoverable)",
    "bargein": "interruptions 1 (33% of replies)",
    "falseint": "false interruptions 1 (1 resumed)",
    "away": "user away for",
}


@pytest.mark.parametrize("name", sorted(SUMMARY_LINES))
def test_the_summary_reaches_the_store_and_the_report(
    tmp_path: Path, simulations: SimulationCache, name: str
) -> None:
    from click.testing import CliRunner

    from tests.conftest import store_call
    from turnscope.cli import main

    recorded = simulations.recorded(name)
    path = tmp_path / "s.db"
    store_call(path, recorded)
    (raw,) = open_for_reading(path).execute("SELECT summary FROM calls").fetchone()
    stored = json.loads(raw)
    assert recorded.call.summary is not None
    assert stored["interruptions"] == recorded.call.summary.interruptions
    assert stored["errors_by_component"] == dict(recorded.call.summary.errors_by_component)
    assert len(stored["away_episodes"]) == len(recorded.call.summary.away_episodes)
    assert sum(stored["user_time_in_state"].values()) == pytest.approx(stored["duration"])
    text = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["report", "--db", str(path)]).output
    assert SUMMARY_LINES[name] in text
    data = json.loads(CliRunner().invoke(main, ["report", "--db", str(path), "--json"]).output)
    # --json gives the stored values to JSON_DECIMALS places (no binary noise): no more
    from turnscope.report.numbers import rounded

    assert data["calls"][0]["summary"] == rounded(stored)
