"""MetricsSink: OpenTelemetry metrics for dashboards and alarms across many calls.

Histograms for the response latency, each part of its breakdown, LLM time to first token and
TTS time to first byte; counters for tokens, characters, audio, cost, errors, interruptions
and turns — with provider, model and agent as attributes (never a session id: dashboards
aggregate, they do not list calls). Recorded on turnscope's pipeline thread, never the loop.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

from turnscope.config import current_settings
from turnscope.export.processor import a_flush_ran_out_of_time
from turnscope.records import MODEL_KINDS, Breakdown

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider

    from turnscope.records import Call, CallContext, ComponentRequest, Turn

__all__ = ["LATENCY_BUCKETS", "MetricsSink", "shared_meter_provider", "shared_metrics_sink"]

Labels = dict[str, "str | bool"]

LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0)
"""Seconds. Voice replies live between a few hundred ms and a few seconds: fine steps there."""


class MetricsSink:
    def __init__(self, provider: MeterProvider) -> None:
        self.provider = provider
        meter = provider.get_meter("turnscope", version("turnscope"))

        def histogram(name: str, description: str) -> Any:
            return meter.create_histogram(
                name, unit="s", description=description,
                explicit_bucket_boundaries_advisory=LATENCY_BUCKETS,
            )  # fmt: skip

        self.e2e = histogram(
            "voice.e2e", "Server-side response latency: end of user speech to first agent audio"
        )
        self.part = histogram(
            "voice.breakdown", "A part of the response latency (attribute voice.part)"
        )
        self.total_latency = histogram(
            "voice.total_latency", "EOU delay + first LLM TTFT + first TTS TTFB"
        )
        self.ttft = histogram("voice.llm.ttft", "LLM time to first token")
        self.ttfb = histogram("voice.tts.ttfb", "TTS time to first byte")
        self.tokens = meter.create_counter(
            "voice.llm.tokens", unit="{token}", description="LLM tokens by type"
        )
        self.characters = meter.create_counter(
            "voice.tts.characters", unit="{character}", description="Characters synthesized"
        )
        self.audio = meter.create_counter(
            "voice.stt.audio", unit="s", description="STT audio metered"
        )
        self.cost = meter.create_counter(
            "voice.cost", unit="USD", description="Cost of priced requests"
        )
        self.errors = meter.create_counter(
            "voice.errors", unit="{error}", description="Errors by component"
        )
        self.interruptions = meter.create_counter(
            "voice.interruptions", unit="{interruption}", description="Replies the user cut off"
        )
        self.turns = meter.create_counter(
            "voice.turns", unit="{turn}", description="Turns by outcome"
        )

    def start_call(self, context: CallContext) -> None: ...

    def update_call(self, context: CallContext) -> None: ...

    def on_turn(self, turn: Turn) -> None:
        agent: Labels = {"voice.agent": turn.agent_name} if turn.agent_name else {}
        self.turns.add(1, {**agent, "voice.outcome": turn.outcome})
        if turn.interrupted:
            self.interruptions.add(1, agent)
        if turn.e2e is not None:
            self.e2e.record(turn.e2e, agent)
        if turn.total_latency is not None:
            self.total_latency.record(turn.total_latency, agent)
        if turn.breakdown is not None:
            for part in Breakdown.PARTS:
                value = getattr(turn.breakdown, part)
                if value is not None:
                    self.part.record(value, {**agent, "voice.part": part})
        for r in turn.requests:
            model: Labels = {
                **agent,
                "gen_ai.provider.name": r.provider or "unknown",
                "gen_ai.request.model": r.model or "unknown",
            }
            if r.cost_usd is not None:
                self.cost.add(r.cost_usd, {**model, "voice.component": r.kind})
            if r.kind in MODEL_KINDS:
                if r.ttft is not None and not r.discarded:
                    self.ttft.record(r.ttft, model)
                for kind, count in _token_counts(r).items():
                    if count:
                        self.tokens.add(count, {**model, "voice.token_type": kind})
            elif r.kind == "tts":
                if r.ttfb is not None and not r.discarded:
                    self.ttfb.record(r.ttfb, model)
                self.characters.add(r.characters, model)
            else:
                self.audio.add(r.audio_duration, {**model, "voice.stt.share": "turn"})
        for error in turn.errors:
            self.errors.add(
                1,
                {
                    **agent,
                    "voice.component": error.component,
                    "voice.recoverable": error.recoverable,
                },
            )

    def on_call(self, call: Call) -> None:
        for provider, model, _total, idle in call.stt_by_model:
            attributes: Labels = {
                "gen_ai.provider.name": provider or "unknown",
                "gen_ai.request.model": model or "unknown",
                "voice.stt.share": "idle",
            }
            if idle:
                self.audio.add(idle, attributes)
        if call.cost is not None and call.cost.idle_stt:
            self.cost.add(call.cost.idle_stt, {"voice.component": "stt_idle"})
        for error in call.errors:
            self.errors.add(
                1, {"voice.component": error.component, "voice.recoverable": error.recoverable}
            )

    def flush(self, timeout: float) -> bool:
        flush = getattr(self.provider, "force_flush", None)
        return bool(flush(int(timeout * 1000))) if callable(flush) else True


_lock = threading.Lock()
_shared: dict[str, MeterProvider] = {}


def _token_counts(r: ComponentRequest) -> dict[str, int]:
    """Disjoint token counts by type: nothing counted twice (cached ⊂ input, audio ⊂ both)."""
    audio_in = max(0, r.input_audio_tokens - r.cached_audio_tokens)
    fresh = r.prompt_tokens - r.cached_tokens - r.cache_creation_tokens - audio_in
    return {
        "input": max(0, fresh),
        "cached": r.cached_tokens,
        "cache_creation": r.cache_creation_tokens,
        "input_audio": audio_in,
        "output": max(0, r.completion_tokens - r.output_audio_tokens),
        "output_audio": r.output_audio_tokens,
    }


def shared_meter_provider() -> MeterProvider | None:
    """A meter provider exporting to the configured generic OTLP endpoint (never to Langfuse,
    which accepts traces only), shared by the process; never the global one."""
    endpoint = current_settings().otlp_metrics_url
    if not endpoint:
        return None
    with _lock:
        provider = _shared.get(endpoint)
        if provider is None:
            from opentelemetry.sdk.metrics import MeterProvider as SDKMeterProvider
            from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

            from turnscope.export.exporters import explained_metric_exporter

            exporter = explained_metric_exporter("OTLP metrics", endpoint)
            reader = PeriodicExportingMetricReader(exporter, export_timeout_millis=5_000)
            # no SDK shutdown at exit: it would wait on a dead backend; ours is bounded
            provider = _shared[endpoint] = SDKMeterProvider(
                metric_readers=[reader], shutdown_on_exit=False
            )
        return provider


EXIT_EXPORT_TIMEOUT = 1.0
"""Seconds the process's exit waits for the last metrics export (none after a flush ran out
of time, or when every metrics backend refuses the connection: it is known to be slow or
down)."""


@atexit.register
def _last_export_at_exit() -> None:
    from turnscope.export.exporters import metrics_refused

    if not _shared or a_flush_ran_out_of_time() or all(map(metrics_refused, _shared)):
        return  # nobody would take them: not worth the wait
    providers = list(_shared.values())

    def shut_down() -> None:
        for provider in providers:
            shutdown = getattr(provider, "shutdown", None)  # the SDK's, which we built
            with contextlib.suppress(Exception):
                if shutdown is not None:
                    shutdown(timeout_millis=EXIT_EXPORT_TIMEOUT * 1000)

    worker = threading.Thread(target=shut_down, name="turnscope-metrics-exit", daemon=True)
    worker.start()
    worker.join(EXIT_EXPORT_TIMEOUT)


_sinks: dict[int, MetricsSink] = {}


def shared_metrics_sink(provider: MeterProvider) -> MetricsSink:
    """One sink (one set of instruments) per meter provider, for the whole process."""
    with _lock:
        sink = _sinks.get(id(provider))
        if sink is None or sink.provider is not provider:
            sink = _sinks[id(provider)] = MetricsSink(provider)
        return sink
