"""A real OTLP/HTTP receiver on 127.0.0.1 that decodes what it gets (opentelemetry-proto).

It records every request's path, headers and decoded spans, and can be told to fail as a
broken backend would — each mode can change while it runs (an outage that recovers):

- ``status``: answer every request with this HTTP status (503: overloaded, 401: bad keys);
- ``delay``: answer only after this many seconds (a slow backend);
- ``black_hole``: accept the connection, read the request, never answer (until ``stop``);
- ``hang``: like a black hole until the event is set (then answer ``status``).
"""

from __future__ import annotations

import gzip
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

if TYPE_CHECKING:
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue

POLL_INTERVAL = 0.05
"""Seconds between the serving loop's checks for ``stop``, which waits for the next one (0.5 s
by default: paid by every test that stops a receiver, dozens in the suite)."""


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    raw_encoding: str | None
    request: ExportTraceServiceRequest
    status: int | None = None
    """What it was answered (None: never answered)."""


@dataclass
class ReceivedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    start: float
    end: float
    attributes: dict[str, Any]
    status_code: int
    status_message: str
    resource: dict[str, Any]
    scope: str
    events: list[str] = field(default_factory=list)
    """Names of the span's events (what non-Langfuse backends show on a timeline)."""


def value_of(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [value_of(v) for v in value.array_value.values]
    if kind is None:
        return None
    return getattr(value, kind)


@dataclass
class OTLPReceiver:
    status: int = 200
    hang: threading.Event | None = None
    delay: float = 0.0
    black_hole: bool = False
    max_batch: int | None = None
    """Answer 413 to a score batch with more events than this (a proxy's body limit)."""
    requests: list[ReceivedRequest] = field(default_factory=list)
    scores: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    """Langfuse scores accepted: (headers, the score's JSON body)."""
    score_requests: list[int] = field(default_factory=list)
    """Scores per ingestion request received (answered or not)."""
    metrics: list[ExportMetricsServiceRequest] = field(default_factory=list)
    handler_threads: set[str] = field(default_factory=set)
    _server: ThreadingHTTPServer | None = None
    _stopped: threading.Event = field(default_factory=threading.Event)

    def answer(self) -> int | None:
        """Wait as the current mode says; the status to answer, or None (stopped meanwhile)."""
        if self.black_hole:
            self._stopped.wait()
            return None
        if self.hang is not None:
            self.hang.wait(30)
        if self.delay and self._stopped.wait(self.delay):
            return None
        return self.status

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def start(self) -> OTLPReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if self.path == "/api/public/ingestion":
                    status = receiver.answer()
                    if status is None:
                        return
                    events = json.loads(body)["batch"]
                    receiver.score_requests.append(len(events))
                    if receiver.max_batch is not None and len(events) > receiver.max_batch:
                        status = 413
                    if status < 300:
                        headers = {k.lower(): v for k, v in self.headers.items()}
                        receiver.scores += [(headers, e["body"]) for e in events]
                        status = 207
                        answer = {"successes": [{"id": e["id"], "status": 201} for e in events]}
                        payload = json.dumps({**answer, "errors": []}).encode()
                    else:
                        payload = b"{}"
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if self.path == "/api/public/scores":
                    status = receiver.answer()
                    if status is None:
                        return
                    if status < 300:
                        receiver.scores.append(
                            ({k.lower(): v for k, v in self.headers.items()}, json.loads(body))
                        )
                    self.send_response(status)
                    self.end_headers()
                    return
                encoding = self.headers.get("Content-Encoding")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                if self.path.endswith("/v1/metrics"):
                    metrics = ExportMetricsServiceRequest()
                    metrics.ParseFromString(body)
                    receiver.metrics.append(metrics)
                    status = receiver.answer()  # the same fault modes as spans
                    if status is None:
                        return
                    self.send_response(status)
                    self.end_headers()
                    return
                message = ExportTraceServiceRequest()
                message.ParseFromString(body)
                received = ReceivedRequest(
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    encoding,
                    message,
                )
                receiver.requests.append(received)
                status = receiver.answer()
                if status is None:
                    return
                received.status = status
                self.send_response(status)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        server = self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self.hang is not None:
            self.hang.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def delivered(self) -> list[ReceivedSpan]:
        """The spans of requests answered with success: what the backend really kept."""
        return self.spans(delivered_only=True)

    def spans(self, *, delivered_only: bool = False) -> list[ReceivedSpan]:
        found = []
        for received in self.requests:
            if delivered_only and not (received.status is not None and received.status < 300):
                continue
            for resource_spans in received.request.resource_spans:
                resource = {a.key: value_of(a.value) for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        found.append(
                            ReceivedSpan(
                                name=span.name,
                                trace_id=span.trace_id.hex(),
                                span_id=span.span_id.hex(),
                                parent_id=span.parent_span_id.hex(),
                                start=span.start_time_unix_nano / 1e9,
                                end=span.end_time_unix_nano / 1e9,
                                attributes={a.key: value_of(a.value) for a in span.attributes},
                                status_code=span.status.code,
                                status_message=span.status.message,
                                resource=resource,
                                scope=scope_spans.scope.name,
                                events=[e.name for e in span.events],
                            )
                        )
        return found
