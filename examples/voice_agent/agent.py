"""A LiveKit voice agent with real providers, observed by turnscope in one line.

From this folder: ``uv run python agent.py console`` (talk to it in your terminal),
``dev`` (connect to your LiveKit server, reloading on changes) or ``start`` (production).
README.md says what to install and which keys to set.

Deepgram transcribes, an OpenAI model answers (with one function tool, in
``assistant.py``), Cartesia speaks; silero detects speech and LiveKit's turn detector
(``inference.TurnDetector``, built into livekit-agents 1.8.9) decides when the caller has
finished. ``turnscope.instrument(...)`` records every
turn with its latency breakdown and cost, and flushes it when the job shuts down.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from preflight import require

if __name__ == "__main__":
    # Before the plugins load: a missing key or package is one clear message, not a traceback.
    require(sys.argv[1:])

# The plugins are imported at module level on purpose: LiveKit requires plugins to register
# on the main thread of the process that starts the server.
from livekit.agents import AgentServer, AgentSession, JobContext, JobProcess, cli, inference
from livekit.plugins import cartesia, deepgram, openai, silero

import turnscope
from assistant import Assistant

if TYPE_CHECKING:
    from livekit import rtc

DEPLOYMENT_ENV = os.environ.get("DEPLOYMENT_ENV", "development")
PRICES = Path(__file__).with_name("prices.toml")
"""Deepgram's multilingual rate for nova-3 with language="multi" (the plugin reports only
"nova-3"); every other price comes from turnscope's catalog."""


def prewarm(proc: JobProcess) -> None:
    """Once per job process, before any call: load the VAD model and turnscope's prices."""
    proc.userdata["vad"] = silero.VAD.load()
    turnscope.prewarm()


server = AgentServer(setup_fnc=prewarm)


@server.rtc_session()
async def entrypoint(ctx: JobContext) -> None:
    session: AgentSession[None] = AgentSession(
        stt=deepgram.STT(model="nova-3", language="multi"),
        llm=openai.LLM(model="gpt-4.1-mini"),
        tts=cartesia.TTS(model="sonic-3"),
        vad=ctx.proc.userdata["vad"],
        turn_handling={
            "turn_detection": inference.TurnDetector(),
            "preemptive_generation": {"enabled": True},
        },
    )

    # The one line (before session.start). It also registers a job shutdown callback that
    # delivers the last turns and the call summary before the process exits.
    observed = turnscope.instrument(
        session,
        session_id=ctx.room.name,  # the Langfuse session: every turn of this call
        trace_name="Voice call",
        prices=str(PRICES),
        tags=["voice_agent", DEPLOYMENT_ENV],
        metadata={
            "room_name": ctx.room.name,
            "job_id": ctx.job.id,
            "deployment_env": DEPLOYMENT_ENV,
        },
    )

    def identify(participant: rtc.RemoteParticipant) -> None:
        # The caller is known once they join: later turns carry their identity.
        if observed.context.user_id is None:
            observed.update(user_id=participant.identity)

    ctx.room.on("participant_connected", identify)

    await session.start(agent=Assistant(), room=ctx.room)  # also connects to the room
    for participant in ctx.room.remote_participants.values():
        identify(participant)  # the caller was already there

    session.generate_reply(instructions="Greet the caller and offer your help.")


if __name__ == "__main__":
    cli.run_app(server)
