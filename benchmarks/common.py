"""What the benchmarks share: a recorded call, its replay, the result rows and the table.

A call is recorded once from a real simulated ``AgentSession`` (``turnscope.simulate``), at two
levels: the raw LiveKit events (to replay through the adapter, as an agent's loop runs it) and
the neutral events the adapter made of them (to replay straight into the recorder, shifted in
time and with fresh ids, when a benchmark needs far more turns than a simulation can make in
the time allowed).
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from livekit import rtc
from livekit.agents import AgentSession

from turnscope import events as ev
from turnscope import simulate
from turnscope.instrument import Instrumentation
from turnscope.livekit.adapter import LiveKitAdapter
from turnscope.pricing import prewarm, shared_pricer
from turnscope.records import CallContext
from turnscope.sinks.memory import MemorySink
from turnscope.sinks.pipeline import pipeline

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from turnscope.records import Call, Turn

__all__ = [
    "EVENTS",
    "SPEECH_DONE",
    "Recording",
    "ReplayedHandle",
    "Row",
    "percentile",
    "prepare_steps",
    "priced",
    "print_table",
    "record",
    "replay_steps",
    "shifted_events",
    "thread_cpu",
    "threads_named",
]

EVENTS = LiveKitAdapter.EVENT_NAMES

SPEECH_DONE = "speech_done"
"""A marker in the captured stream: the speech handle finished here."""


@dataclass
class Row:
    """One line of the results table. ``higher_is_better`` says which way the target points."""

    benchmark: str
    figure: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    target: float | None = None
    higher_is_better: bool = False
    target_on_ratio: bool = False
    note: str = ""
    signed: bool = False
    """A difference of two measurements: it may be negative (then it has no ratio)."""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline <= 0 or self.value < 0:
            return None
        return self.value / self.baseline

    @property
    def passed(self) -> bool | None:
        if self.target is None:
            return None
        measured = self.ratio if self.target_on_ratio else self.value
        if measured is None or measured != measured:  # no figure: not met
            return False
        return measured >= self.target if self.higher_is_better else measured <= self.target

    def target_text(self) -> str:
        if self.target is None:
            return ""
        sign = "≥" if self.higher_is_better else "≤"
        what = "ratio " if self.target_on_ratio else ""
        unit = "" if self.target_on_ratio else f" {self.unit}"
        return f"{what}{sign} {_number(self.target)}{unit}"


def _number(value: float) -> str:
    if value != value:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(rows: Sequence[Row]) -> list[str]:
    """The rows as a plain-text table (one header, one line per row)."""
    header = ("benchmark", "figure", "value", "baseline", "ratio", "target", "result")
    lines: list[tuple[str, ...]] = [header]
    for row in rows:
        baseline = (
            f"{_number(row.baseline)} {row.unit} ({row.baseline_label})"
            if row.baseline is not None
            else ""
        )
        ratio = row.ratio
        verdict = {None: "", True: "pass", False: "MISS"}[row.passed]
        lines.append(
            (
                row.benchmark,
                row.figure,
                f"{_number(row.value)} {row.unit}",
                baseline,
                f"{ratio:.2f}x" if ratio is not None else "",
                row.target_text(),
                verdict + (f" ({row.note})" if row.note else ""),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    out.insert(1, "  ".join("-" * w for w in widths))
    return out


def print_table(rows: Sequence[Row]) -> None:
    for line in table(rows):
        print(line)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


# -- recording a call ------------------------------------------------------------------------


@dataclass
class Recording:
    """One simulated call, as LiveKit events (``stream``) and as neutral events."""

    stream: list[tuple[str, Any]]
    neutral: list[ev.Event]
    turns: int


class ReplayedHandle:
    """Stands in for a finished ``SpeechHandle`` during replay, so its done callbacks run
    where the speech really ended, not as soon as they are registered."""

    def __init__(self, handle: Any) -> None:
        self.id = handle.id
        self.chat_items = list(handle.chat_items)
        self.interrupted = handle.interrupted
        self.scheduled = handle.scheduled
        self._wait: float | None = handle._queue_wait()
        self._callbacks: list[Any] = []

    def _queue_wait(self) -> float | None:
        return self._wait

    def add_done_callback(self, callback: Any) -> None:
        self._callbacks.append(callback)

    def finish(self) -> None:
        for callback in self._callbacks:
            callback(self)


async def record(turns: int, *, speed: float = 8.0, seed: int = 7) -> Recording:
    """Every session event a ``long`` simulated call emits, in order, with its payload; and
    the neutral events turnscope's adapter made of them."""
    captured: list[tuple[str, Any]] = []
    neutral: list[ev.Event] = []

    def on_speech(payload: Any) -> None:
        handle = payload.speech_handle
        handle.add_done_callback(lambda h: captured.append((SPEECH_DONE, h.id)))

    def listen(session: AgentSession[Any]) -> None:
        for name in EVENTS:
            # the base emitter's on(): a listener of our own needs no deprecation notice
            rtc.EventEmitter.on(
                session, name, lambda payload, _n=name: captured.append((_n, payload))
            )
        session.on("speech_created", on_speech)
        LiveKitAdapter(session, neutral.append, on_internal_error=_fail).attach()

    result = await simulate.run("long", turns=turns, speed=speed, seed=seed, on_session=listen)
    return Recording(captured, neutral, len(result.chat_messages("user")))


