"""The OTLP exporters turnscope builds from the environment, and the tracer provider they
feed — ours alone, shared by every session of the process, never the global one.

- Langfuse (``LANGFUSE_PUBLIC_KEY`` + ``LANGFUSE_SECRET_KEY``; ``LANGFUSE_BASE_URL`` or
  ``LANGFUSE_HOST``, default EU cloud): OTLP/HTTP protobuf, gzip, posted to
  ``{base}/api/public/otel/v1/traces`` with Basic auth and ``x-langfuse-ingestion-version: 4``.
- Any OTLP backend (``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``..._TRACES_ENDPOINT``, with the
  standard ``OTEL_EXPORTER_OTLP_*`` variables): http/protobuf, or grpc when
  ``OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL=grpc``.

A backend that fails gets one clear log line naming the fix (per kind of failure), instead of
the exporter's line per batch.
"""

from __future__ import annotations

import base64
import http
import logging
import threading
import weakref
from dataclasses import dataclass
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from turnscope.config import DEFAULT_LANGFUSE, Settings, current_settings, mask, shown_url
from turnscope.export.processor import BoundedSpanProcessor

if TYPE_CHECKING:
    from collections.abc import Sequence

    from opentelemetry.sdk.trace import ReadableSpan

__all__ = [
    "Delivery",
    "LangfuseSettings",
    "build_tracer_provider",
    "deliveries",
    "explain_failure",
    "explained_metric_exporter",
    "give_up_refused",
    "langfuse_settings",
    "metrics_delivered",
    "metrics_refused",
    "shared_tracer_provider",
]

logger = logging.getLogger("turnscope")

LANGFUSE_TRACES_PATH = "/api/public/otel/v1/traces"
EXPORT_TIMEOUT = 10.0
MAX_SESSIONS = 1_000
"""Sessions whose delivered traces are counted (for ``turnscope demo``'s last line)."""
METRICS_EXPORT_TIMEOUT = 5.0
_OTLP_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http.metric_exporter",
    "opentelemetry.exporter.otlp.common.http",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
    "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
    "opentelemetry.exporter.otlp.proto.common._internal",
)


@dataclass(frozen=True)
class LangfuseSettings:
    public_key: str
    secret_key: str
    base_url: str

    @property
    def endpoint(self) -> str:
        return self.base_url.rstrip("/") + LANGFUSE_TRACES_PATH

    def headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.public_key}:{self.secret_key}".encode()).decode()
        return {
            "Authorization": f"Basic {token}",
            "x-langfuse-ingestion-version": "4",
            "x-langfuse-sdk-name": "turnscope",
            "x-langfuse-sdk-version": version("turnscope"),
        }

    def __repr__(self) -> str:  # never show the secret
        return (
            f"LangfuseSettings(public_key={mask(self.public_key)!r}, "
            f"secret_key={mask(self.secret_key)!r}, base_url={shown_url(self.base_url)!r})"
        )


def langfuse_settings(settings: Settings | None = None) -> LangfuseSettings | None:
    """Langfuse's keys and host, as resolved by the settings table (None when not both keys
    are set, or the host is unusable)."""
    settings = settings or current_settings()
    public, secret = settings.langfuse_public_key, settings.langfuse_secret_key
    if not settings.langfuse or not public or not secret:
        return None
    return LangfuseSettings(public, secret, settings.langfuse_base_url or DEFAULT_LANGFUSE)


def _langfuse_exporter(settings: LangfuseSettings) -> SpanExporter:
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(
        endpoint=settings.endpoint,
        headers=settings.headers(),
        compression=Compression.Gzip,
        timeout=EXPORT_TIMEOUT,
    )


def _generic_exporter(settings: Settings) -> SpanExporter:
    if settings.otlp_protocol == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter as GrpcSpanExporter,
            )
        except ImportError as error:  # pragma: no cover - installed with livekit-agents
            raise RuntimeError(
                "OTLP over gRPC needs opentelemetry-exporter-otlp-proto-grpc: "
                "pip install opentelemetry-exporter-otlp-proto-grpc"
            ) from error
        return GrpcSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # reads the standard OTEL_EXPORTER_OTLP_* variables itself


_exporting = threading.local()


class _ExportFailureNotes(logging.Filter):
    """Rewrites the OTLP exporters' per-batch failure lines — only those of turnscope's own
    exports, so other exporters in the process log as they always did."""

    def filter(self, record: logging.LogRecord) -> bool:
        notes: _FailureNotes | None = getattr(_exporting, "notes", None)
        if notes is None:
            return True
        if record.levelno >= logging.WARNING:
            notes.note_failure(record)
            return False
        return True


