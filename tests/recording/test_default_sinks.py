"""Where records go when no sink is given: the environment decides (DESIGN §3)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from livekit.agents import AgentSession

import turnscope
from turnscope.export.metrics import MetricsSink
from turnscope.export.spans import SpanSink
from turnscope.store.writer import LocalStore

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def _sinks() -> list[object]:
    async def build() -> list[object]:
        session: AgentSession[None] = AgentSession()
        handle = turnscope.instrument(session)
        return list(handle._sinks)

    return asyncio.run(build())


def test_the_store_is_on_by_default_at_turnscope_db(private_store: Path) -> None:
    (sink,) = _sinks()
    assert isinstance(sink, LocalStore)
    assert sink.path == private_store


def test_a_remote_exporter_turns_the_default_store_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TURNSCOPE_DB")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    spans, metrics = _sinks()
    assert isinstance(spans, SpanSink)
    assert isinstance(metrics, MetricsSink)  # a generic OTLP endpoint takes metrics too


def test_turnscope_db_keeps_the_store_on_next_to_a_remote_exporter(
    private_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", "pk-lf-test")
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", "sk-lf-test")
    monkeypatch.setenv("LANGFUSE_BASE_URL", "http://127.0.0.1:9")
    spans, store = _sinks()
    assert isinstance(spans, SpanSink)
    assert isinstance(store, LocalStore)


def test_a_given_tracer_provider_gets_the_spans_and_is_not_made_global() -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    provider = TracerProvider()

    async def build() -> list[object]:
        session: AgentSession[None] = AgentSession()
        return list(turnscope.instrument(session, tracer_provider=provider)._sinks)

    sinks = asyncio.run(build())
    (spans,) = [s for s in sinks if isinstance(s, SpanSink)]
    assert spans.provider is provider
    assert trace.get_tracer_provider() is not provider
    assert any(isinstance(s, LocalStore) for s in sinks)  # TURNSCOPE_DB is set: kept on


def test_turnscope_db_off_disables_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TURNSCOPE_DB", "off")
    assert _sinks() == []


def test_capture_switch_reaches_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TURNSCOPE_CAPTURE_CONTENT", "false")
    (sink,) = _sinks()
    assert isinstance(sink, LocalStore)
    assert sink.capture_content is False


def test_configure_overrides_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from turnscope import config

    monkeypatch.setattr(config, "_configured", {})
    turnscope.configure(db=tmp_path / "chosen.db", capture_content=False)
    (sink,) = _sinks()
    assert isinstance(sink, LocalStore)
    assert sink.path == tmp_path / "chosen.db"
    assert sink.capture_content is False
    turnscope.configure(db="off")
    assert _sinks() == []
