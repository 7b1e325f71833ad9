"""Hostile input from end to end: a real call's LiveKit events, replayed into a real
``AgentSession`` with hypothesis putting lone surrogates, NUL, ANSI escapes and rich markup in
every text, and huge, negative and non-finite numbers and far timestamps in the metrics —
through the adapter, the recorder and the pipeline to every sink (store, spans, metrics, EMF).

Nothing may escape into the agent, no sink's thread may die, and every output must be valid
(SQLite rows, OTLP-encodable spans, strict JSON) and literal (the text as said, a lone
surrogate shown as U+FFFD).
"""

from __future__ import annotations

import asyncio
import io
import json
import math
from typing import TYPE_CHECKING, Any

import pytest
from benchmarks.common import prepare_steps, record, replay_steps
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from livekit.agents import AgentSession, llm
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import turnscope
from turnscope.export.emf import EMFSink
from turnscope.export.metrics import MetricsSink
from turnscope.export.spans import SpanSink
from turnscope.sinks.memory import MemorySink
from turnscope.sinks.pipeline import pipeline
from turnscope.store import open_for_reading
from turnscope.store.writer import LocalStore

if TYPE_CHECKING:
    from pathlib import Path

    from benchmarks.common import Recording

    from turnscope.sinks import Sink


# Hypothesis checks that the global `random` state does not change while it draws; spans'
# ids (OpenTelemetry) and the simulation use it from background threads of this process, which
# is not the strategy's doing, so that deprecation warning is no error here.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

HOSTILE_TEXT = [
    "half an emoji \ud83d",
    "\udfff low half first",
    "nul \x00 inside",
    "\x1b[2J\x1b[H clear screen",
    "\x1b]0;pwned title\x07",
    "[/bold] closes nothing",
    "[link=https://evil.example]click[/link]",
    "",
]
HOSTILE_NUMBERS: list[Any] = [2**63, 2**64 + 5, -1, -(2**63) - 1, 1e308, math.nan, math.inf, -0.0]
FAR_TIMES: list[float] = [1.0, -5.0, 2**64 / 1e9 + 100, 1e12, 0.0]

texts = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=20))
numbers = st.one_of(st.sampled_from(HOSTILE_NUMBERS), st.integers(), st.floats())
times = st.sampled_from(FAR_TIMES)


@pytest.fixture(scope="module")
def recording() -> Recording:
    return asyncio.run(record(3, speed=8.0))


def _patch_text(payload: Any, text: str) -> Any:
    item = getattr(payload, "item", None)
    if isinstance(item, llm.ChatMessage):
        return payload.model_copy(update={"item": item.model_copy(update={"content": [text]})})
    if hasattr(payload, "transcript"):
        return payload.model_copy(update={"transcript": text})
    return payload


def _patch_metrics(payload: Any, number: Any, when: float | None) -> Any:
    metrics = getattr(payload, "metrics", None)
    if metrics is None:
        return payload
    update: dict[str, Any] = {}
    for name in ("prompt_tokens", "completion_tokens", "characters_count", "audio_duration"):
        if hasattr(metrics, name):
            update[name] = number
    if when is not None:
        update["timestamp"] = when
    return payload.model_copy(update={"metrics": metrics.model_copy(update=update)})


def _hostile(recording: Recording, data: st.DataObject) -> list[tuple[str, Any]]:
    """The recorded stream with hostile values drawn into its texts and metrics; the first
    message always ends in half an emoji (so every example has one)."""
    stream = []
    first = True
    for name, payload in recording.stream:
        if first and isinstance(getattr(payload, "item", None), llm.ChatMessage):
            first = False
            payload = _patch_text(payload, data.draw(texts) + "\ud83d")
        elif name in ("conversation_item_added", "user_input_transcribed") and data.draw(
            st.booleans()
        ):
            payload = _patch_text(payload, data.draw(texts))
        elif name == "metrics_collected" and data.draw(st.booleans()):
            when = data.draw(st.one_of(st.none(), times))
            payload = _patch_metrics(payload, data.draw(numbers), when)
        stream.append((name, payload))
    return stream


class _Sinks:
    def __init__(self, path: Path) -> None:
        self.spans = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader()
        self.emf_lines = io.StringIO()
        self.store = LocalStore(path)
        self.span_sink = SpanSink(provider)
        self.memory = MemorySink()
        self.all: list[Sink] = [
            self.store,
            self.span_sink,
            MetricsSink(MeterProvider(metric_readers=[self.reader])),
            EMFSink(self.emf_lines),
            self.memory,
        ]


def _strict_json(text: str) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


async def _replay(stream: list[tuple[str, Any]], sinks: _Sinks) -> turnscope.Instrumentation:
    session: AgentSession[Any] = AgentSession()
    handle = turnscope.instrument(session, sinks=sinks.all)
    replay_steps(session, prepare_steps(stream), [0.0])
    session.emit("close", _close_event())
    assert await handle.aflush(timeout=20)
    return handle


def _close_event() -> Any:
    from livekit.agents.voice.events import CloseEvent, CloseReason

    return CloseEvent(reason=CloseReason.USER_INITIATED)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_hostile_values_reach_every_sink_valid_and_literal(
    recording: Recording, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    stream = _hostile(recording, data)
    sinks = _Sinks(tmp_path_factory.mktemp("fuzz") / "s.db")
    handle = asyncio.run(_replay(stream, sinks))
    assert handle.internal_errors == []
    assert pipeline()._thread.is_alive()
    assert sinks.store._thread.is_alive()
    assert sinks.span_sink._thread.is_alive()
    assert sinks.store.rejected == 0
    assert sinks.memory.calls, "the call was recorded"

    # the store: every turn, its text as said (a lone surrogate shown as U+FFFD)
    db = open_for_reading(sinks.store.path)
    rows = db.execute("SELECT user_text, agent_text FROM turns ORDER BY turn").fetchall()
    assert len(rows) == len(sinks.memory.turns)
    for (user, agent), turn in zip(rows, sinks.memory.turns, strict=True):
        assert (user, agent) == (turn.user_text, turn.agent_text)
        for text in (user, agent):
            if text is not None:
                text.encode("utf-8")  # valid: no surrogate left
    said = {t for t in HOSTILE_TEXT if t.isprintable() or "\x1b" in t or "\x00" in t}
    stored = " ".join(t for row in rows for t in row if t)
    for text in said:
        if text and text in " ".join(t.agent_text or "" for t in sinks.memory.turns):
            assert text in stored  # ANSI, NUL and markup kept literally, never interpreted

    # the spans: each encodes as OTLP, with only in-range times
    finished = sinks.spans.get_finished_spans()
    encode_spans(finished).SerializeToString()
    for span in finished:
        assert span.start_time is not None
        assert span.end_time is not None
        assert 946_684_800 * 10**9 <= span.start_time <= span.end_time < 2**64

    # EMF: strict JSON lines (no NaN, no Infinity)
    for line in sinks.emf_lines.getvalue().splitlines():
        _strict_json(line)
    sinks.store.close(10)
