"""The LiveKit room a call runs in (issue 21): read from a real AgentSession once it has
started in a room, carried on the CallContext every sink gets, and stored; None without a
room. The room is LiveKit's own ``rtc.Room``, unconnected (no LiveKit server here): the
stand-in is only its name and agent participant, written where a connection would put
them (``turnscope.simulate.room``)."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from click.testing import CliRunner

import turnscope
from tests.conftest import QUICK_SPEED
from turnscope import events, simulate
from turnscope.cli import main
from turnscope.livekit.adapter import LiveKitAdapter
from turnscope.sinks.memory import MemorySink
from turnscope.store.writer import LocalStore

if TYPE_CHECKING:
    from pathlib import Path

    from livekit.agents import AgentSession

    from tests.conftest import SimulationCache

ROOM = "support-lobby-7"


def _raise(error: BaseException) -> None:
    raise error


async def _record_in_room(
    db: Path, *, join_on: str | None = None
) -> tuple[simulate.SimulationResult, MemorySink, list[events.Event], turnscope.Instrumentation]:
    """The basic call in room ``ROOM``, recorded into ``db`` and memory; instrumented before
    ``start()``, or the first time the session emits ``join_on``."""
    sink = MemorySink()
    seen: list[events.Event] = []
    handles: list[turnscope.Instrumentation] = []
    store = LocalStore(db)

    def attach(session: AgentSession[Any]) -> None:
        if not handles:
            handles.append(turnscope.instrument(session, sinks=[sink, store]))
            LiveKitAdapter(session, seen.append, on_internal_error=_raise).attach()

    def on_session(session: AgentSession[Any]) -> None:
        if join_on is None:
            attach(session)
        else:
            session.on(join_on, lambda _: attach(session))  # type: ignore[arg-type]

    result = await simulate.run("basic", on_session=on_session, speed=QUICK_SPEED, room=ROOM)
    assert await handles[0].aflush(timeout=10)
    assert store.close(timeout=10)
    return result, sink, seen, handles[0]


def _report(*args: str) -> Any:
    outcome = CliRunner().invoke(main, ["report", *args, "--json"])
    assert outcome.exit_code == 0, outcome.output
    return json.loads(outcome.output)


def test_a_call_in_a_room_is_found_by_the_rooms_name(tmp_path: Path) -> None:
    db = tmp_path / "calls.db"
    result, sink, seen, handle = asyncio.run(_record_in_room(db))
    assert handle.internal_errors == []
    # known once start() has run: the context before it has none, every one after has it
    assert sink.contexts[0].room is None
    assert sink.contexts[-1].room == ROOM
    assert [e.name for e in seen if isinstance(e, events.RoomJoined)] == [ROOM]
    assert len(sink.turns) == len(result.scenario.transcripts) + 1  # greeting + replies
    # the failing input: `turnscope report --call <room name>` on a real store file
    reported = _report("--db", str(db), "--call", ROOM)
    (call,) = reported["calls"]
    assert call["call_id"] == handle.context.call_id
    assert call["room"] == ROOM
    assert len(reported["turns"]) == len(sink.turns)
    listed = CliRunner().invoke(main, ["calls", "--db", str(db), "--json"])
    assert json.loads(listed.output)["calls"][0]["room"] == ROOM
    text = CliRunner().invoke(main, ["report", "--db", str(db), "--call", ROOM])
    assert f"room {ROOM}" in text.output


def test_instrumented_after_start_the_room_is_read_at_once(tmp_path: Path) -> None:
    _, sink, seen, handle = asyncio.run(
        _record_in_room(tmp_path / "calls.db", join_on="speech_created")
    )
    assert handle.joined_late
    assert handle.internal_errors == []
    assert sink.contexts[-1].room == ROOM
    assert [e.name for e in seen if isinstance(e, events.RoomJoined)] == [ROOM]
    assert sink.turns  # recording goes on as before


def test_a_session_without_a_room_records_none(simulations: SimulationCache) -> None:
    for scenario in ("basic", "text"):  # a voice session and a text-only one, no room
        recorded = simulations.recorded(scenario)
        assert recorded.handle.context.room is None
        assert all(c.room is None for c in recorded.sink.contexts)
        assert not [e for e in recorded.events if isinstance(e, events.RoomJoined)]
        assert recorded.turns


def test_a_room_connected_after_start_is_recorded_once_it_has_a_name() -> None:
    """``rtc.Room.name`` is empty until the room is connected: a room whose connection
    completes after ``start()`` (here: the name appears when the agent first speaks, as
    connect() would write it) is recorded at the next change of the agent's state."""
    sink = MemorySink()
    seen: list[events.Event] = []
    handles: list[turnscope.Instrumentation] = []
    named_at: list[float] = []

    def on_session(session: AgentSession[Any]) -> None:
        handles.append(turnscope.instrument(session, sinks=[sink]))
        LiveKitAdapter(session, seen.append, on_internal_error=_raise).attach()

        def connect_late(event: Any) -> None:
            if event.new_state == "speaking" and not named_at:
                session.room_io.room._info.name = ROOM  # what connect() writes
                named_at.append(len(seen))

        session.on("agent_state_changed", connect_late)

    async def run() -> None:
        await simulate.run("basic", on_session=on_session, speed=QUICK_SPEED, room="")
        assert await handles[0].aflush(timeout=10)

    asyncio.run(run())
    assert handles[0].internal_errors == []
    assert named_at
    joined = [(i, e.name) for i, e in enumerate(seen) if isinstance(e, events.RoomJoined)]
    assert [name for _, name in joined] == [ROOM]
    assert joined[0][0] >= named_at[0]  # not before the room had a name
    assert sink.contexts[-1].room == ROOM
