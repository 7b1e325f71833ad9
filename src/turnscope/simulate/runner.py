"""Runs a scenario through a REAL LiveKit ``AgentSession`` built from the scripted parts.

Nothing here talks to a network: the session has no room, its audio input and output are
the simulation's, and every provider is scripted. What LiveKit does with them — turn
detection, endpointing, interruptions, preemptive generation, tool calls, metrics — is
LiveKit's own code running for real.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livekit.agents import NOT_GIVEN, Agent, AgentSession, APIConnectOptions, llm, stt, tts, vad
from livekit.agents.voice.agent_session import SessionConnectOptions

from turnscope.simulate.agent import (
    BillingAgent,
    CannedAgent,
    FrontDeskAgent,
    ScriptedAgent,
    ToolSpeakerAgent,
)
from turnscope.simulate.audio import ScriptedAudioInput, ScriptedAudioOutput
from turnscope.simulate.llm import ScriptedLLM
from turnscope.simulate.profiles import PROFILES, LatencySampler
from turnscope.simulate.realtime import ScriptedRealtimeModel
from turnscope.simulate.room import offline_room, start_options
from turnscope.simulate.scenarios import Scenario, Utterance, build_scenario
from turnscope.simulate.stack import DEFAULT_STACK, Stack
from turnscope.simulate.stt import ScriptedSTT, STTUsageMode
from turnscope.simulate.truth import SayTruth, SimulationTruth, TypedTruth
from turnscope.simulate.tts import ScriptedTTS
from turnscope.simulate.vad import ScriptedVAD

if TYPE_CHECKING:
    from collections.abc import Callable

    from livekit.agents.metrics import AgentMetrics
    from livekit.agents.voice import SpeechHandle
    from livekit.agents.voice.events import EventTypes
    from livekit.agents.voice.turn import TurnHandlingOptions

__all__ = ["RecordedEvent", "SimulationResult", "SimulationTimeout", "run"]

SESSION_EVENTS: tuple[EventTypes, ...] = (
    "user_state_changed",
    "agent_state_changed",
    "user_input_transcribed",
    "conversation_item_added",
    "agent_false_interruption",
    "function_tools_executed",
    "speech_created",
    "tool_execution_updated",
    "error",
    "close",
)
"""Session events the simulation logs for its own checks (``metrics_collected`` is read
from the plugins instead: registering it on the session is deprecated and logs a warning)."""


class SimulationTimeout(RuntimeError):
    """The scenario did not finish in time: a cue never came or the agent never settled."""


@dataclass(frozen=True)
class RecordedEvent:
    name: str
    at: float
    payload: Any


@dataclass
class SimulationResult:
    """What a simulated call produced: LiveKit's view and the simulation's own truth."""

    scenario: Scenario
    profile: str
    speed: float
    seed: int
    truth: SimulationTruth
    session: AgentSession[None]
    events: list[RecordedEvent] = field(default_factory=list)
    metrics: list[AgentMetrics] = field(default_factory=list)
    """Every metrics object the providers emitted (mutated by LiveKit to carry speech ids)."""
    speech_handles: list[SpeechHandle] = field(default_factory=list)

    def payloads(self, name: str) -> list[Any]:
        """The payloads of every logged session event called ``name``."""
        return [event.payload for event in self.events if event.name == name]

    def chat_messages(self, role: str) -> list[llm.ChatMessage]:
        """The session's chat history messages of one role, in order."""
        return [
            item
            for item in self.session.history.items
            if item.type == "message" and item.role == role
        ]


class _Conversation:
    """Watches the agent so the caller's script can react to it (its cues)."""

    def __init__(
        self, session: AgentSession[None], output: ScriptedAudioOutput, truth: SimulationTruth
    ):
        self._session = session
        self._output = output
        self._truth = truth
        self.handles: list[SpeechHandle] = []
        self.busy_at = 0.0
        """Last time the agent was seen thinking or speaking."""

    def on_agent_state(self, new_state: str) -> None:
        if new_state in ("thinking", "speaking"):
            self.busy_at = time.time()

    def idle(self) -> bool:
        return (
            self._session.agent_state == "listening"
            and not self._output.playing
            and all(handle.done() for handle in self.handles)
        )

    def responded_since(self, since: float) -> bool:
        latest_play = max((p.first_frame_at for p in self._truth.playbacks), default=0.0)
        return max(self.busy_at, latest_play) > since

    def cue_ready(self, utterance: Utterance, previous_end: float) -> bool:
        if utterance.after in ("start", "previous"):
            return True
        if utterance.after == "agent_speaking":
            return any(p.first_frame_at > previous_end for p in self._truth.playbacks)
        return self.responded_since(previous_end) and self.idle()