def _fail(error: BaseException) -> None:
    raise error


def _event_time(payload: Any) -> float:
    metrics = getattr(payload, "metrics", None)
    at = getattr(metrics, "timestamp", None) or getattr(payload, "created_at", None)
    return float(at) if isinstance(at, (int, float)) else 0.0


def prepare_steps(stream: list[tuple[str, Any]]) -> list[tuple[Any, Any, float]]:
    """The replay's steps, built before any clock starts: each event with its own time, and
    finished speeches as stand-in handles (fresh ones: a replay consumes them)."""
    handles: dict[str, ReplayedHandle] = {}
    steps: list[tuple[Any, Any, float]] = []
    for name, payload in stream:
        if name == SPEECH_DONE:
            if payload in handles:
                steps.append((SPEECH_DONE, handles[payload], 0.0))
            continue
        if name == "speech_created":
            handle = handles[payload.speech_handle.id] = ReplayedHandle(payload.speech_handle)
            payload = payload.model_copy(update={"speech_handle": handle})
        steps.append((name, payload, _event_time(payload)))
    return steps


def replay_steps(
    session: AgentSession[Any], steps: list[tuple[Any, Any, float]], now: list[float]
) -> None:
    """Emit the steps into ``session``; ``now[0]`` follows the replayed events' own times
    (an adapter built with ``clock=lambda: now[0]`` sees the call's time, not the replay's)."""
    for name, payload, at in steps:
        if name == SPEECH_DONE:
            payload.finish()
            continue
        now[0] = at or now[0]
        session.emit(name, payload)


def priced(recording: Recording) -> tuple[list[Turn], Call]:
    """The recording's turns and call as the sinks get them: recorded, then priced."""
    prewarm()
    sink = MemorySink()
    context = CallContext(call_id="recorded", session_id="recorded")
    handle = Instrumentation(
        AgentSession(), context, [sink], grace=0.5, capture_content=True, pricer=shared_pricer(None)
    )
    for event in recording.neutral:
        handle._recorder.feed(event)
    handle._recorder.close()
    pipeline().drain(30.0)
    if not sink.turns or not sink.calls:
        raise RuntimeError("the recording made no turns")
    return sink.turns, sink.calls[0]


# -- the same call, many times over ------------------------------------------------------------

_TIMES = frozenset({"at", "started_speaking_at", "stopped_speaking_at"})
_IDS = frozenset({"speech_id", "request_id", "item_id", "call_id"})
_ID_TUPLES = frozenset({"message_ids", "tool_call_ids"})


def _shift(event: ev.Event, offset: float, suffix: str) -> ev.Event:
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if value is None:
            continue
        if f.name in _TIMES:
            changes[f.name] = value + offset
        elif f.name in _IDS:
            changes[f.name] = f"{value}{suffix}"
        elif f.name in _ID_TUPLES:
            changes[f.name] = tuple(f"{v}{suffix}" for v in value)
    return dataclasses.replace(event, **changes)


def shifted_events(neutral: Sequence[ev.Event], copies: int) -> Iterator[ev.Event]:
    """The recorded call's events ``copies`` times in a row, as one long call: each copy later
    than the one before and with ids of its own. The close event is kept only at the end."""
    body = [e for e in neutral if not isinstance(e, ev.SessionClosed)]
    close = [e for e in neutral if isinstance(e, ev.SessionClosed)]
    if not body:
        return
    span = body[-1].at - body[0].at + 10.0  # a pause between copies: every turn is final
    for copy in range(copies):
        suffix = "" if copy == 0 else f"~{copy}"
        for event in body:
            yield _shift(event, copy * span, suffix)
    for last in close:
        yield _shift(last, (copies - 1) * span, "")


# -- running a benchmark in a child process -------------------------------------------------


def run_child(module: str, *args: str, timeout: float = 300) -> str:
    """Run ``python -m module args`` and return its stdout (stderr passes through)."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        stdout=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=True,
        env={**os.environ},
    )
    return done.stdout


def thread_cpu(thread: threading.Thread | None) -> float:
    """CPU seconds a live thread has used so far (0 for none or a finished one)."""
    if thread is None or thread.ident is None or not thread.is_alive():
        return 0.0
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
    except (OSError, AttributeError):  # gone meanwhile, or a platform without thread clocks
        return 0.0


def threads_named(prefix: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


def timed(function: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) that ``function()`` took."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu
