"""What Langfuse receives: transport, the span tree, every attribute, trace context."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import TYPE_CHECKING

import pytest

from tests.export.conftest import IDENTITY, PUBLIC, SECRET

if TYPE_CHECKING:
    from tests.conftest import SimulationCache
    from tests.export.conftest import Exported
    from tests.otlp_receiver import ReceivedSpan

GENERATIONS = ("stt", "llm", "tts")


def test_transport_is_langfuse_otlp_http_gzip_protobuf(langfuse_call: Exported) -> None:
    assert langfuse_call.flushed
    requests = langfuse_call.receiver.requests
    assert requests
    token = base64.b64encode(f"{PUBLIC}:{SECRET}".encode()).decode()
    for request in requests:
        assert request.path == "/api/public/otel/v1/traces"
        assert request.headers["authorization"] == f"Basic {token}"
        assert request.headers["x-langfuse-ingestion-version"] == "4"
        assert request.raw_encoding == "gzip"
        assert request.headers["content-type"] == "application/x-protobuf"


def _by_trace(spans: list[ReceivedSpan]) -> dict[str, list[ReceivedSpan]]:
    traces: dict[str, list[ReceivedSpan]] = {}
    for span in spans:
        traces.setdefault(span.trace_id, []).append(span)
    return traces


def test_one_trace_per_turn_plus_a_call_summary(langfuse_call: Exported) -> None:
    spans = langfuse_call.spans()
    turns = langfuse_call.records.turns
    traces = _by_trace(spans)
    assert len(traces) == len(turns) + 1
    roots = sorted((s for s in spans if not s.parent_id), key=lambda s: s.start)
    assert [r.name for r in roots if r.name.startswith("turn")] == [
        f"turn {t.index}" for t in turns
    ]
    (summary,) = [r for r in roots if r.name == "call summary"]
    assert summary.attributes["voice.call.turns"] == len(turns)
    assert summary.attributes["langfuse.trace.name"] == "Voice call summary"
    for root in roots:
        if root.name == "call summary":
            continue
        children = [s for s in traces[root.trace_id] if s is not root]
        assert children
        assert all(c.parent_id == root.span_id for c in children)


def test_the_tree_of_a_tool_turn(langfuse_call: Exported) -> None:
    spans = langfuse_call.spans()
    (tool,) = [s for s in spans if s.name == "tool get_weather"]
    names = sorted(s.name for s in spans if s.trace_id == tool.trace_id)
    assert names == sorted(
        ["turn 3", "response", "endpointing", "stt", "llm", "llm", "tool get_weather", "tts"]
    )
    assert tool.attributes["langfuse.observation.type"] == "tool"
    assert json.loads(tool.attributes["langfuse.observation.input"]) == {"city": "Paris"}
    assert tool.attributes["langfuse.observation.output"] == "Paris: sunny, 21 C"


def test_span_times_follow_the_simulations_truth(langfuse_call: Exported) -> None:
    truth = langfuse_call.simulation.truth
    spans = langfuse_call.spans()
    responses = sorted((s for s in spans if s.name == "response"), key=lambda s: s.start)
    assert len(responses) == 3
    for span in responses:
        playback = truth.playback_starting_at(span.end)
        assert playback is not None
        utterance = truth.answered_utterance(playback)
        assert utterance is not None
        assert utterance.ended_at is not None
        assert span.start == pytest.approx(utterance.ended_at, abs=0.005)
    injected = {r.request_id: r for r in truth.llm_requests}
    for span in (s for s in spans if s.name == "llm"):
        request = injected[span.attributes["gen_ai.response.id"]]
        first = datetime.fromisoformat(
            span.attributes["langfuse.observation.completion_start_time"]
        )
        # a wall-clock span: it grows by any time the loop stood still inside it (measured;
        # nothing on a quiet machine)
        stalled = langfuse_call.stalls.during(span.start, first.timestamp())
        assert first.timestamp() - span.start == pytest.approx(
            request.injected_ttft, abs=0.015 + stalled
        )
        assert span.start == pytest.approx(request.started_at, abs=0.02)


def test_llm_generations_carry_model_usage_and_ttft(langfuse_call: Exported) -> None:
    llm = [s for s in langfuse_call.spans() if s.name == "llm"]
    assert len(llm) == 4
    for span in llm:
        a = span.attributes
        assert a["langfuse.observation.type"] == "generation"
        assert a["langfuse.observation.model.name"] == a["gen_ai.request.model"] == "gpt-4o-mini"
        assert a["gen_ai.provider.name"] == "api.openai.com"
        assert a["gen_ai.operation.name"] == "chat"
        assert isinstance(a["voice.llm.ttft"], float)
        assert isinstance(a["voice.llm.duration"], float)
        assert a["voice.llm.ttft"] == a["gen_ai.response.time_to_first_chunk"]
        usage = json.loads(a["langfuse.observation.usage_details"])
        assert all(isinstance(v, int) for v in usage.values())
        assert usage["total"] == sum(v for k, v in usage.items() if k != "total")
        # disjoint buckets: nothing counted twice
        assert usage["total"] == a["gen_ai.usage.input_tokens"] + a["gen_ai.usage.output_tokens"]
        assert usage.get("input_cached_tokens", 0) == a["gen_ai.usage.cache_read.input_tokens"]
        assert isinstance(a["voice.llm.tokens_per_second"], float)


def test_stt_and_tts_generations(langfuse_call: Exported) -> None:
    spans = langfuse_call.spans()
    stt = [s for s in spans if s.name == "stt"]
    assert len(stt) == 3
    for span in stt:
        a = span.attributes
        assert (a["gen_ai.provider.name"], a["langfuse.observation.model.name"]) == (
            "AssemblyAI",
            "universal-streaming-english",
        )
        usage = json.loads(a["langfuse.observation.usage_details"])
        assert (
            usage["input_audio_ms"] == round(a["voice.stt.audio_duration"] * 1000) == usage["total"]
        )
        assert a["voice.stt.streamed"] is True
    tts = [s for s in spans if s.name == "tts"]
    assert len(tts) == 5
    for span in tts:
        a = span.attributes
        assert (a["gen_ai.provider.name"], a["langfuse.observation.model.name"]) == (
            "api.openai.com",
            "tts-1",
        )
        assert (
            json.loads(a["langfuse.observation.usage_details"])["input_characters"]
            == a["voice.tts.characters"]
            > 0
        )
        first = datetime.fromisoformat(a["langfuse.observation.completion_start_time"])
        assert first.timestamp() - span.start == pytest.approx(a["voice.tts.ttfb"], abs=0.001)
        assert a["voice.tts.audio_duration"] > 0


def test_turn_spans_carry_the_breakdown_and_what_was_said(langfuse_call: Exported) -> None:
    spans = {s.name: s for s in langfuse_call.spans() if s.name.startswith("turn")}
    for turn in langfuse_call.records.turns:
        a = spans[f"turn {turn.index}"].attributes
        assert a["voice.turn.outcome"] == turn.outcome
        assert a["voice.turn.speech_id"] == turn.speech_id
        assert a["voice.turn.agent"] == a["gen_ai.agent.name"] == turn.agent_name
        assert turn.agent_name
        assert a["langfuse.observation.type"] == "agent"
        assert a["langfuse.observation.output"] == turn.agent_text
        if turn.e2e is None:
            assert "voice.e2e" not in a
            continue
        assert a["voice.e2e"] == turn.e2e
        assert a["langfuse.observation.input"] == turn.user_text
        assert turn.breakdown is not None
        assert a["voice.breakdown.other"] == turn.breakdown.other
        assert a["voice.breakdown.endpointing"] == turn.breakdown.endpointing
        assert a["voice.total_latency"] == turn.total_latency
        assert a["voice.eou.detector"] == "vad"
    assert spans["turn 3"].attributes["voice.turn.tools"] == ["get_weather"]
    for span in langfuse_call.spans():
        if span.name == "endpointing":
            assert span.attributes["voice.eou.detector"] == "vad"


def test_trace_context_is_on_every_span(langfuse_call: Exported) -> None:
    for span in langfuse_call.spans():
        a = span.attributes
        assert a["session.id"] == a["gen_ai.conversation.id"] == IDENTITY["session_id"]
        assert a["user.id"] == IDENTITY["user_id"]
        assert a["langfuse.trace.tags"] == IDENTITY["tags"]
        assert a["langfuse.trace.metadata.room_name"] == "room-42"
        assert a["langfuse.trace.metadata.deployment_env"] == "ci"
        assert "langfuse.trace.metadata.room" not in a  # the simulated session has no room
        assert a["langfuse.trace.name"].startswith("Voice call")
        assert span.resource["service.name"] == "livekit-agent"
        assert span.scope == "turnscope"


def test_the_livekit_room_is_trace_metadata_on_every_span() -> None:
    """A session started in a LiveKit room: its name on every span, as Langfuse trace
    metadata ``room`` (the room is LiveKit's rtc.Room, unconnected: simulate.room)."""
    from tests.export.conftest import export_call
    from tests.otlp_receiver import OTLPReceiver

    receiver = OTLPReceiver().start()
    try:
        exported = export_call(receiver, "tool_with_preamble", room="support-lobby-7")
    finally:
        receiver.stop()
    spans = exported.spans()
    assert exported.handle.internal_errors == []
    assert len({s.trace_id for s in spans}) == len(exported.records.turns) + 1
    assert all(s.attributes["langfuse.trace.metadata.room"] == "support-lobby-7" for s in spans)
    assert exported.handle.context.room == "support-lobby-7"


def test_one_trace_per_call_mode(call_mode_call: Exported) -> None:
    spans = call_mode_call.spans()
    assert len({s.trace_id for s in spans}) == 1
    (root,) = [s for s in spans if not s.parent_id]
    assert root.name == "Voice call"
    turns = [s for s in spans if s.name.startswith("turn")]
    assert len(turns) == len(call_mode_call.records.turns)
    assert all(t.parent_id == root.span_id for t in turns)
    assert root.attributes["voice.call.turns"] == len(turns)
    assert root.end >= max(t.end for t in turns)
    for span in spans:
        assert span.attributes["session.id"] == IDENTITY["session_id"]
        assert span.attributes["user.id"] == IDENTITY["user_id"]
        assert span.attributes["langfuse.trace.tags"] == IDENTITY["tags"]


def test_llm_generations_show_what_was_sent_and_produced(langfuse_call: Exported) -> None:
    llm = sorted((s for s in langfuse_call.spans() if s.name == "llm"), key=lambda s: s.start)
    truth = {r.request_id: r for r in langfuse_call.simulation.truth.llm_requests}
    for span in llm:
        a = span.attributes
        asked = truth[a["gen_ai.response.id"]]
        sent = json.loads(a["langfuse.observation.input"])
        assert sent[0]["role"] == "system"
        assert "Acme Travel" in sent[0]["content"]
        assert asked.prompt_key in json.dumps(sent[-1])  # the last thing sent is what it answered
        assert a["voice.llm.input_truncated"] is False
        assert a["voice.llm.tools_offered"] == ["get_weather"]
        assert a["gen_ai.request.temperature"] == 0.7
        assert json.loads(a["langfuse.observation.model.parameters"]) == {"temperature": 0.7}
        assert a["langfuse.observation.prompt.name"] == "voice-agent"
        assert a["langfuse.observation.prompt.version"] == 3
        if asked.tool_calls:
            produced = json.loads(a["langfuse.observation.output"])
            assert [c["name"] for c in produced["tool_calls"]] == asked.tool_calls
        else:
            assert a["langfuse.observation.output"] == asked.text


def test_the_llm_wrap_is_undone_by_detach() -> None:
    import asyncio

    from livekit.agents import AgentSession

    import turnscope
    from turnscope.simulate.llm import ScriptedLLM
    from turnscope.simulate.profiles import PROFILES, LatencySampler
    from turnscope.simulate.truth import SimulationTruth

    async def scenario() -> tuple[bool, bool]:
        model = ScriptedLLM(
            {}, sampler=LatencySampler(PROFILES["fast"], seed=0, speed=1), truth=SimulationTruth()
        )
        session: AgentSession[None] = AgentSession(llm=model)
        handle = turnscope.instrument(session, sinks=[])
        wrapped = "chat" in vars(model)
        handle.detach()
        return wrapped, "chat" in vars(model)

    assert asyncio.run(scenario()) == (True, False)


def test_numeric_scores_for_turns_and_the_session(langfuse_call: Exported) -> None:
    posted = langfuse_call.receiver.scores
    token = base64.b64encode(f"{PUBLIC}:{SECRET}".encode()).decode()
    assert all(headers["authorization"] == f"Basic {token}" for headers, _ in posted)
    bodies = [body for _, body in posted]
    turns = {s.span_id: s for s in langfuse_call.spans() if s.name.startswith("turn")}
    e2e = [b for b in bodies if b["name"] == "e2e"]
    assert len(e2e) == sum(1 for t in langfuse_call.records.turns if t.e2e is not None) == 3
    for body in e2e:
        span = turns[body["observationId"]]
        assert body["traceId"] == span.trace_id
        assert body["value"] == span.attributes["voice.e2e"]
        assert body["dataType"] == "NUMERIC"
    assert len([b for b in bodies if b["name"] == "total_latency"]) == 3
    (p95,) = [b for b in bodies if b["name"] == "e2e_p95"]
    assert p95["sessionId"] == IDENTITY["session_id"]
    assert "traceId" not in p95
    assert len({b["id"] for b in bodies}) == len(bodies)


def test_update_changes_what_later_spans_carry(simulations: SimulationCache) -> None:
    from tests.export.conftest import replay_call
    from tests.otlp_receiver import OTLPReceiver

    class IdentifyAfterFirstTurn:
        handle: object = None

        def start_call(self, context: object) -> None: ...
        def update_call(self, context: object) -> None: ...
        def on_call(self, call: object) -> None: ...
        def flush(self, timeout: float) -> bool:
            return True

        def on_turn(self, turn: object) -> None:
            import sys

            instrumentation = sys.modules["turnscope.instrument"]._instrumented
            for handle in list(instrumentation.values()):
                handle.update(user_id="identified@example.com", metadata={"plan": "gold"})

    receiver = OTLPReceiver().start()
    try:
        exported = replay_call(
            receiver,
            simulations.recorded("tool_with_preamble"),
            extra_sinks=[IdentifyAfterFirstTurn()],
        )
    finally:
        receiver.stop()
    by_turn = {s.trace_id: s for s in exported.spans() if s.name.startswith("turn ")}
    assert exported.handle.internal_errors == []
    first, second = sorted(by_turn.values(), key=lambda s: s.start)
    assert first.attributes["user.id"] == IDENTITY["user_id"]
    later = [s for s in exported.spans() if s.trace_id == second.trace_id]
    assert all(s.attributes["user.id"] == "identified@example.com" for s in later)
    assert all(s.attributes["langfuse.trace.metadata.plan"] == "gold" for s in later)
    assert all(s.attributes["langfuse.trace.metadata.room_name"] == "room-42" for s in later)


def test_cost_sits_on_the_leaf_generations_only(langfuse_call: Exported) -> None:
    spans = langfuse_call.spans()
    for span in spans:
        a = span.attributes
        if span.name in ("stt", "llm", "tts"):
            details = json.loads(a["langfuse.observation.cost_details"])
            assert a["voice.cost.usd"] > 0
            assert details["total"] == pytest.approx(a["voice.cost.usd"])
        else:
            assert "langfuse.observation.cost_details" not in a  # or Langfuse counts it twice
    for turn in (s for s in spans if s.name.startswith("turn ")):
        leaves = [
            s.attributes["voice.cost.usd"]
            for s in spans
            if s.trace_id == turn.trace_id and s.name in ("stt", "llm", "tts")
        ]
        assert turn.attributes["voice.turn.cost_usd"] == pytest.approx(sum(leaves))
    (summary,) = [s for s in spans if s.name == "call summary"]
    total = sum(t.cost.total or 0 for t in langfuse_call.records.turns if t.cost)
    assert summary.attributes["voice.call.cost_usd"] >= total