def _turn_handling(scenario: Scenario, sampler: LatencySampler) -> TurnHandlingOptions:
    return {
        "turn_detection": "vad",
        "endpointing": {
            "min_delay": sampler.scaled(scenario.endpointing_min_delay),
            "max_delay": sampler.scaled(3.0),
        },
        "interruption": {
            "mode": "vad",
            "min_duration": sampler.scaled(0.5),
            "false_interruption_timeout": sampler.scaled(2.0),
        },
        "preemptive_generation": {"enabled": scenario.preemptive},
    }


def _legacy_preemptive(scenario: Scenario) -> dict[str, Any]:
    """LiveKit < 1.5.4 has no ``turn_handling["preemptive_generation"]``: it ignores the key
    and keeps preemptive generation on, so there it takes the session keyword instead."""
    from livekit.agents.voice.turn import TurnHandlingOptions

    if "preemptive_generation" in TurnHandlingOptions.__annotations__:
        return {}
    return {"preemptive_generation": scenario.preemptive}


def _build_session(
    scenario: Scenario,
    sampler: LatencySampler,
    truth: SimulationTruth,
    *,
    stt_usage: STTUsageMode,
    tts_streaming: bool,
    max_unrecoverable_errors: int,
    stack: Stack = DEFAULT_STACK,
) -> AgentSession[None]:
    retry = APIConnectOptions(max_retry=2, retry_interval=sampler.scaled(0.2), timeout=10.0)
    away = scenario.user_away_timeout
    conn_options = SessionConnectOptions(
        llm_conn_options=retry,
        tts_conn_options=retry,
        stt_conn_options=retry,
        max_unrecoverable_errors=max_unrecoverable_errors,
    )
    llm_provider, llm_model = stack.llm
    if scenario.mode == "text":
        return AgentSession(
            llm=ScriptedLLM(
                scenario.replies,
                sampler=sampler,
                truth=truth,
                provider=llm_provider,
                model=llm_model,
            ),
            vad=None,
            turn_handling={"turn_detection": "manual"},  # nobody speaks: no detector at all
            conn_options=conn_options,
        )
    model: llm.LLM[Any] | llm.RealtimeModel = (
        ScriptedRealtimeModel(scenario.replies, scenario.transcripts, sampler=sampler, truth=truth)
        if scenario.mode == "realtime"
        else ScriptedLLM(
            scenario.replies, sampler=sampler, truth=truth, provider=llm_provider, model=llm_model
        )
    )
    speech = (
        ScriptedTTS(
            sampler=sampler,
            truth=truth,
            fail_on=scenario.tts_fail_on,
            retry_on=scenario.tts_retry_on,
            streaming=tts_streaming,
            provider=stack.tts[0],
            model=stack.tts[1],
        )
        if scenario.mode == "pipeline"
        else NOT_GIVEN
    )
    hearing = (
        ScriptedSTT(
            scenario.transcripts,
            sampler=sampler,
            truth=truth,
            usage=stt_usage,
            provider=stack.stt[0],
            model=stack.stt[1],
        )
        if scenario.mode == "pipeline"
        else NOT_GIVEN
    )
    return AgentSession(
        **_legacy_preemptive(scenario),
        vad=ScriptedVAD(min_speech=sampler.scaled(0.06), min_silence=sampler.scaled(0.3)),
        stt=hearing,
        llm=model,
        tts=speech,
        turn_handling=_turn_handling(scenario, sampler),
        user_away_timeout=sampler.scaled(away) if away is not None else None,
        aec_warmup_duration=None,
        session_close_transcript_timeout=sampler.scaled(0.5),
        conn_options=conn_options,
    )


def _default_timeout(scenario: Scenario, speed: float) -> float:
    spoken = sum(u.seconds + u.gap + 10.0 for u in scenario.utterances)
    return 20.0 + (spoken + 10.0) / speed


