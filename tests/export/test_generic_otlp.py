"""Generic OTLP export (http/protobuf and gRPC), alone or beside Langfuse: a simulated call's
records replayed into the sinks each set-up builds (``replay_call``)."""

from __future__ import annotations

from concurrent import futures
from typing import TYPE_CHECKING, Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from tests.export.conftest import close_meter_providers, replay_call
from tests.otlp_receiver import OTLPReceiver

if TYPE_CHECKING:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from tests.conftest import SimulationCache


def test_http_otlp_beside_langfuse_gets_the_same_spans(simulations: SimulationCache) -> None:
    langfuse, collector = OTLPReceiver().start(), OTLPReceiver().start()
    try:
        exported = replay_call(
            langfuse,
            simulations.recorded("tool_with_preamble"),
            env={
                "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
                "OTEL_EXPORTER_OTLP_HEADERS": "x-team=voice",
            },
        )
    finally:
        close_meter_providers()  # its metrics go to the collector too: while it answers
        langfuse.stop()
        collector.stop()
    assert exported.flushed
    assert {r.path for r in collector.requests} == {"/v1/traces"}
    assert all("authorization" not in r.headers for r in collector.requests)
    assert all(r.headers["x-team"] == "voice" for r in collector.requests)
    names = sorted(s.name for s in collector.spans())
    assert names == sorted(s.name for s in langfuse.spans())
    assert "tool get_weather" in names


class _Collector(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []

    def Export(self, request: ExportTraceServiceRequest, context: Any) -> Any:
        self.requests.append(request)
        return trace_service_pb2.ExportTraceServiceResponse()


def test_grpc_otlp(simulations: SimulationCache) -> None:
    collector = _Collector()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(collector, server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    unused = OTLPReceiver().start()  # Langfuse off: replay_call needs a URL, the keys are unset
    try:
        exported = replay_call(
            unused,
            simulations.recorded("tool_with_preamble"),
            env={
                "LANGFUSE_PUBLIC_KEY": "",
                "LANGFUSE_SECRET_KEY": "",
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                "OTEL_EXPORTER_OTLP_INSECURE": "true",
            },
        )
    finally:
        close_meter_providers()
        server.stop(None)
        unused.stop()
    assert exported.flushed
    assert unused.requests == []
    spans = [
        span
        for request in collector.requests
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    turns = [s for s in spans if s.name.startswith("turn ")]
    assert len(turns) == len(exported.records.turns) == 2
