"""A call still open (its session not closed yet, or never: a crashed agent) is listed with
figures from the turns stored so far — its cost too, as `report` prices those turns.

The newcomer's input: an open call whose `report` priced its turn at $0.00059, while
`calls` showed its cost as `–` and `calls --json` had `cost_usd: null`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from turnscope.cli import main
from turnscope.store.writer import LocalStore

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import RecordedCall, SimulationCache
    from turnscope.records import Turn


def _open_call(path: Path, recorded: RecordedCall, turns: list[Turn]) -> None:
    """The call as a live LocalStore holds it before the session closes: no on_call."""
    store = LocalStore(path)
    store.start_call(recorded.handle.context)
    for turn in turns:
        store.on_turn(turn)
    assert store.close(timeout=10)


def _listed(path: Path) -> dict[str, object]:
    result = CliRunner().invoke(main, ["calls", "--db", str(path), "--json"])
    assert result.exit_code == 0, result.output
    (line,) = json.loads(result.output)["calls"]
    return dict(line)


@pytest.mark.parametrize("stored", [1, 3], ids=["one-turn", "three-turns"])
def test_an_open_calls_cost_is_its_stored_turns_cost(
    tmp_path: Path, simulations: SimulationCache, stored: int
) -> None:
    recorded = simulations.recorded("basic")
    turns = recorded.turns[:stored]
    expected = sum(t.cost.total for t in turns if t.cost is not None and t.cost.total is not None)
    assert expected > 0
    path = tmp_path / "open.db"
    _open_call(path, recorded, turns)
    line = _listed(path)
    assert line["closed"] is False
    assert line["turns"] == stored
    assert line["cost_usd"] == pytest.approx(expected, abs=1e-9)
    text = CliRunner().invoke(main, ["calls", "--db", str(path)], env={"COLUMNS": "120"})
    assert f"${expected:.5f}" in text.output
    report = CliRunner().invoke(main, ["report", "--db", str(path)], env={"COLUMNS": "200"})
    assert "in progress" in report.output  # still open: nothing here closes it


def test_an_open_call_with_no_turn_yet_has_no_cost_and_a_closed_one_keeps_its_own(
    tmp_path: Path, simulations: SimulationCache
) -> None:
    recorded = simulations.recorded("basic")
    path = tmp_path / "empty.db"
    _open_call(path, recorded, [])
    assert _listed(path)["cost_usd"] is None  # unknown yet, never 0
    closed = tmp_path / "closed.db"
    store = LocalStore(closed)
    store.start_call(recorded.handle.context)
    for turn in recorded.turns:
        store.on_turn(turn)
    store.on_call(recorded.call)
    assert store.close(timeout=10)
    assert recorded.call.cost is not None
    assert _listed(closed)["cost_usd"] == pytest.approx(recorded.call.cost.total, abs=1e-9)
