"""Shared fixtures: simulated calls are expensive, so each one runs once per test session,
recorded by turnscope as an agent would be."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings

import turnscope
from turnscope import config, guard, simulate
from turnscope.config import DEFAULT_DB
from turnscope.livekit.adapter import LiveKitAdapter
from turnscope.sinks.memory import MemorySink

# No example database: the property tests draw from simulated calls whose event streams vary
# a little from run to run (real timing), so an example saved by one run (or by a copy of the
# suite running beside it) would replay as different data in the next.
settings.register_profile("turnscope", database=None)
settings.load_profile("turnscope")

if TYPE_CHECKING:
    from collections.abc import Iterator

    from livekit.agents import AgentSession

    from turnscope import events

TEST_SPEED = 4.0
LONG_TURNS = 24
"""Turns of the shared long call: enough for a bootstrap verdict (``MIN_VALUES`` = 20)."""
LONG_SPEED = 8.0
"""The long call plays faster than the rest: its tests compare profiles that differ by a
second, or draw and count turns, none checks a latency to the millisecond."""
"""Simulated calls in tests run four times faster than real time (one test runs at 1x)."""
QUICK_SPEED = 8.0
"""For the calls simulated afresh by tests that check what is recorded and never a latency
(a room's name, instrumenting twice, detach...): as fast as the long call is played."""


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def _installed_livekit() -> tuple[int, ...]:
    from livekit.agents import __version__

    return _version(__version__)


LIVEKIT = _installed_livekit()
"""The installed livekit-agents (``livekit.agents.__version__``): CI runs the recording and
simulation tests on 1.5.3, 1.6.10, 1.8.0 and the locked newest release."""

LIVEKIT_SINCE = {
    "preemptive_tts_option": "1.5.4",
    "user_turn_starts_at_first_segment": "1.5.9",
    "testing_fake_job_context": "1.6.0",
    "tool_output_names_parse_errors": "1.6.0",
    "tts_honours_non_retryable": "1.6.5",
    "tool_status_events": "1.6.5",
    "realtime_provider_request_ids": "1.6.7",
    "llm_node_ttfs": "1.6.9",
    "llm_cache_creation_tokens": "1.6.10",
    "llm_reasoning_tokens": "1.8.0",
    "realtime_e2e_on_message": "1.8.1",
    "failed_reply_left_out_of_history": "1.8.6",
}
"""What LiveKit does or reports from which version: every version-specific expectation in
the tests names its row here (measured by installing each release; docs/livekit-versions.md)."""


def livekit_has(feature: str) -> bool:
    """Whether the installed livekit-agents has ``feature`` (a key of ``LIVEKIT_SINCE``)."""
    return _version(LIVEKIT_SINCE[feature]) <= LIVEKIT


@dataclass
class LoopStalls:
    """When the simulated agent's event loop stood still, and for how long: a task that
    sleeps ``TICK`` over and over notes each wake-up later than ``NOTED`` — the OS gave the
    process no CPU (a busy machine), or something blocked the loop. Every latency LiveKit
    measures across such a stall grows by it, whoever's part it lands in."""

    TICK = 0.005
    NOTED = 0.010
    """Longer than the simulated agent's own callbacks hold the loop on a quiet machine (at
    most 6.5 ms measured), so a quiet run notes nothing."""
    late: list[tuple[float, float]] = field(default_factory=list)
    """(wall time the stall began, seconds late), in order."""

    def during(self, start: float, end: float) -> float:
        """Seconds the loop stood still between ``start`` and ``end`` (wall clock)."""
        return sum(late for began, late in self.late if began < end and began + late > start)

    async def watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.TICK
            await asyncio.sleep(self.TICK)
            late = loop.time() - due
            if late > self.NOTED:
                self.late.append((time.time() - late, late))


@dataclass
class RecordedCall:
    """A simulated call, what turnscope recorded of it, and the neutral events it saw."""

    simulation: simulate.SimulationResult
    sink: MemorySink
    handle: turnscope.Instrumentation
    events: list[events.Event] = field(default_factory=list)
    stalls: LoopStalls = field(default_factory=LoopStalls)

    @property
    def turns(self) -> list[turnscope.Turn]:
        return self.sink.turns

    @property
    def call(self) -> turnscope.Call:
        (call,) = self.sink.calls
        return call


async def record(scenario: str | simulate.Scenario, **options: Any) -> RecordedCall:
    sink = MemorySink()
    seen: list[events.Event] = []
    handles: list[turnscope.Instrumentation] = []
    stalls = LoopStalls()
    watching: list[asyncio.Task[None]] = []

    def attach(session: AgentSession[Any]) -> None:
        handles.append(turnscope.instrument(session, sinks=[sink]))
        LiveKitAdapter(session, seen.append, on_internal_error=_raise).attach()
        watching.append(asyncio.get_running_loop().create_task(stalls.watch()))

    try:
        result = await simulate.run(scenario, on_session=attach, **options)
    finally:
        for task in watching:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    await handles[0].aflush(timeout=10)
    return RecordedCall(result, sink, handles[0], seen, stalls)


def _raise(error: BaseException) -> None:
    raise error


def store_call(path: Path, recorded: RecordedCall, *, capture_content: bool = True) -> None:
    """Write a recorded call into a real store file, as the LocalStore sink would live."""
    from turnscope.store.writer import LocalStore

    store = LocalStore(path, capture_content=capture_content)
    store.start_call(recorded.handle.context)
    for turn in recorded.turns:
        store.on_turn(turn)
    store.on_call(recorded.call)
    assert store.close(timeout=10)


class SimulationCache:
    """Runs each distinct simulation once and hands the same result to every test."""

    def __init__(self) -> None:
        self._calls: dict[tuple[Any, ...], RecordedCall] = {}

    def recorded(self, scenario: str, **options: Any) -> RecordedCall:
        options.setdefault("speed", TEST_SPEED)
        key = (scenario, *sorted(options.items()))
        if key not in self._calls:
            self._calls[key] = asyncio.run(record(scenario, **options))
        return self._calls[key]

    def get(self, scenario: str, **options: Any) -> simulate.SimulationResult:
        return self.recorded(scenario, **options).simulation

    def long(self, profile: str = "fast") -> RecordedCall:
        """The one long call (``LONG_TURNS`` turns) every test that wants many turns shares:
        each distinct simulation costs the suite its whole wall time."""
        return self.recorded("long", turns=LONG_TURNS, profile=profile, speed=LONG_SPEED)

    def longs(self, *profiles: str) -> list[RecordedCall]:
        """``long(profile)`` for each profile; those not simulated yet are played side by side
        in one event loop, each with its own session, recorder and sinks, so a test comparing
        profiles waits for the longest call alone (~25 s for fast and slow, not ~44 s). Each
        call's callbacks may delay the other's by a few ms (noted in its ``stalls``): nothing
        for profiles a second apart, whose tests count and compare turns."""
        options = [{"turns": LONG_TURNS, "profile": p, "speed": LONG_SPEED} for p in profiles]
        missing = {
            key: option
            for key, option in ((("long", *sorted(o.items())), o) for o in options)
            if key not in self._calls
        }

        async def together() -> list[RecordedCall]:
            return list(await asyncio.gather(*(record("long", **o) for o in missing.values())))

        if missing:
            self._calls.update(zip(missing, asyncio.run(together()), strict=True))
        return [self.recorded("long", **option) for option in options]


@pytest.fixture(scope="session")
def simulations() -> SimulationCache:
    return SimulationCache()


ISOLATED_ENVIRONMENT = (
    "TURNSCOPE_DB",
    "TURNSCOPE_CAPTURE_CONTENT",
    "TURNSCOPE_DB_MAX_MB",
    "LANGFUSE_PUBLIC_KEY",
    "LANGFUSE_SECRET_KEY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
)
"""What a developer's shell may set that would send tests' records somewhere real."""


def _isolated_names() -> set[str]:
    """Every variable of turnscope's settings table, and the OpenTelemetry ones above."""
    return {name for setting in config.SETTINGS for name in setting.env} | set(ISOLATED_ENVIRONMENT)


def _user_store_state() -> list[tuple[str, int, int]]:
    """Each file of the user's default store (./.turnscope): name, size, modification time."""
    folder = (Path.cwd() / DEFAULT_DB).parent
    if not folder.is_dir():
        return []
    return sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir())


