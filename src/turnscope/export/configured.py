"""The export sinks the settings ask for: spans (Langfuse, OTLP, or a given tracer provider),
metrics (an OTLP endpoint, or a given meter provider) and CloudWatch EMF lines.

``instrument()`` adds the local store to these; ``turnscope demo`` adds its own store and
progress printer, so the demo exports exactly as an agent would. A part that fails to build
is logged once and left out; the others still run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from turnscope.config import Settings, current_settings
from turnscope.export.emf import emf_sink
from turnscope.export.exporters import langfuse_settings, shared_tracer_provider
from turnscope.export.metrics import shared_meter_provider, shared_metrics_sink
from turnscope.export.spans import SpanSink, shared_span_sink
from turnscope.guard import guarded

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

    from turnscope.sinks import Sink

__all__ = ["export_sinks"]


def export_sinks(
    tracer_provider: TracerProvider | None = None, meter_provider: MeterProvider | None = None
) -> tuple[list[Sink], Settings]:
    """The export sinks, and the settings they were built from (``remote_export`` true when
    spans leave the process)."""
    found: list[Sink] = []
    provider: TracerProvider | None = tracer_provider
    if provider is None:
        with guarded("setting up the span exporters"):
            provider = shared_tracer_provider()
    settings = current_settings(remote=True if provider is not None else None)
    if provider is not None:
        with guarded("setting up span export"):
            found.append(_span_sink(provider, settings))
    with guarded("setting up metrics export"):
        meters = meter_provider or shared_meter_provider()
        if meters is not None:
            found.append(shared_metrics_sink(meters))
    with guarded("setting up CloudWatch EMF"):
        emf = emf_sink(settings)
        if emf is not None:
            found.append(emf)
    return found, settings


def _span_sink(provider: TracerProvider, settings: Settings) -> SpanSink:
    return shared_span_sink(
        provider,
        capture_content=settings.capture_content,
        trace_per=settings.trace_per,
        langfuse=langfuse_settings(settings),
        environment=settings.environment,
        release=settings.release,
    )
