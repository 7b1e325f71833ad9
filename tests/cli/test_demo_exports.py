"""`turnscope demo` exports like an agent would: to every backend the environment sets up,
besides the local store, and says where the call went."""

from __future__ import annotations

from typing import TYPE_CHECKING

from click.testing import CliRunner

from tests.export.conftest import PUBLIC, SECRET, close_meter_providers
from tests.otlp_receiver import OTLPReceiver
from turnscope.cli import main

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def test_the_demo_reaches_langfuse_and_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = OTLPReceiver().start()
    try:
        monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", PUBLIC)
        monkeypatch.setenv("LANGFUSE_SECRET_KEY", SECRET)
        monkeypatch.setenv("LANGFUSE_BASE_URL", receiver.url)
        db = tmp_path / "demo.db"
        result = CliRunner().invoke(main, ["demo", "--speed", "8", "--db", str(db)])
    finally:
        receiver.stop()
    assert result.exit_code == 0, result.output
    spans = receiver.spans()
    ours = [s for s in spans if s.attributes.get("session.id") == "demo-basic"]
    assert ours  # the call's spans arrived
    traces = {s.trace_id for s in ours}
    endpoint = f"{receiver.url}/api/public/otel/v1/traces"
    assert f"sent to Langfuse {endpoint}: {len(traces)} traces, session demo-basic" in (
        result.output
    )
    assert {s.attributes.get("langfuse.trace.tags") is not None for s in ours} == {True}
    assert db.is_file()  # and the store has it too
    assert "stored in" in result.output
    assert "speed 8x: every latency is 8 times shorter than at real speed" in result.output


def test_the_demo_says_when_nothing_arrived(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = OTLPReceiver(status=401).start()
    try:
        monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", PUBLIC)
        monkeypatch.setenv("LANGFUSE_SECRET_KEY", SECRET)
        monkeypatch.setenv("LANGFUSE_BASE_URL", receiver.url)
        result = CliRunner().invoke(
            main, ["demo", "--speed", "8", "--db", str(tmp_path / "demo.db")]
        )
    finally:
        receiver.stop()
    assert result.exit_code == 0, result.output
    assert f"nothing delivered to Langfuse {receiver.url}/api/public/otel/v1/traces" in (
        result.output
    )
    assert "sent to Langfuse" not in result.output


def test_the_demo_keeps_otlp_metrics_and_emf_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = OTLPReceiver().start()
    emf = tmp_path / "emf.log"
    try:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
        monkeypatch.setenv("TURNSCOPE_EMF", str(emf))
        result = CliRunner().invoke(
            main, ["demo", "--speed", "8", "--db", str(tmp_path / "demo.db")]
        )
        close_meter_providers()
    finally:
        receiver.stop()
    assert result.exit_code == 0, result.output
    ours = [s for s in receiver.spans() if s.attributes.get("session.id") == "demo-basic"]
    traces = len({s.trace_id for s in ours})
    assert traces
    assert f"sent to OTLP {receiver.url}/v1/traces: {traces} traces, session demo-basic" in (
        result.output
    )
    assert receiver.metrics  # the demo's metrics arrived
    assert f"metrics sent to {receiver.url}/v1/metrics" in result.output
    lines = emf.read_text().splitlines()
    assert len(lines) == 4  # one EMF line per turn of the basic call
    assert f"EMF lines written to {emf}" in result.output


def test_the_demo_says_when_no_metrics_arrived(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sibling for metrics: a backend that refuses them (or nothing at the port) is
    named as such, never 'metrics sent'."""
    receiver = OTLPReceiver(status=401).start()
    try:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
        result = CliRunner().invoke(
            main, ["demo", "--speed", "8", "--scenario", "text", "--db", str(tmp_path / "d.db")]
        )
        close_meter_providers()
    finally:
        receiver.stop()
    assert result.exit_code == 0, result.output
    assert f"no metrics delivered to {receiver.url}/v1/metrics" in result.output
    assert "metrics sent" not in result.output