_notes_filter = _ExportFailureNotes()
for _name in _OTLP_LOGGERS:
    logging.getLogger(_name).addFilter(_notes_filter)


_REASONS = {status.phrase: status.value for status in http.HTTPStatus}
RETRYABLE_KINDS = frozenset({"timeout", "retries", "refused"})
"""Failures worth trying the same batch again: the backend may come back."""


class _FailureNotes:
    """Turns an exporter's failure log records into one line per kind, with the fix."""

    def __init__(self, backend: str, target: str) -> None:
        self.backend = backend
        self.target = target
        self.last_kind: str | None = None
        """The kind of the last failure seen (None: none since ``reset``)."""
        self.refusing = False
        """The last try's connection was refused (nothing listens there): known at the first
        refusal, before the exporter's own retries run out; cleared by any answer."""
        self._transient: object = None

    def reset(self) -> None:
        self.last_kind, self._transient = None, None

    def note_failure(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        args = record.args if isinstance(record.args, tuple) else ()
        code = next((a for a in args if isinstance(a, int)), None)
        if "Shutdown in progress" in message:
            return  # our own shutdown cut a retry short: no news about the backend
        if "Transient error" in message:
            self._transient = args[0] if args else None
            self.refusing = _is_refusal(self._transient)
            return  # retrying; the final outcome is what we report
        if "Failed to encode key" in message:  # newer encoders leave the attribute out
            self._explain("attribute", message.split(":", 1)[0])
        elif "Failed to encode" in message:
            self.last_kind = "encode"  # the exporter wrapper drops the spans at fault alone
        elif code is not None:
            self._explain(str(code), message)
        elif "timeout" in message or "max retries" in message:
            reason = self._transient
            if isinstance(reason, str) and reason in _REASONS:  # an HTTP answer, every time
                self._explain("retries", f"HTTP {_REASONS[reason]} ({reason})")
            elif _is_refusal(reason):
                # the error's own text is left out: it holds the URL, credentials and all
                self._explain("refused", message)
            else:
                self._explain("timeout", message)
        else:
            self._explain("other", message)

    def _explain(self, kind: str, detail: str) -> None:
        self.last_kind = kind
        self.refusing = kind == "refused"
        explain_failure(self.backend, self.target, kind, detail)


def _is_refusal(reason: object) -> bool:
    """Whether an exporter's failure reason is a refused connection."""
    return reason is not None and "refused" in str(reason).lower()


class _ExplainedExporter(SpanExporter):
    """Wraps a span exporter: its failures are explained, never a line per batch; a span
    the encoder refuses is dropped alone, not with its batch; it says whether a failure is
    worth a retry; what it delivered is counted (traces by their root span)."""

    def __init__(self, inner: SpanExporter, backend: str, target: str) -> None:
        self._inner = inner
        self.backend = backend
        self.target = target
        self.notes = _FailureNotes(backend, target)
        self.failures = 0
        self.delivered_roots: dict[str, int] = {}
        """Root spans delivered, by the ``session.id`` they carry (bounded by sessions)."""
        self.unencodable = 0
        """Spans the OTLP encoder refused, each dropped alone."""
        self.queue: BoundedSpanProcessor | None = None
        """The processor feeding it (set by ``build_tracer_provider``)."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self._export(spans)
        if result is not SpanExportResult.SUCCESS and self.notes.last_kind == "encode":
            kept = [span for span in spans if _encodes(span)]
            self._note_unencodable(len(spans) - len(kept))
            result = self._export(kept) if kept else SpanExportResult.SUCCESS
        if result is not SpanExportResult.SUCCESS:
            self.failures += 1
        else:
            self.notes.refusing = False
            self._count(spans)
        return result

    def _count(self, spans: Sequence[ReadableSpan]) -> None:
        for span in spans:
            if span.parent is None:
                session = str((span.attributes or {}).get("session.id", ""))
                if session in self.delivered_roots or len(self.delivered_roots) < MAX_SESSIONS:
                    self.delivered_roots[session] = self.delivered_roots.get(session, 0) + 1

    def retryable(self) -> bool:
        return self.notes.last_kind in RETRYABLE_KINDS

    def refusing(self) -> bool:
        return self.notes.refusing

    def _export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.notes.reset()
        _exporting.notes = self.notes
        try:
            return self._inner.export(spans)
        except Exception as error:  # an exporter bug must not kill the export thread
            self.notes._explain("error", f"{type(error).__name__}: {error}")
            return SpanExportResult.FAILURE
        finally:
            _exporting.notes = None

    def _note_unencodable(self, count: int) -> None:
        self.unencodable += count
        if count and self.unencodable == count:
            logger.warning(
                "turnscope: %d span(s) could not be encoded for %s and were dropped alone; "
                "the rest of their batch was sent. Please report it.",
                count,
                self.backend,
            )

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)


def _encodes(span: ReadableSpan) -> bool:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    try:
        encode_spans([span]).SerializePartialToString()
    except Exception:
        return False
    return True


_explained: set[tuple[str, str, str]] = set()
_explained_lock = threading.Lock()


def explain_failure(backend: str, target: str, kind: str, detail: str) -> None:
    """One log line per backend, target and kind of failure for the whole process, naming
    the fix: a refused key must not print a line per batch, nor one per signal (spans,
    scores); a second target failing the same way (another session's endpoint) still gets
    its own line."""
    with _explained_lock:
        if (backend, target, kind) in _explained:
            return
        _explained.add((backend, target, kind))
    logger.warning(
        "turnscope: %s export to %s failed: %s",
        backend,
        shown_url(target),
        _fix(kind, backend, detail),
    )


def _fix(kind: str, backend: str, detail: str) -> str:
    if backend.startswith("Langfuse"):
        keys = "LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY"
    else:
        keys = "OTEL_EXPORTER_OTLP_HEADERS"
    if kind in ("401", "403"):
        return (
            f"HTTP {kind}: the backend refused the credentials; check {keys} "
            "(and that the host is your project's region)."
        )
    if kind == "404":
        return (
            "HTTP 404: wrong host or path; for Langfuse the path is "
            "/api/public/otel/v1/traces (turnscope adds it to LANGFUSE_BASE_URL)."
        )
    if kind == "413":
        return (
            "HTTP 413: a request was larger than the backend, or a proxy in front of it, "
            "accepts: raise that proxy's body size limit (e.g. nginx client_max_body_size). "
            "Score batches are split and resent; that span batch was dropped."
        )
    if kind.isdigit():
        return f"HTTP {kind} from the backend; this batch was dropped, recording goes on."
    if kind == "attribute":
        return (
            f"{detail}: a span attribute held invalid text and was left out; the span was "
            "sent. Please report it."
        )
    if kind == "retries":
        return (
            f"{detail} through every retry (the backend is overloaded or down); "
            f"{_what_happens(backend)}, recording goes on."
        )
    if kind == "refused":
        return (
            "connection refused: nothing listens at that host and port (the backend is "
            f"down, or the port is wrong); {_what_happens(backend)}, recording goes on."
        )
    if kind == "timeout":
        return (
            "no answer in time (backend down, slow, or unreachable); "
            f"{_what_happens(backend)}, recording goes on."
        )
    return f"{detail}; check the endpoint and the network."


@dataclass(frozen=True)
class Delivery:
    """Where one of turnscope's span exporters sends, and what it delivered."""

    backend: str
    """``Langfuse traces`` or ``OTLP traces``."""
    target: str
    """The URL really used (credentials removed)."""
    traces: int
    """Traces delivered for the session asked about (root spans accepted)."""
    failures: int
    """Export requests that failed, for every session."""
    refused: bool = False
    """The backend refused the connection at the last try (nothing listens at that host and
    port), and took nothing since."""
    pending: int = 0
    """Spans still queued for it, for every session."""
    given_up: int = 0
    """Spans given up undelivered, for every session."""


_exporters: weakref.WeakKeyDictionary[TracerProvider, list[_ExplainedExporter]] = (
    weakref.WeakKeyDictionary()
)


def _what_happens(backend: str) -> str:
    if "metrics" in backend:
        return "these points were dropped (the next export carries the running totals)"
    return "the batch stays queued and is retried while the queue holds"


def build_tracer_provider(
    exporters: Sequence[tuple[SpanExporter, str, str]], resource: Resource
) -> TracerProvider:
    # no shutdown at exit: the SDK's would wait up to 30 s per processor; ours is bounded
    provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    explained = _exporters.setdefault(provider, [])
    for exporter, backend, target in exporters:
        wrapped = _ExplainedExporter(exporter, backend, target)
        explained.append(wrapped)
        wrapped.queue = BoundedSpanProcessor(wrapped)
        provider.add_span_processor(wrapped.queue)
    return provider


def deliveries(provider: object, session_id: str) -> list[Delivery]:
    """What turnscope's exporters on ``provider`` delivered for a session (none for a
    provider turnscope did not build)."""
    return [
        Delivery(
            e.backend,
            shown_url(e.target),
            e.delivered_roots.get(session_id, 0),
            e.failures,
            refused=e.refusing(),
            pending=e.queue.pending() if e.queue else 0,
            given_up=e.queue.given_up if e.queue else 0,
        )
        for e in _explained_of(provider)
    ]


def give_up_refused(provider: object) -> int:
    """Give up the spans queued for each of ``provider``'s backends that refuse the
    connection (counted and logged once, as at exit): for a process about to exit, which
    would otherwise wait out its flush for a backend that is known not to be there."""
    return sum(e.queue.give_up() for e in _explained_of(provider) if e.queue and e.refusing())


def _explained_of(provider: object) -> list[_ExplainedExporter]:
    return _exporters.get(provider, []) if isinstance(provider, TracerProvider) else []


def _resource(settings: Settings) -> Resource:
    attributes: dict[str, str] = {}
    if settings.release:
        attributes["service.version"] = settings.release
    if settings.origins.get("service_name") == "default":
        attributes["service.name"] = settings.service_name
    if settings.environment:
        attributes["deployment.environment.name"] = settings.environment
    return Resource.create(attributes)  # merges OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME


_shared_lock = threading.Lock()
_shared: dict[tuple[object, ...], TracerProvider] = {}


def shared_tracer_provider(settings: Settings | None = None) -> TracerProvider | None:
    """The process's tracer provider for the configured backends (None when none is). An
    OTLP endpoint that is the Langfuse already configured gets no second copy of each span."""
    settings = settings or current_settings()
    langfuse = langfuse_settings(settings)
    otlp = settings.otlp_traces_url if settings.otlp_traces else None
    if langfuse is None and otlp is None:
        return None
    key = (langfuse, otlp, settings.otlp_protocol, settings.release, settings.environment)
    with _shared_lock:
        provider = _shared.get(key)
        if provider is None:
            exporters: list[tuple[SpanExporter, str, str]] = []
            if langfuse is not None:
                exporters.append(
                    (_langfuse_exporter(langfuse), "Langfuse traces", langfuse.endpoint)
                )
            if otlp is not None:
                exporters.append((_generic_exporter(settings), "OTLP traces", otlp))
            provider = _shared[key] = build_tracer_provider(exporters, _resource(settings))
        return provider


_last_metrics_export: dict[str, bool] = {}
"""Whether the last export of metrics to each target was accepted (one entry per target)."""


_metric_notes: dict[str, _FailureNotes] = {}
"""The failure notes of each metrics target (one entry per target)."""


def metrics_refused(target: str) -> bool:
    """Whether the backend at ``target`` refused the connection at the last metrics export
    (nothing listens at that host and port), and took none since."""
    notes = _metric_notes.get(target)
    return notes is not None and notes.refusing


def metrics_delivered(target: str) -> bool | None:
    """Whether the backend at ``target`` accepted the last metrics exported to it; None when
    none were exported yet (a periodic reader exports in the background)."""
    return _last_metrics_export.get(target)


def explained_metric_exporter(backend: str, target: str) -> MetricExporter:
    """The OTLP/HTTP metric exporter to ``target``, its failures explained like the spans'
    (one line per kind, with the fix) and bounded in time so a dead backend cannot hold up
    exit."""
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    inner = OTLPMetricExporter(endpoint=target, timeout=METRICS_EXPORT_TIMEOUT)
    notes = _metric_notes[target] = _FailureNotes(backend, target)

    class _Explained(MetricExporter):
        def __init__(self) -> None:
            super().__init__(
                preferred_temporality=inner._preferred_temporality,
                preferred_aggregation=inner._preferred_aggregation,
            )

        def export(
            self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
        ) -> MetricExportResult:
            _exporting.notes = notes
            try:
                result = inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
            except Exception as error:
                notes._explain("error", f"{type(error).__name__}: {error}")
                result = MetricExportResult.FAILURE
            finally:
                _exporting.notes = None
            _last_metrics_export[target] = result is MetricExportResult.SUCCESS
            if result is MetricExportResult.SUCCESS:
                notes.refusing = False
            return result

        def force_flush(self, timeout_millis: float = 10_000) -> bool:
            return inner.force_flush(timeout_millis)

        def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
            inner.shutdown(timeout_millis=timeout_millis, **kwargs)

    return _Explained()
