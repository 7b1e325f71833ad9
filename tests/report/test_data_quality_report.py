"""Suspect and unknown values in a real store file: the terminal report shows them raw and
marked, ``--json`` gives null plus the reason, percentiles and budgets leave them out."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from click.testing import CliRunner

from tests.export.test_data_quality_spans import _odd_call
from tests.recording.test_plausibility import T0, record, voice_turn
from turnscope import events as ev
from turnscope.cli import main
from turnscope.pricing import CallTotals, price_call, price_turn
from turnscope.pricing.catalog import load_catalog
from turnscope.pricing.pricer import Pricer
from turnscope.records import CallContext
from turnscope.report.html_data import gather
from turnscope.report.queries import select_calls
from turnscope.store import open_for_reading
from turnscope.store.writer import LocalStore

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache


def _stored(tmp_path: Path) -> Path:
    turns, call = _odd_call()
    path = tmp_path / "quality.db"
    store = LocalStore(path, capture_content=True)
    store.start_call(CallContext(call_id="call", session_id="room-7"))
    for turn in turns:
        store.on_turn(turn)
    store.on_call(call)
    assert store.close(timeout=10)
    return path


def test_json_gives_null_and_the_reason(tmp_path: Path) -> None:
    path = _stored(tmp_path)
    result = CliRunner().invoke(main, ["report", "--db", str(path), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    first, odd = payload["turns"]
    assert first["e2e"] == 1.1
    assert first["suspect"] == []
    assert odd["e2e"] is None
    assert odd["suspect"] == [{"field": "e2e", "reason": "implausible", "value": 204.0}]
    assert odd["prompt_tokens"] is None  # the store keeps 0; the report never shows it
    assert odd["unknown"]["prompt_tokens"] == "cancelled"
    e2e = payload["percentiles"]["e2e"]
    assert (e2e["count"], e2e["max"]) == (1, 1.1)


def test_terminal_report_marks_the_raw_value_and_explains(tmp_path: Path) -> None:
    path = _stored(tmp_path)
    result = CliRunner().invoke(main, ["report", "--db", str(path)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "204000!" in result.output
    assert "data quality" in result.output
    assert "turn 2: e2e 204000 ms! is implausible" in result.output
    assert "turn 2: prompt_tokens unknown" in result.output


def test_budgets_leave_suspect_values_out(tmp_path: Path) -> None:
    path = _stored(tmp_path)
    result = CliRunner().invoke(main, ["check", "--db", str(path), "--budget", "max(e2e)<=2s"])
    assert result.exit_code == 0, result.output
    assert "measured 1100 ms over 1 values" in result.output


def test_html_data_carries_the_flags(tmp_path: Path) -> None:
    path = _stored(tmp_path)
    connection = open_for_reading(path)
    calls = select_calls(connection, last=1)
    data = gather(connection, calls, 0.0)
    (call,) = data["calls"]
    assert call["turns"][1]["suspect"] == [
        {"field": "e2e", "reason": "implausible", "value": 204.0}
    ]
    assert call["turns"][1]["e2e"] is None
    (dist,) = [d for d in data["distributions"] if d["metric"] == "e2e"]
    assert dist["count"] == 1


def test_over_metered_stt_is_a_line_of_the_report_and_not_priced(tmp_path: Path) -> None:
    reports = (ev.STTUsage(T0 + 1.3, "stream", "deepgram", "nova-3", 600.0, None, True),)
    turns, call = record(voice_turn(stt=reports))
    pricer = Pricer(load_catalog(None))
    totals = CallTotals()
    priced = [price_turn(t, pricer) for t in turns]
    for turn in priced:
        totals.add(turn)
    path = tmp_path / "metered.db"
    store = LocalStore(path, capture_content=True)
    store.start_call(CallContext(call_id="call", session_id="room-8"))
    for turn in priced:
        store.on_turn(turn)
    store.on_call(price_call(call, totals, pricer))
    assert store.close(timeout=10)
    result = CliRunner().invoke(main, ["report", "--db", str(path)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "call: stt_audio 600.0 s! is over_metered" in result.output
    assert "STT metered 600.0 s of audio in a 3.3 s call: its idle audio is not priced" in (
        result.output
    )
    payload = json.loads(CliRunner().invoke(main, ["report", "--db", str(path), "--json"]).output)
    (stored,) = payload["calls"]
    assert stored["cost_idle_stt"] is None
    assert stored["unknown"] == {"cost_idle_stt": "over_metered"}


def test_the_legend_names_only_the_marks_shown(
    tmp_path: Path, simulations: SimulationCache
) -> None:
    """The newcomer's input: the realtime demo's block began "(!: suspect, shown raw, …)"
    over three `unknown` lines and no `!`. The sibling above (a suspect value) keeps it."""
    from tests.conftest import store_call

    path = tmp_path / "realtime.db"
    store_call(path, simulations.recorded("realtime"))
    wide = {"COLUMNS": "200"}
    output = CliRunner().invoke(main, ["report", "--db", str(path)], env=wide).output
    block = output[output.index("data quality") :]
    assert block.startswith("data quality (unknown: no measurement, kept out of percentiles")
    assert "unknown:" in block.splitlines()[1]
    assert "!" not in block
    marked = CliRunner().invoke(
        main, ["report", "--db", str(_stored(tmp_path))], terminal_width=200
    )
    assert "data quality (!: suspect, shown raw, kept out of percentiles" in marked.output
