"""Realtime models, agent handoffs and text chats: turns as complete as pipeline turns,
checked against the simulation's truth."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner
from genai_prices import Usage, calc_price

from tests.conftest import store_call
from turnscope.cli import main
from turnscope.simulate.agent import BILLING_INSTRUCTIONS

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import RecordedCall, SimulationCache


@pytest.fixture(scope="module")
def realtime(simulations: SimulationCache) -> RecordedCall:
    return simulations.recorded("realtime")


@pytest.fixture(scope="module")
def handoff(simulations: SimulationCache) -> RecordedCall:
    return simulations.recorded("handoff")


@pytest.fixture(scope="module")
def text(simulations: SimulationCache) -> RecordedCall:
    return simulations.recorded("text")


# -- realtime ------------------------------------------------------------------------------


def test_realtime_turns_hold_only_the_models_responses(realtime: RecordedCall) -> None:
    for turn in realtime.turns:
        assert turn.realtime
        assert {r.kind for r in turn.requests} == {"realtime"}
        assert turn.input_modality == "audio"
        assert turn.user_started_at is not None
        assert turn.user_stopped_at is not None
        assert turn.user_stopped_at > turn.user_started_at


def test_realtime_responses_match_the_truth(realtime: RecordedCall) -> None:
    truth = {r.request_id: r for r in realtime.simulation.truth.llm_requests}
    responses = [r for t in realtime.turns for r in t.requests]
    assert {r.request_id for r in responses} == set(truth)
    for r in responses:
        injected = truth[r.request_id]
        assert r.model == "gpt-realtime"
        assert r.started_at == pytest.approx(injected.started_at, abs=0.005)
        if injected.text:  # audio came: its first frame after the injected latency
            assert r.ttft == pytest.approx(injected.injected_ttft, abs=0.02)


def test_realtime_tokens_split_into_text_and_audio(realtime: RecordedCall) -> None:
    truth = realtime.simulation.truth
    first = realtime.turns[0].requests[0]
    # the model heard the first utterance (and the silence before it): ~10 tokens a second
    assert first.input_audio_tokens >= 10 * (truth.utterances[0].duration or 0) - 1
    assert 0 < first.input_audio_tokens < first.prompt_tokens
    assert 0 < first.output_audio_tokens < first.completion_tokens
    later = [r for t in realtime.turns[1:] for r in t.requests]
    assert any(r.cached_tokens > 0 for r in later)  # the prompt cache is read after turn 1


def test_realtime_cost_is_priced_with_audio_rates(realtime: RecordedCall) -> None:
    for turn in realtime.turns:
        assert turn.cost is not None
        assert turn.cost.unpriced == ()
        assert dict(turn.cost.by_component).keys() == {"realtime"}
        for r in turn.requests:
            expected = calc_price(
                Usage(
                    input_tokens=r.prompt_tokens,
                    cache_read_tokens=r.cached_tokens,
                    input_audio_tokens=r.input_audio_tokens,
                    cache_audio_read_tokens=r.cached_audio_tokens,
                    output_tokens=r.completion_tokens,
                    output_audio_tokens=r.output_audio_tokens,
                ),
                model_ref="gpt-realtime",
                provider_id="openai",
            )
            assert r.cost_usd == pytest.approx(float(expected.total_price))
    # audio is dearer than text: pricing it as text would halve the bill
    call = realtime.call
    assert call.cost is not None
    assert dict(call.cost.by_model) == pytest.approx(
        {"api.openai.com/gpt-realtime": call.cost.total}
    )


def test_realtime_tool_turn_splits_its_latency(realtime: RecordedCall) -> None:
    (turn,) = [t for t in realtime.turns if t.tools]
    (ran,) = realtime.simulation.truth.tool_calls
    asked, answered = turn.requests
    assert asked.output is not None
    assert "get_weather" in asked.output
    assert answered.output == turn.agent_text
    parts = turn.breakdown
    assert parts is not None
    assert parts.tool_steps == pytest.approx(answered.started_at - asked.started_at)
    assert parts.tool_steps is not None
    assert parts.tool_steps >= ran.injected_latency
    assert parts.llm_first_token == answered.ttft
    assert (parts.tts_first_byte, parts.sentence_aggregation) == (None, None)
    assert parts.endpointing is not None
    assert parts.endpointing > 0
    assert abs(parts.other) <= 0.03


def test_realtime_total_latency_is_endpointing_plus_first_output(realtime: RecordedCall) -> None:
    for turn in realtime.turns:
        assert turn.breakdown is not None
        assert turn.breakdown.endpointing is not None
        first = turn.requests[0]
        assert turn.total_latency == pytest.approx(turn.breakdown.endpointing + (first.ttft or 0))


# -- handoffs ------------------------------------------------------------------------------


def test_every_turn_names_its_agent_and_the_handoff_is_kept(handoff: RecordedCall) -> None:
    assert [t.agent_name for t in handoff.turns] == ["front_desk_agent"] + ["billing_agent"] * 3
    assert [t.handoff_to for t in handoff.turns] == ["billing_agent", None, None, None]
    ((at, old, new),) = handoff.call.handoffs
    assert (old, new) == ("front_desk_agent", "billing_agent")
    first, greeting = handoff.turns[:2]
    assert first.started_at <= at <= greeting.started_at


def test_each_agent_uses_its_own_models(handoff: RecordedCall) -> None:
    def models(kind: str, turn_index: int) -> set[str | None]:
        turn = handoff.turns[turn_index]
        return {r.model for r in turn.requests if r.kind == kind}

    assert models("stt", 0) == {"universal-streaming-english"}
    assert (models("llm", 0), models("tts", 0)) == ({"gpt-4o-mini"}, {"tts-1"})
    for i in (1, 2, 3):
        assert (models("llm", i), models("tts", i)) == ({"gpt-4.1-mini"}, {"tts-1-hd"})
    for i in (2, 3):  # the billing agent heard the caller through its own STT
        assert models("stt", i) == {"gpt-transcribe"}
    call = handoff.call
    assert call.cost is not None
    assert call.cost.unpriced == ()
    priced = dict(call.cost.by_model)
    for label in ("api.openai.com/gpt-4o-mini", "api.openai.com/gpt-4.1-mini"):
        assert priced[label] > 0
    assert priced["api.openai.com/gpt-transcribe"] > 0
    assert priced["api.openai.com/tts-1-hd"] > 0


def test_the_new_agents_own_llm_input_is_captured(handoff: RecordedCall) -> None:
    charged = handoff.turns[2]
    (request,) = [r for r in charged.requests if r.kind == "llm"]
    assert request.input is not None
    sent = [m.get("content") for m in json.loads(request.input)]
    assert BILLING_INSTRUCTIONS in sent
    assert "I was charged twice for my booking." in sent
    assert request.parameters == (("temperature", 0.7),)


# -- text ------------------------------------------------------------------------------------


def test_text_turns_are_typed_with_no_e2e(text: RecordedCall) -> None:
    typed = [t.text for t in text.simulation.truth.typed]
    assert [t.user_text for t in text.turns] == typed
    for turn in text.turns:
        assert (turn.source, turn.input_modality, turn.outcome) == ("user", "text", "answered")
        assert (turn.e2e, turn.breakdown, turn.total_latency) == (None, None, None)
        assert turn.user_started_at is None
        assert {r.kind for r in turn.requests} == {"llm"}
        assert all(r.ttft is not None and r.cost_usd for r in turn.requests)
    (tool_turn,) = [t for t in text.turns if t.tools]
    assert tool_turn.agent_text == "It is sunny and 21 degrees in Oslo."
    assert [t.name for t in tool_turn.tools] == ["get_weather"]


# -- the store and the report ---------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed_store(
    realtime: RecordedCall,
    handoff: RecordedCall,
    text: RecordedCall,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """One store holding the realtime, handoff and text calls."""
    db = tmp_path_factory.mktemp("mixed") / "mixed.db"
    for recorded in (realtime, handoff, text):
        store_call(db, recorded)
    return db


def test_the_store_keeps_realtime_handoff_and_text_columns(
    realtime: RecordedCall, handoff: RecordedCall, text: RecordedCall, mixed_store: Path
) -> None:
    with sqlite3.connect(mixed_store) as connection:
        rows = connection.execute(
            "SELECT kind, SUM(input_audio_tokens), SUM(output_audio_tokens), SUM(cost_usd) "
            "FROM components WHERE call_id = ? GROUP BY kind",
            (realtime.call.call_id,),
        ).fetchall()
        ((kind, audio_in, audio_out, usd),) = [r for r in rows if r[0] != "tool"]
        assert kind == "realtime"
        assert audio_in == sum(r.input_audio_tokens for t in realtime.turns for r in t.requests)
        assert audio_out > 0
        assert realtime.call.cost is not None
        assert usd == pytest.approx(realtime.call.cost.total)
        turns = connection.execute(
            "SELECT input_modality, cost_realtime, llm_ttft FROM turns WHERE call_id = ?",
            (realtime.call.call_id,),
        ).fetchall()
        assert [r[0] for r in turns] == ["audio"] * 3
        assert all(r[1] and r[1] > 0 and r[2] for r in turns)
        modality = connection.execute(
            "SELECT DISTINCT input_modality FROM turns WHERE call_id = ?", (text.call.call_id,)
        ).fetchall()
        assert modality == [("text",)]
        handoffs = connection.execute(
            "SELECT message, detail FROM events WHERE kind = 'handoff' AND call_id = ?",
            (handoff.call.call_id,),
        ).fetchall()
        assert handoffs == [("front_desk_agent", "billing_agent")]
        handed = connection.execute(
            "SELECT turn, agent_name, handoff_to FROM turns WHERE call_id = ? ORDER BY turn",
            (handoff.call.call_id,),
        ).fetchall()
        assert handed[0] == (1, "front_desk_agent", "billing_agent")
        assert {row[1] for row in handed[1:]} == {"billing_agent"}


def test_the_report_shows_them(realtime: RecordedCall, mixed_store: Path) -> None:
    db = mixed_store
    runner = CliRunner()
    result = runner.invoke(main, ["report", "--db", str(db), "--last", "3", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    by_call = {c["call_id"]: c for c in data["calls"]}
    live = by_call[realtime.call.call_id]
    assert live["cost_by_component"] == {"realtime": pytest.approx(live["cost_usd"])}
    percentiles = data["percentiles"]
    assert percentiles["realtime_ttft"]["count"] == 4
    assert percentiles["e2e"]["count"] == 3 + 3  # realtime and handoff user turns; text none
    shown = runner.invoke(main, ["report", "--db", str(db), "--last", "3"])
    assert shown.exit_code == 0, shown.output
    flat = " ".join(shown.output.split())
    assert "realtime time to first output" in flat
    assert flat.count("typed") == 3
    assert "→billing" in flat
    assert "api.openai.com/gpt-realtime" in flat
