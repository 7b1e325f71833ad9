"""Hot path: event-loop time per turn spent in turnscope's handlers.

Records the raw LiveKit events of a simulated call once, then replays them into fresh
``AgentSession`` objects through ``session.emit`` — once with turnscope attached (adapter →
recorder → an in-memory sink) and once with a do-nothing handler on the same events. Both run
in the same process and loop; the difference is what turnscope costs the agent's event loop.

Run: python3 -m uv run python benchmarks/hot_path.py [--turns 40] [--repeat 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession

from turnscope import simulate
from turnscope.livekit.adapter import LiveKitAdapter
from turnscope.recorder import CallRecorder
from turnscope.sinks.memory import MemorySink

EVENTS = LiveKitAdapter.EVENT_NAMES


SPEECH_DONE = "speech_done"
"""A marker in the captured stream: the speech handle finished here."""


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


async def capture(turns: int) -> tuple[list[tuple[str, Any]], int]:
    """Every session event a `long` simulated call emits, in order, with its payload."""
    captured: list[tuple[str, Any]] = []

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

    result = await simulate.run("long", turns=turns, speed=8, on_session=listen)
    return captured, len(result.chat_messages("user"))


def _do_nothing(_: Any) -> None:
    return None


def _event_time(payload: Any) -> float:
    metrics = getattr(payload, "metrics", None)
    at = getattr(metrics, "timestamp", None) or getattr(payload, "created_at", None)
    return float(at) if isinstance(at, (int, float)) else 0.0


async def replay(stream: list[tuple[str, Any]], *, instrumented: bool) -> float:
    """Seconds of loop time to replay the stream into a fresh session.

    turnscope runs as ``instrument()`` builds it (adapter → recorder → sink), except that the
    adapter's clock reads the replayed event's own time, so turns finalize as they did live.
    """
    session: AgentSession[None] = AgentSession()
    now = [0.0]
    if instrumented:
        sink = MemorySink()
        recorder = CallRecorder("bench", on_turn=sink.on_turn, on_call=sink.on_call)
        adapter = LiveKitAdapter(
            session, recorder.feed, on_internal_error=_fail, clock=lambda: now[0]
        )
        adapter.attach()
    else:
        for name in EVENTS:
            rtc.EventEmitter.on(session, name, _do_nothing)
    steps = _prepare(stream)
    started = time.perf_counter()
    for name, payload, at in steps:
        if name == SPEECH_DONE:
            payload.finish()
            continue
        now[0] = at or now[0]
        session.emit(name, payload)
    elapsed = time.perf_counter() - started
    if instrumented and sum(1 for t in sink.turns if t.outcome == "answered") < len(sink.turns) - 1:
        raise RuntimeError("the replay did not record the call's turns: it would measure nothing")
    return elapsed


def _prepare(stream: list[tuple[str, Any]]) -> list[tuple[Any, Any, float]]:
    """The replay's steps, built before the clock starts: each event with its own time, and
    finished speeches as stand-in handles."""
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


def _fail(error: BaseException) -> None:
    raise error


async def main(turns: int, repeat: int) -> None:
    stream, user_turns = await capture(turns)
    for _ in range(3):  # warm up both paths
        await replay(stream, instrumented=True)
        await replay(stream, instrumented=False)
    ours, baseline = [], []
    for _ in range(repeat):
        ours.append(await replay(stream, instrumented=True))
        baseline.append(await replay(stream, instrumented=False))
    per_turn_ours = statistics.median(ours) / user_turns * 1e6
    per_turn_base = statistics.median(baseline) / user_turns * 1e6
    print(f"replayed {len(stream)} LiveKit events ({user_turns} turns), median of {repeat} runs")
    print(f"{'handler':<28}{'µs per turn':>14}")
    print(f"{'do-nothing baseline':<28}{per_turn_base:>14.1f}")
    print(f"{'turnscope (to memory sink)':<28}{per_turn_ours:>14.1f}")
    print(
        f"turnscope adds {per_turn_ours - per_turn_base:.1f} µs of loop time per turn "
        f"({per_turn_ours / per_turn_base:.1f}x the baseline)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(main(args.turns, args.repeat))
