"""Span export under faults, against the loopback receiver's fault modes and real processes:
a backend that never answers cannot hold up exit, an outage that recovers loses nothing the
queue holds, and what is lost (a full queue, a span with an impossible time) is counted."""

from __future__ import annotations

import dataclasses
import logging
import os
import pickle
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource

from tests.export.conftest import PUBLIC, SECRET
from tests.otlp_receiver import OTLPReceiver
from turnscope.export import processor as span_processor
from turnscope.export.exporters import build_tracer_provider
from turnscope.export.spans import SpanSink
from turnscope.export.spantree import turn_plan
from turnscope.records import CallContext

if TYPE_CHECKING:
    from collections.abc import Iterator

    from opentelemetry.sdk.trace import TracerProvider

    from tests.conftest import SimulationCache
    from turnscope.records import Turn

ROOT = Path(__file__).resolve().parents[2]

FLUSH_TIMEOUT = 2.0
RETURN_MARGIN = 1.0
"""Seconds ``aflush`` may take past its timeout to return: the loop's wall-clock wake-up,
which a CI machine shared with other work delays (seen at 0.5 s+ under load; an unbounded
flush would take the exporter's 10 s timeout, so this still catches one)."""
TEARDOWN_MARGIN = 2.0
"""Seconds the process may take to exit after ``aflush`` returned, beyond what the same
process takes with a healthy backend in the same test: interpreter teardown is wall-clock
on a busy shared machine; a flush holding up exit costs the exporter's timeout (10 s)."""

SHORT_EXPORT_TIMEOUT = 2.5
"""The exporter's per-request timeout in these tests (10 s in production), so an outage
costs the test seconds, not minutes; above the exporter's first retry backoff (1 s ± 20 %),
so a 503 is retried once inside each export, as in production."""


@pytest.fixture
def receiver() -> Iterator[OTLPReceiver]:
    started = OTLPReceiver().start()
    yield started
    started.stop()


def _turns(simulations: SimulationCache) -> list[Turn]:
    return simulations.recorded("tool_with_preamble", seed=3).turns


def _spans(turns: list[Turn]) -> int:
    return sum(len(turn_plan(t, capture=True).walk()) for t in turns)


def _sink(receiver: OTLPReceiver) -> tuple[SpanSink, TracerProvider]:
    exporter = OTLPSpanExporter(endpoint=f"{receiver.url}/v1/traces", timeout=SHORT_EXPORT_TIMEOUT)
    provider = build_tracer_provider([(exporter, "OTLP", receiver.url)], Resource.create({}))
    sink = SpanSink(provider)
    return sink, provider


def _send(sink: SpanSink, turns: list[Turn], copies: int = 1) -> list[Turn]:
    call_id = turns[0].call_id
    sink.start_call(CallContext(call_id=call_id, session_id=call_id))
    sent = [
        dataclasses.replace(turns[n % len(turns)], index=n + 1) for n in range(len(turns) * copies)
    ]
    for turn in sent:
        sink.on_turn(turn)
    return sent


@dataclasses.dataclass
class _Exit:
    flush_started: float
    flush_returned: float
    exited: float
    delivered: bool
    log: str

    @property
    def teardown(self) -> float:
        return self.exited - self.flush_returned


def _agent_process(
    receiver: OTLPReceiver, payload: Path, turns: int, backend: str = "langfuse"
) -> _Exit:
    env = {**os.environ, "TURNSCOPE_DB": "off"}
    if backend == "langfuse":
        env |= {
            "LANGFUSE_PUBLIC_KEY": PUBLIC,
            "LANGFUSE_SECRET_KEY": SECRET,
            "LANGFUSE_BASE_URL": receiver.url,
        }
    else:  # spans and metrics to a generic OTLP endpoint
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.url
    command = ["-m", "tests.export.flush_child", str(payload), str(turns), str(FLUSH_TIMEOUT)]
    child = subprocess.Popen(
        [sys.executable, *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = child.communicate(timeout=120)
    exited = time.time()
    assert child.returncode == 0, err
    started, returned = out.splitlines()
    assert started.startswith("flushing "), out + err
    _, at, delivered = returned.split()
    return _Exit(float(started.split()[1]), float(at), exited, delivered == "True", err)


@pytest.mark.parametrize(
    ("turns", "backend"), [(30, "langfuse"), (3_000, "langfuse"), (30, "otlp")]
)
def test_a_black_holed_backend_lets_the_process_exit_at_the_flush_timeout(
    simulations: SimulationCache, tmp_path: Path, turns: int, backend: str
) -> None:
    payload = tmp_path / "turns.pickle"
    payload.write_bytes(pickle.dumps(_turns(simulations)))
    healthy = OTLPReceiver().start()
    black_hole = OTLPReceiver(black_hole=True).start()
    try:
        # side by side: each waited for by its own thread, which notes when that process
        # exited; the baseline then exits under the same load as the process it is for
        with ThreadPoolExecutor(max_workers=2) as pool:
            baseline_run = pool.submit(_agent_process, healthy, payload, 30, backend)
            hung_run = pool.submit(_agent_process, black_hole, payload, turns, backend)
            baseline, hung = baseline_run.result(), hung_run.result()
    finally:
        healthy.stop()
        black_hole.stop()
    assert baseline.delivered
    assert not hung.delivered
    assert black_hole.requests  # the exporter really was waiting on the backend
    assert hung.flush_returned - hung.flush_started <= FLUSH_TIMEOUT + RETURN_MARGIN
    assert hung.teardown <= baseline.teardown + TEARDOWN_MARGIN, hung.log
    assert "Traceback" not in hung.log
    assert hung.log.count("ran out of time") == 1  # said once, with what happens to the rest
    assert hung.log.count("spans for") == 1  # one line: how many spans were given up
    assert hung.log.count("scores were given up") <= 1
    assert SECRET not in hung.log


def test_an_outage_that_recovers_loses_no_span_and_says_what_happened(
    receiver: OTLPReceiver, simulations: SimulationCache, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.status = 503
    sink, provider = _sink(receiver)
    (processor,) = provider._active_span_processor._span_processors
    assert isinstance(processor, span_processor.BoundedSpanProcessor)
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        sent = _send(sink, _turns(simulations), copies=5)
        deadline = time.monotonic() + 60
        while processor._failures < 2:  # two whole exports failed: an outage, not a blip
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert not sink.flush(0.5)  # the backend is down: not delivered, still queued
        receiver.status = 200  # the backend is back
        assert sink.flush(30)
    assert len(receiver.delivered()) == _spans(sent)
    assert (processor.dropped, processor.failed, processor.given_up) == (0, 0, 0)
    # (other tests' posters may still retry their stopped receivers: only this backend's)
    lines = [r.getMessage() for r in caplog.records if receiver.url in r.getMessage()]
    assert len(lines) == 1, lines
    assert "HTTP 503 (Service Unavailable) through every retry" in lines[0]
    assert "no answer in time" not in lines[0]


def test_a_slow_backend_delays_spans_and_a_flush_returns_at_its_timeout(
    receiver: OTLPReceiver, simulations: SimulationCache
) -> None:
    receiver.delay = 0.5  # slower than the flush allows, faster than the exporter's timeout
    sink, _ = _sink(receiver)
    sent = _send(sink, _turns(simulations))
    started = time.monotonic()
    assert not sink.flush(0.2)
    assert time.monotonic() - started < 0.2 + 0.3  # the poll step and a busy machine
    assert sink.flush(30)
    assert len(receiver.delivered()) == _spans(sent)


def test_a_full_span_queue_drops_and_counts_what_does_not_fit(
    receiver: OTLPReceiver,
    simulations: SimulationCache,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(span_processor, "QUEUE_LIMIT", 20)
    receiver.black_hole = True
    sink, provider = _sink(receiver)
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        sent = _send(sink, _turns(simulations), copies=2)
        assert not sink.flush(1.0)
    (processor,) = provider._active_span_processor._span_processors
    assert isinstance(processor, span_processor.BoundedSpanProcessor)
    assert processor.pending() == 20
    assert processor.dropped == _spans(sent) - 20
    full = [r for r in caplog.records if "span queue" in r.getMessage()]
    assert len(full) == 1
    assert "dropped, and counted" in full[0].getMessage()
    assert processor.give_up() == 20
    assert processor.given_up == 20
    assert sink.flush(1.0)  # nothing left to wait for


@pytest.mark.parametrize(
    ("field", "when"),
    [
        pytest.param("started_at", 2**64 / 1e9 + 100, id="after-2554"),
        pytest.param("started_at", 3.0, id="near-1970"),
        pytest.param("ended_at", -5.0, id="before-1970"),
    ],
)
def test_a_span_with_an_impossible_time_is_dropped_alone(
    receiver: OTLPReceiver,
    simulations: SimulationCache,
    caplog: pytest.LogCaptureFixture,
    field: str,
    when: float,
) -> None:
    good, bad = _turns(simulations)[:2]
    (llm, *_) = [r for r in bad.requests if r.kind == "llm"]
    broken = dataclasses.replace(llm, **{field: when})  # type: ignore[arg-type]
    bad = dataclasses.replace(bad, requests=tuple(broken if r is llm else r for r in bad.requests))
    sink, _ = _sink(receiver)
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        _send(sink, [good, bad])
        assert sink.flush(10)
    names = sorted(s.name for s in receiver.delivered())
    expected = sorted(
        [s.name for s in turn_plan(good, capture=True).walk()]
        + [s.name for s in turn_plan(bad, capture=True).walk()]
    )
    expected.remove("llm")  # that one LLM span alone
    assert names == expected
    assert sink.out_of_range == 1
    (line,) = [r.getMessage() for r in caplog.records if "outside 2000-2100" in r.getMessage()]
    assert "'llm'" in line
    assert "outside 2000-2100" in line


def test_a_span_the_encoder_refuses_is_dropped_alone_from_its_batch(
    receiver: OTLPReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    _, provider = _sink(receiver)
    tracer = provider.get_tracer("elsewhere")
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        tracer.start_span("fine").end()
        tracer.start_span("bad", attributes={"text": "half \ud83d emoji"}).end()
        tracer.start_span("also fine").end()
        assert provider.force_flush(10_000)
    delivered = {s.name: s for s in receiver.delivered()}
    assert {"fine", "also fine"} <= set(delivered)  # never the whole batch
    # the SDK's encoder leaves the attribute out (older ones fail the span: dropped alone)
    assert "bad" not in delivered or "text" not in delivered["bad"].attributes
    (line,) = [
        r.getMessage() for r in caplog.records if r.name.startswith(("turnscope", "opentel"))
    ]
    assert "could not be encoded" in line or "left out" in line
    assert "Traceback" not in caplog.text


def test_the_flush_at_session_close_holds_up_no_loop_shutdown(receiver: OTLPReceiver) -> None:
    """A flush still running when ``asyncio.run`` ends must not keep it waiting: the
    loop's executor is joined at shutdown, so flushing never runs there."""
    import asyncio

    from livekit.agents import AgentSession

    import turnscope

    receiver.black_hole = True
    exporter = OTLPSpanExporter(endpoint=f"{receiver.url}/v1/traces", timeout=30)
    provider = build_tracer_provider([(exporter, "OTLP", receiver.url)], Resource.create({}))
    before = set(threading.enumerate())

    async def agent() -> None:
        handle = turnscope.instrument(AgentSession(), tracer_provider=provider, sinks=None)
        handle._flush_in_background()  # what session close does
        await asyncio.sleep(0.2)

    started = time.monotonic()
    asyncio.run(agent())
    assert time.monotonic() - started < 5.0  # vs the 30 s the exporter would wait
    left = [t for t in set(threading.enumerate()) - before if not t.daemon]
    assert left == []


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released): connections are refused."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("signal", ["spans", "metrics"])
def test_a_refused_connection_is_named_apart_from_a_silent_backend(
    signal: str,
    receiver: OTLPReceiver,
    simulations: SimulationCache,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing listening (a wrong port, a backend not started) is said as such; a backend
    that accepts the connection and never answers is "no answer in time". Each was once the
    other's line, which sent users looking at the network for a port typo."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    from turnscope.export import exporters

    monkeypatch.setattr(exporters, "METRICS_EXPORT_TIMEOUT", SHORT_EXPORT_TIMEOUT)
    receiver.black_hole = True
    refused = f"http://127.0.0.1:{_closed_port()}"
    lines: dict[str, str] = {}
    given_up: dict[str, list[str]] = {}
    for case, url in (("refused", refused), ("silent", receiver.url)):
        name = f"{case} OTLP {signal}"  # "metrics" in the name: what is said of the points
        with caplog.at_level(logging.WARNING, logger="turnscope"):
            if signal == "spans":
                exporter = OTLPSpanExporter(
                    endpoint=f"{url}/v1/traces", timeout=SHORT_EXPORT_TIMEOUT
                )
                provider = build_tracer_provider([(exporter, name, url)], Resource.create({}))
                sink = SpanSink(provider)
                _send(sink, _turns(simulations)[:1])
                deadline = time.monotonic() + 4 * SHORT_EXPORT_TIMEOUT
                while f"{name} export" not in caplog.text and time.monotonic() < deadline:
                    time.sleep(0.05)  # the exporter's own deadline: then it says why
                processor = provider._active_span_processor._span_processors[0]
                assert isinstance(processor, span_processor.BoundedSpanProcessor)
                processor.give_up()
                given_up[case] = [
                    r.getMessage()
                    for r in caplog.records
                    if f"for {name} were given up" in r.getMessage()
                ]
            else:
                reader = PeriodicExportingMetricReader(
                    exporters.explained_metric_exporter(name, f"{url}/v1/metrics"),
                    export_interval_millis=3_600_000,
                )
                meters = MeterProvider(metric_readers=[reader])
                meters.get_meter("test").create_counter("turns").add(1)
                reader.force_flush()
                meters.shutdown(timeout_millis=100)
        (lines[case],) = [
            r.getMessage() for r in caplog.records if f"{name} export" in r.getMessage()
        ]
    assert "connection refused: nothing listens at that host and port" in lines["refused"]
    assert "no answer in time" not in lines["refused"]
    assert "no answer in time" in lines["silent"]
    assert "refused" not in lines["silent"]
    if signal == "spans":  # what was still queued is given up with the same cause, once
        (refused_line,) = given_up["refused"]
        assert "(the backend refused the connection: nothing listens" in refused_line
        (silent_line,) = given_up["silent"]
        assert "(the backend did not take them in time)" in silent_line
