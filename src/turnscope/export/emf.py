"""EMFSink: per-turn metrics as CloudWatch Embedded Metric Format (EMF) JSON lines.

Written to stdout or a file, so the CloudWatch agent or Lambda ingests them: no AWS call on
the agent's hot path (lines are written on turnscope's pipeline thread). Dimensions are few
and low-cardinality (the agent, the service); the session and call ids ride along as
properties, searchable in Logs Insights without multiplying metrics.

Configured by the settings ``emf`` (``stdout`` or a file path), ``emf_namespace`` (default
``VoiceAgent``) and ``emf_dimensions`` (from ``Agent``, ``Service``, ``Environment``; default
``Agent``): see ``turnscope.config.SETTINGS`` for their environment variables.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from turnscope.config import EMF_DIMENSIONS
from turnscope.records import MODEL_KINDS, Breakdown

if TYPE_CHECKING:
    from turnscope.config import Settings
    from turnscope.records import Call, CallContext, Turn

__all__ = ["DIMENSIONS", "EMFSink", "emf_sink"]

DIMENSIONS = EMF_DIMENSIONS
"""The dimensions a user may choose: all low-cardinality."""

_METRICS: tuple[tuple[str, str], ...] = (
    ("E2ELatency", "Seconds"),
    *((f"{''.join(w.title() for w in part.split('_'))}", "Seconds") for part in Breakdown.PARTS),
    ("TotalLatency", "Seconds"),
    ("LLMTimeToFirstToken", "Seconds"),
    ("TTSTimeToFirstByte", "Seconds"),
    ("PromptTokens", "Count"),
    ("CompletionTokens", "Count"),
    ("TTSCharacters", "Count"),
    ("STTAudio", "Seconds"),
    ("CostUSD", "None"),
    ("Errors", "Count"),
    ("Interrupted", "Count"),
)


class EMFSink:
    def __init__(
        self,
        stream: IO[str],
        *,
        namespace: str = "VoiceAgent",
        dimensions: tuple[str, ...] = ("Agent",),
        service: str | None = None,
        environment: str | None = None,
    ) -> None:
        unknown = set(dimensions) - set(DIMENSIONS)
        if unknown:
            raise ValueError(
                f"EMF dimensions must be among {', '.join(DIMENSIONS)}; "
                f"not {', '.join(sorted(unknown))}"
            )
        self._stream = stream
        self._lock = threading.Lock()
        self.namespace = namespace
        self.dimensions = dimensions
        self._service = service or "livekit-agent"
        self._environment = environment or "default"
        self._sessions: dict[str, str] = {}

    def start_call(self, context: CallContext) -> None:
        self._sessions[context.call_id] = context.session_id

    def update_call(self, context: CallContext) -> None:
        self._sessions[context.call_id] = context.session_id

    def on_turn(self, turn: Turn) -> None:
        values = turn_values(turn)
        if not values:
            return
        line = self.line(turn, values)
        with self._lock:
            self._stream.write(json.dumps(line) + "\n")
            self._stream.flush()

    def line(self, turn: Turn, values: dict[str, float]) -> dict[str, Any]:
        dimension_values = {
            "Agent": turn.agent_name or "unknown",
            "Service": self._service,
            "Environment": self._environment,
        }
        units = dict(_METRICS)
        return {
            "_aws": {
                "Timestamp": int(turn.ended_at * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.namespace,
                        "Dimensions": [list(self.dimensions)],
                        "Metrics": [{"Name": name, "Unit": units[name]} for name in values],
                    }
                ],
            },
            **{d: dimension_values[d] for d in self.dimensions},
            **values,
            # properties: searchable, never dimensions (one per call would explode metrics)
            "SessionId": self._sessions.get(turn.call_id, turn.call_id),
            "CallId": turn.call_id,
            "TurnIndex": turn.index,
            "SpeechId": turn.speech_id,
            "Outcome": turn.outcome,
        }

    def on_call(self, call: Call) -> None:
        self._sessions.pop(call.call_id, None)

    def flush(self, timeout: float) -> bool:
        with self._lock:
            self._stream.flush()
        return True


def turn_values(turn: Turn) -> dict[str, float]:
    """The metric values of one turn (only those it has)."""
    values: dict[str, float | None] = {
        "E2ELatency": turn.e2e,
        "TotalLatency": turn.total_latency,
        "LLMTimeToFirstToken": model.ttft if (model := turn.first_model_request()) else None,
        "TTSTimeToFirstByte": tts.ttfb if (tts := turn.first_request("tts")) else None,
        "PromptTokens": float(sum(r.prompt_tokens for r in turn.requests if r.kind in MODEL_KINDS)),
        "CompletionTokens": float(
            sum(r.completion_tokens for r in turn.requests if r.kind in MODEL_KINDS)
        ),
        "TTSCharacters": float(sum(r.characters for r in turn.requests if r.kind == "tts")),
        "STTAudio": sum(r.audio_duration for r in turn.requests if r.kind == "stt"),
        "CostUSD": turn.cost.total if turn.cost is not None else None,
        "Errors": float(len(turn.errors)),
        "Interrupted": float(turn.interrupted),
    }
    if turn.breakdown is not None:
        for part in Breakdown.PARTS:
            name = "".join(w.title() for w in part.split("_"))
            values[name] = getattr(turn.breakdown, part)
    for field, _reason in turn.unknown:  # not a measurement: no metric value at all
        values.pop(
            {"prompt_tokens": "PromptTokens", "completion_tokens": "CompletionTokens"}.get(
                field, ""
            ),
            None,
        )
    return {k: v for k, v in values.items() if v is not None}


_shared: dict[str, EMFSink] = {}
_shared_lock = threading.Lock()


def emf_sink(settings: Settings) -> EMFSink | None:
    """The EMF sink the settings ask for, shared by the process; None when EMF is off."""
    target = settings.emf
    if target is None:
        return None
    dimensions = settings.emf_dimensions
    key = "|".join(
        (
            target,
            settings.emf_namespace,
            ",".join(dimensions),
            settings.service_name,
            settings.environment or "",
        )
    )
    with _shared_lock:
        sink = _shared.get(key)
        if sink is None:
            stream: IO[str] = sys.stdout if target == "stdout" else Path(target).open("a")  # noqa: SIM115
            sink = _shared[key] = EMFSink(
                stream,
                namespace=settings.emf_namespace,
                dimensions=dimensions,
                service=settings.service_name,
                environment=settings.environment,
            )
        return sink