@pytest.fixture(scope="session", autouse=True)
def session_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Before any fixture of any scope (a module-scoped simulated call included): the
    session's own store and a clean environment. At the end, the check that no test wrote
    into the user's ./.turnscope."""
    before = _user_store_state()
    path = tmp_path_factory.mktemp("session-store") / "turnscope.db"
    with pytest.MonkeyPatch.context() as patch:
        for name in _isolated_names():
            patch.delenv(name, raising=False)
        patch.setenv("TURNSCOPE_DB", str(path))
        yield path
    assert _user_store_state() == before, "a test wrote into the user's ./.turnscope"


@pytest.fixture(autouse=True)
def private_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own store and a clean environment: nothing reaches ./.turnscope,
    no setting of the developer's shell or of an earlier test's ``configure()`` applies."""
    for name in _isolated_names():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(config, "_configured", {})
    monkeypatch.setattr(config, "_reported", set())
    path = tmp_path / "store" / "turnscope.db"
    monkeypatch.setenv("TURNSCOPE_DB", str(path))
    return path


@pytest.fixture(autouse=True, scope="session")
def internal_errors_fail_tests() -> None:
    """turnscope's own errors are logged, never raised, in an agent; here they fail the test."""
    guard.raise_internal_errors(True)


@pytest.fixture(autouse=True)
def no_internal_error(internal_errors_fail_tests: None) -> Iterator[None]:
    guard.caught.clear()
    yield
    found = list(guard.caught)
    guard.caught.clear()
    assert found == [], f"turnscope caught internal errors: {found!r}"