async def run(
    scenario: str | Scenario = "basic",
    *,
    profile: str = "realistic",
    speed: float = 1.0,
    seed: int = 0,
    turns: int | None = None,
    stt_usage: STTUsageMode = "per_utterance",
    tts_streaming: bool = False,
    max_unrecoverable_errors: int = 3,
    on_session: Callable[[AgentSession[None]], object] | None = None,
    timeout: float | None = None,
    agent: Callable[[], Agent] | None = None,
    stack: Stack = DEFAULT_STACK,
    room: str | None = None,
) -> SimulationResult:
    """Play a scenario through a real ``AgentSession`` and return what happened.

    ``on_session`` is called with the session before it starts: attach instrumentation
    there, exactly as an agent's entrypoint would. ``agent`` builds your own ``Agent`` in
    place of the scripted travel assistant: its instructions and tools run for real, while
    the scenario's replies still script the LLM (a ``Reply`` with a ``ToolCall`` calls one of
    your tools; the reply keyed by that tool's output answers it). The scenario's ``ignore``
    applies to the scripted assistant only. ``stack`` is the providers the scripted parts
    present themselves as (``EXAMPLE_STACK``: examples/voice_agent's Deepgram, OpenAI and
    Cartesia, as their plugins name themselves on metrics). ``room`` starts the session
    in a LiveKit room of that name (``simulate.room``: LiveKit's ``rtc.Room``, unconnected);
    without it the session has no room, as in console or text mode.
    """
    if profile not in PROFILES:
        raise ValueError(
            f"unknown latency profile {profile!r}; choose one of: {', '.join(PROFILES)}"
        )
    chosen = scenario if isinstance(scenario, Scenario) else build_scenario(scenario, turns=turns)
    sampler = LatencySampler(PROFILES[profile], seed=seed, speed=speed)
    truth = SimulationTruth()
    session = _build_session(
        chosen,
        sampler,
        truth,
        stt_usage=stt_usage,
        tts_streaming=tts_streaming,
        max_unrecoverable_errors=max_unrecoverable_errors,
        stack=stack,
    )
    output = ScriptedAudioOutput(truth=truth)
    conversation = _Conversation(session, output, truth)
    audio_in = ScriptedAudioInput(
        chosen.utterances, speed=speed, truth=truth, cue_check=conversation.cue_ready
    )
    if chosen.mode != "text":
        session.input.audio = audio_in
        session.output.audio = output
    result = SimulationResult(
        scenario=chosen, profile=profile, speed=speed, seed=seed, truth=truth, session=session
    )
    _log_events(session, result, conversation)
    _schedule_says(chosen, session, output, truth)
    if on_session is not None:
        on_session(session)
    playing = agent() if agent is not None else _agent(chosen, sampler, truth, result, stt_usage)
    truth.session_started_at = time.time()
    deadline = time.monotonic() + (
        timeout if timeout is not None else _default_timeout(chosen, speed)
    )
    try:
        if room is None:
            await session.start(playing)
        else:
            named, room_options = offline_room(room)
            await session.start(playing, room=named, **start_options(session, room_options))
        if chosen.greeting:
            _say(session, truth, chosen.greeting)
        if chosen.mode == "text":
            await asyncio.wait_for(_type_out(chosen, session, truth), deadline - time.monotonic())
        else:
            await _play_out(audio_in, conversation, sampler, deadline, result)
    finally:
        await session.aclose()
    return result


