"""Suspect and unknown values reach the spans with their reasons, and stay out of Langfuse's
scores (exported to the real OTLP receiver); errors carry what every backend filters on."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from tests.export.conftest import PUBLIC, SECRET, environment
from tests.otlp_receiver import OTLPReceiver
from tests.recording.test_plausibility import T0, record, voice_turn
from turnscope import events as ev
from turnscope.export.exporters import langfuse_settings, shared_tracer_provider
from turnscope.export.spans import shared_span_sink
from turnscope.export.spantree import turn_plan
from turnscope.pricing import CallTotals, price_call, price_turn
from turnscope.pricing.catalog import load_catalog
from turnscope.pricing.pricer import Pricer
from turnscope.recording.summary import SummaryTotals, summarize
from turnscope.records import CallContext

if TYPE_CHECKING:
    from tests.conftest import SimulationCache
    from turnscope.records import Call, Turn


def _odd_call() -> tuple[list[Turn], Call]:
    """Turn 1 plausible (e2e 1.1 s); turn 2 with LiveKit's stale anchor (e2e 204 s) and an LLM
    request cancelled before its usage came (0 tokens)."""
    cancelled = ev.LLMRequest(
        T0 + 12.0, "llm-s2", "s2", "openai", "gpt-4o-mini", 0.5, 0.3, True,
        0, 0, 0, 0, 0, 0, None,
    )  # fmt: skip
    events = voice_turn() + voice_turn(t0=T0 + 10, speech="s2", e2e=204.0, llm=cancelled)
    turns, call = record(events)
    pricer = Pricer(load_catalog(None))
    totals, summary = CallTotals(), SummaryTotals()
    priced = []
    for turn in turns:
        turn = price_turn(turn, pricer)
        totals.add(turn)
        summary.add(turn)
        priced.append(turn)
    done = price_call(call, totals, pricer)
    return priced, replace(done, summary=summarize(done, summary))


def test_suspect_and_unknown_values_on_spans_and_out_of_scores() -> None:
    turns, call = _odd_call()
    receiver = OTLPReceiver().start()
    try:
        with environment(
            LANGFUSE_PUBLIC_KEY=PUBLIC, LANGFUSE_SECRET_KEY=SECRET, LANGFUSE_BASE_URL=receiver.url
        ):
            provider = shared_tracer_provider()
            assert provider is not None
            sink = shared_span_sink(
                provider, capture_content=True, trace_per="turn", langfuse=langfuse_settings()
            )
            sink.start_call(CallContext(call_id="call", session_id="room-7"))
            for turn in turns:
                sink.on_turn(turn)
            sink.on_call(call)
            assert sink.flush(10)
            assert sink.scores is not None
            assert sink.scores.flush(10)
        spans = receiver.spans()
        scores = [body for _, body in receiver.scores]
    finally:
        receiver.stop()
    by_name = {s.name: s for s in spans if s.name in ("turn 1", "turn 2", "call summary")}
    odd = by_name["turn 2"].attributes
    assert odd["voice.turn.suspect"] == ["e2e:implausible"]
    assert odd["voice.turn.suspect_value.e2e"] == 204.0
    assert "voice.e2e" not in odd
    assert "prompt_tokens:cancelled" in odd["voice.turn.unknown"]
    (llm,) = [s for s in spans if s.name == "llm" and s.trace_id == by_name["turn 2"].trace_id]
    assert "prompt_tokens:cancelled" in llm.attributes["voice.request.unknown"]
    assert "cost_usd:cancelled" in llm.attributes["voice.request.unknown"]
    assert "gen_ai.usage.input_tokens" not in llm.attributes  # no 0 that looks measured
    assert "voice.cost.usd" not in llm.attributes
    assert "voice.turn.suspect" not in by_name["turn 1"].attributes
    summary = by_name["call summary"].attributes
    assert summary["voice.call.suspect_values"] == 1
    assert summary["voice.call.e2e_p95"] == 1.1  # the 204 s is not in it
    e2e_scores = [b["value"] for b in scores if b["name"] == "e2e"]
    assert e2e_scores == [1.1]
    assert [b["value"] for b in scores if b["name"] == "e2e_p95"] == [1.1]


def test_errors_carry_type_message_component_and_recoverable(
    simulations: SimulationCache,
) -> None:
    # both retried: the TTS timed out once on turn 1, the LLM failed once on turn 2
    turns = simulations.recorded("retries").turns
    found = []
    for turn in turns:
        (error,) = turn.errors
        (hit,) = [r for r in turn.requests if r.kind == error.component]
        assert error.request_id == hit.request_id  # the retry that recovered
        plan = turn_plan(turn, capture=False)
        (span,) = [
            s for s in plan.walk() if s.attributes.get("gen_ai.response.id") == hit.request_id
        ]
        a = span.attributes
        found.append((a["error.type"], a["voice.error.component"], a["voice.error.recoverable"]))
        assert a["voice.error.message"]
        assert a["langfuse.observation.level"] == "WARNING"
    assert found == [("APITimeoutError", "tts", True), ("APIConnectionError", "llm", True)]
