"""The reading commands' JSON gives measurements, not binary arithmetic noise: a sum of
costs is ``3e-05``, not ``2.9999999999999997e-05``; a stored raw value (a timestamp) is
given as stored."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from tests.report.stores import store_as
from turnscope.cli import main
from turnscope.report.numbers import JSON_DECIMALS

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.conftest import SimulationCache

COSTS = {"call-a": 1e-06, "call-b": 2e-06, "call-c": 2.7e-05}
"""Three cheap calls whose costs SQLite sums to 2.9999999999999997e-05 (the newcomer's)."""


@pytest.fixture(scope="module")
def cheap(tmp_path_factory: pytest.TempPathFactory, simulations: SimulationCache) -> Path:
    db = tmp_path_factory.mktemp("json-numbers") / "cheap.db"
    for n, call_id in enumerate(COSTS):
        store_as(db, simulations.recorded("basic"), call_id, shift=n - 3.0)
    with sqlite3.connect(db) as raw:
        for call_id, cost in COSTS.items():
            raw.execute("UPDATE calls SET cost_usd = ? WHERE call_id = ?", (cost, call_id))
        # the sibling: a call's cost split whose parts sum to 0.30000000000000004
        raw.execute(
            "UPDATE calls SET cost_by_component = ? WHERE call_id = 'call-c'",
            (json.dumps({"llm": 0.1, "tts": 0.2, "all": 0.1 + 0.2}),),
        )
    return db


def _json(*args: str) -> Any:
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code in (0, 1), result.output  # check: 1 is a verdict
    return json.loads(result.output)


def _floats(value: Any) -> Iterator[float]:
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _floats(item)
    elif isinstance(value, list):
        for item in value:
            yield from _floats(item)


def test_a_sum_of_costs_is_the_sum_not_float_noise(cheap: Path) -> None:
    with sqlite3.connect(cheap) as raw:
        (summed,) = raw.execute("SELECT SUM(cost_usd) FROM calls").fetchone()
    assert repr(summed) == "2.9999999999999997e-05"  # what SQLite adds up: the noise
    summary = _json("report", "--summary", "--db", str(cheap))
    assert summary["totals"]["cost_usd"] == 3e-05
    (call,) = _json("report", "--db", str(cheap), "--call", "call-c")["calls"]
    assert call["cost_by_component"] == {"llm": 0.1, "tts": 0.2, "all": 0.3}


@pytest.mark.parametrize(
    "command",
    [
        ["report"],
        ["report", "--last", "3"],
        ["report", "--summary"],
        ["report", "--trend", "day"],
        ["calls"],
        ["check", "--budget", "p95(call_cost)<=$1", "--budget", "p50(e2e)<=2s"],
        ["compare", "--base", "user=nobody-a", "--new", "user=nobody-b"],
    ],
)
def test_no_reading_command_prints_noise_or_negative_zero(cheap: Path, command: list[str]) -> None:
    """Every float is its value to ``JSON_DECIMALS`` places: noise is beyond them."""
    if command[0] == "compare":
        command = ["compare", "--base", "db=" + str(cheap), "--new", "db=" + str(cheap)]
    found = list(_floats(_json(*command, "--db", str(cheap))))
    assert found
    for value in found:
        assert repr(value) == repr(round(value, JSON_DECIMALS) + 0.0), (command, value)


def test_a_stored_raw_value_is_given_as_stored(cheap: Path) -> None:
    """Rounding takes noise, never a measured digit: a timestamp comes out as SQLite holds
    it, and LiveKit's latencies within 1e-10 s of it (no clock it reads is that fine)."""
    with sqlite3.connect(cheap) as raw:
        stored = raw.execute(
            "SELECT started_at, llm_ttft FROM turns WHERE call_id = 'call-a' ORDER BY turn"
        ).fetchall()
    turns = _json("report", "--db", str(cheap), "--call", "call-a")["turns"]
    assert [t["started_at"] for t in turns] == [started for started, _ in stored]
    timed = [(t["llm_ttft"], ttft) for t, (_, ttft) in zip(turns, stored, strict=True) if ttft]
    assert timed
    assert all(shown == pytest.approx(ttft, abs=0.5e-10) for shown, ttft in timed)