def _agent(
    scenario: Scenario,
    sampler: LatencySampler,
    truth: SimulationTruth,
    result: SimulationResult,
    stt_usage: STTUsageMode,
) -> Agent:
    """The scenario's first agent; with ``billing_replies``, one that can hand off."""
    billing_replies = scenario.billing_replies
    if scenario.canned:
        return CannedAgent(replies=scenario.replies, sampler=sampler, truth=truth)
    if billing_replies is None:
        return ScriptedAgent(
            sampler=sampler,
            truth=truth,
            ignore=scenario.ignore,
            callback_seconds=scenario.callback_seconds,
        )

    def billing() -> BillingAgent:
        heard_after = scenario.transcripts[scenario.handoff_after :]  # what the front desk heard
        own_stt = ScriptedSTT(
            heard_after,
            sampler=sampler,
            truth=truth,
            usage=stt_usage,
            provider="api.openai.com",
            model="gpt-transcribe",
        )
        own_llm = ScriptedLLM(billing_replies, sampler=sampler, truth=truth, model="gpt-4.1-mini")
        own_tts = ScriptedTTS(sampler=sampler, truth=truth, model="tts-1-hd")
        for plugin in (own_stt, own_llm, own_tts):
            plugin.on("metrics_collected", result.metrics.append)
        return BillingAgent(stt=own_stt, llm=own_llm, tts=own_tts)

    desk = ToolSpeakerAgent if scenario.speaking_tools else FrontDeskAgent
    return desk(sampler=sampler, truth=truth, billing=billing)


async def _type_out(
    scenario: Scenario, session: AgentSession[None], truth: SimulationTruth
) -> None:
    """A text chat: each message typed once the agent has answered the one before."""
    for utterance in scenario.utterances:
        truth.typed.append(TypedTruth(text=utterance.text, sent_at=time.time()))
        await session.run(user_input=utterance.text)


def _say(session: AgentSession[None], truth: SimulationTruth, text: str) -> None:
    truth.says.append(SayTruth(text=text, issued_at=time.time()))
    session.say(text)


def _schedule_says(
    scenario: Scenario,
    session: AgentSession[None],
    output: ScriptedAudioOutput,
    truth: SimulationTruth,
) -> None:
    if not scenario.say_during_reply:
        return
    started = [0]

    def on_playback_started(_: object) -> None:
        n = started[0]
        started[0] += 1
        if n in scenario.say_during_reply:
            _say(session, truth, scenario.say_during_reply[n])

    output.on("playback_started", on_playback_started)


def _log_events(
    session: AgentSession[None], result: SimulationResult, conversation: _Conversation
) -> None:
    for name in SESSION_EVENTS:

        def record(payload: Any, _name: EventTypes = name) -> None:
            result.events.append(RecordedEvent(_name, time.time(), payload))

        session.on(name, record)

    def on_speech(event: Any) -> None:
        conversation.handles.append(event.speech_handle)
        result.speech_handles.append(event.speech_handle)

    session.on("speech_created", on_speech)
    session.on("agent_state_changed", lambda event: conversation.on_agent_state(event.new_state))
    for plugin in (session.stt, session.llm, session.tts, session.vad):
        if isinstance(plugin, (stt.STT, llm.LLM, tts.TTS, vad.VAD)):
            plugin.on("metrics_collected", result.metrics.append)
    if isinstance(session.llm, ScriptedRealtimeModel):
        session.llm.on_metrics = result.metrics.append


async def _play_out(
    audio_in: ScriptedAudioInput,
    conversation: _Conversation,
    sampler: LatencySampler,
    deadline: float,
    result: SimulationResult,
) -> None:
    """Wait for the script to finish, then for the agent to answer and fall quiet."""
    closed = asyncio.Event()
    result.session.on("close", lambda _: closed.set())
    while not audio_in.script_done.is_set():
        if closed.is_set():
            return
        _check_deadline(deadline, result)
        await asyncio.sleep(0.02)
    last_end = result.truth.utterances[-1].ended_at if result.truth.utterances else 0.0
    give_up_at = time.time() + sampler.scaled(4.0)  # the last utterance may get no reply
    settle = sampler.scaled(0.4)
    quiet_since: float | None = None
    while not closed.is_set():
        _check_deadline(deadline, result)
        now = time.time()
        answered = conversation.responded_since(last_end or 0.0) or now > give_up_at
        if answered and conversation.idle() and result.session.user_state != "speaking":
            quiet_since = quiet_since or now
            if now - quiet_since >= settle:
                return
        else:
            quiet_since = None
        await asyncio.sleep(0.02)


def _check_deadline(deadline: float, result: SimulationResult) -> None:
    if time.monotonic() > deadline:
        spoken = len(result.truth.utterances)
        raise SimulationTimeout(
            f"scenario {result.scenario.name!r} did not finish in time: "
            f"{spoken} of {len(result.scenario.utterances)} utterances spoken, "
            f"agent state {result.session.agent_state!r}"
        )
