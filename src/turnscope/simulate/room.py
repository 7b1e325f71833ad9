"""A LiveKit room for a simulated session, with no LiveKit server.

``AgentSession.start(room=...)`` takes an ``rtc.Room``. Here it is LiveKit's own ``rtc.Room``,
never connected (there is no server to connect to), carrying the name a connection would
give it; RoomIO runs on it for real with every input and output off, so the simulation's
scripted audio stays the session's. What this exercises: a session started in a named room,
as an agent in a LiveKit job is (LiveKit's RoomIO, its room-aware state changes and
tracing). What it cannot: media through the room, remote participants, a connection.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from livekit import rtc
from livekit.agents.voice.room_io import RoomOptions
from livekit.rtc._proto import participant_pb2 as proto_participant

__all__ = ["offline_room", "start_options"]


def offline_room(name: str) -> tuple[rtc.Room, RoomOptions]:
    """An unconnected ``rtc.Room`` named ``name``, and room options that leave the
    session's inputs and outputs alone. Call it on the session's event loop."""
    room = rtc.Room(loop=asyncio.get_running_loop())
    # The stand-in part: connect() sets the room's info (its name among it) and its local
    # participant (the agent) from the server's answer. With no server, both are written
    # where connect() would put them (private in every supported release: rtc.Room has no
    # public setter). LiveKit reads the agent's identity for its own tracing when the agent
    # speaks; the participant holds no native handle (0), so nothing reaches LiveKit's FFI.
    room._info.name = name
    agent = proto_participant.ParticipantInfo(
        sid="PA_simulated",
        identity="agent",
        name="agent",
        kind=proto_participant.PARTICIPANT_KIND_AGENT,
    )
    owned = proto_participant.OwnedParticipant(info=agent)
    room._local_participant = rtc.LocalParticipant(room._room_queue, owned)
    options = RoomOptions(
        text_input=False,
        audio_input=False,
        video_input=False,
        audio_output=False,
        text_output=False,
        close_on_disconnect=False,
    )
    return room, options


def start_options(session: Any, room_options: RoomOptions) -> dict[str, Any]:
    """``start()``'s keywords for the offline room: its options, and no session host where
    LiveKit has one (``session_host``, 1.6.9+): hosting sends every session event over the
    room, which is never connected here (1.6.10+ logs each send as a failure)."""
    options: dict[str, Any] = {"room_options": room_options}
    if "session_host" in inspect.signature(session.start).parameters:
        options["session_host"] = False
    return options
