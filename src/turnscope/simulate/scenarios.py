"""The scenarios: what the simulated caller says and what the scripted agent answers.

Each utterance is cued by what the agent does (after its reply, while it speaks, or right
after the previous utterance), so a scenario keeps its meaning at every latency profile
and speed. Durations are in seconds at speed 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from turnscope.simulate.agent import (
    HOURS_INSTRUCTIONS,
    tool_arguments,
    weather_report,
)
from turnscope.simulate.llm import Reply, ToolCall

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["SCENARIOS", "Cue", "Mode", "Scenario", "Utterance", "build_scenario"]

Cue = Literal["start", "reply", "previous", "agent_speaking"]
"""When an utterance may begin, before its gap of silence:

- ``start``: when the call starts;
- ``reply``: once the agent has responded to what came before and is quiet again;
- ``previous``: as soon as the previous utterance ended (the caller goes on talking);
- ``agent_speaking``: once the agent starts speaking (the caller talks over it).
"""


Mode = Literal["pipeline", "realtime", "text"]
"""How the agent works: STT → LLM → TTS, a speech-to-speech realtime model, or text in and
out (``session.run(user_input=...)``, no audio at all)."""


@dataclass(frozen=True)
class Utterance:
    text: str
    """What the STT will transcribe (empty for noise)."""
    seconds: float
    """How long the caller speaks."""
    after: Cue = "reply"
    gap: float = 0.6
    """Silence between the cue and the first word."""
    kind: Literal["speech", "noise"] = "speech"


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    utterances: tuple[Utterance, ...]
    replies: Mapping[str, Reply]
    """Scripted LLM replies, keyed by the user message or tool output they answer."""
    greeting: str | None = None
    """Said with ``session.say()`` when the call starts."""
    say_during_reply: Mapping[int, str] = field(default_factory=dict)
    """``session.say()`` issued when the agent's n-th speech (0-based) starts playing."""
    ignore: frozenset[str] = frozenset()
    """User messages the agent deliberately does not answer."""
    tts_fail_on: frozenset[str] = frozenset()
    """Text fragments the TTS fails to synthesize (a non-retryable provider error)."""
    tts_retry_on: frozenset[str] = frozenset()
    """Text fragments whose first synthesis times out; the retry succeeds."""
    preemptive: bool = False
    endpointing_min_delay: float = 0.5
    user_away_timeout: float | None = None
    mode: Mode = "pipeline"
    billing_replies: Mapping[str, Reply] | None = None
    """When set, the agent can hand the caller off to a billing agent with its own STT, LLM
    (answering with these replies) and TTS."""
    handoff_after: int = 1
    """Utterances the first agent hears before the billing agent takes over."""
    speaking_tools: bool = False
    """The agent's tools answer the caller themselves (``session.say()``,
    ``session.generate_reply()``, a handoff to an agent that speaks first)."""
    callback_seconds: Mapping[str, float] = field(default_factory=dict)
    """How long ``on_user_turn_completed`` takes, by the user message it runs for."""
    canned: bool = False
    """The agent's own ``llm_node`` yields the replies: no LLM request is made."""

    @property
    def transcripts(self) -> list[str]:
        return [u.text for u in self.utterances if u.kind == "speech"]


def _weather(city: str, *, preamble: str = "") -> Reply:
    return Reply(text=preamble, tool_calls=(ToolCall("get_weather", tool_arguments(city=city)),))


STORY = (
    "Sure. Let me tell you about the old lighthouse on the coast. "
    "Every night for a hundred years its keeper climbed the stairs to light the lamp. "
    "Ships from all over the world knew its light. "
    "One stormy night, the lamp went out."
)


def _basic() -> Scenario:
    return Scenario(
        name="basic",
        description="A greeting, then three turns; the second calls a tool.",
        greeting="Hi, this is Acme Travel. How can I help?",
        utterances=(
            Utterance("Hi, can you tell me what you can do?", 1.4),
            Utterance("What's the weather in Paris right now?", 1.3),
            Utterance("Great, thank you. Goodbye!", 1.0),
        ),
        replies={
            "Hi, can you tell me what you can do?": Reply("I can check the weather for your trip."),
            "What's the weather in Paris right now?": _weather("Paris"),
            weather_report("Paris"): Reply("It is sunny and 21 degrees in Paris right now."),
            "Great, thank you. Goodbye!": Reply("You're welcome. Have a great trip!"),
        },
    )


def _tool_with_preamble() -> Scenario:
    return Scenario(
        name="tool_with_preamble",
        description="The agent says a preamble, calls a tool, then answers, all in one turn.",
        utterances=(
            Utterance("Can you check the weather in Tokyo?", 1.2, after="start"),
            Utterance("Thanks, bye.", 0.7),
        ),
        replies={
            "Can you check the weather in Tokyo?": _weather(
                "Tokyo", preamble="Sure, let me check that for you."
            ),
            weather_report("Tokyo"): Reply("It is sunny and 21 degrees in Tokyo."),
            "Thanks, bye.": Reply("Goodbye!"),
        },
    )


def _bargein() -> Scenario:
    return Scenario(
        name="bargein",
        description="The caller talks over a long answer; the agent stops and answers them.",
        utterances=(
            Utterance("Tell me a story.", 1.0, after="start"),
            Utterance("Stop, stop. That's enough.", 1.2, after="agent_speaking", gap=1.5),
            Utterance("Bye.", 0.6),
        ),
        replies={
            "Tell me a story.": Reply(STORY),
            "Stop, stop. That's enough.": Reply("Okay, stopping."),
            "Bye.": Reply("Bye!"),
        },
    )


def _cut_off_stream() -> Scenario:
    return Scenario(
        name="cut_off_stream",
        description=(
            "The caller talks over a reply the LLM is still streaming: LiveKit cancels the "
            "request before its usage arrives and reports 0 tokens."
        ),
        utterances=(
            Utterance("Tell me a story.", 1.0, after="start"),
            Utterance("Stop, stop. That's enough.", 1.2, after="agent_speaking", gap=1.0),
            Utterance("Bye.", 0.6),
        ),
        replies={
            "Tell me a story.": Reply(STORY, word_interval=0.25),
            "Stop, stop. That's enough.": Reply("Okay, stopping."),
            "Bye.": Reply("Bye!"),
        },
    )


def _falseint() -> Scenario:
    return Scenario(
        name="falseint",
        description="A noise burst pauses the agent; no words follow, so it resumes.",
        utterances=(
            Utterance("Tell me a story.", 1.0, after="start"),
            Utterance("", 0.7, after="agent_speaking", gap=1.5, kind="noise"),
            Utterance("Bye.", 0.6),
        ),
        replies={"Tell me a story.": Reply(STORY), "Bye.": Reply("Bye!")},
    )


def _errors() -> Scenario:
    return Scenario(
        name="errors",
        description=(
            "The LLM fails once and the retry succeeds (a recoverable error); the TTS then "
            "fails for good on one reply, which is dropped (an unrecoverable error)."
        ),
        utterances=(
            Utterance("Hello?", 0.6, after="start"),
            Utterance("Can you read me the fine print?", 1.2),
            Utterance("Hello, are you still there?", 1.1),
        ),
        replies={
            "Hello?": Reply("Hello! Sorry for the wait, I'm here now.", fail_first=1),
            "Can you read me the fine print?": Reply("Here is the fine print. It is long."),
            "Hello, are you still there?": Reply("Yes, I'm still here."),
        },
        tts_fail_on=frozenset({"the fine print."}),
    )


def _retries() -> Scenario:
    return Scenario(
        name="retries",
        description=(
            "Both retried and recovered: the TTS times out once on the first reply, the LLM "
            "fails once on the second; the caller hears every reply."
        ),
        utterances=(
            Utterance("Is anyone there?", 0.8, after="start"),
            Utterance("What are your opening hours?", 1.2),
        ),
        replies={
            "Is anyone there?": Reply("Yes, I'm here. How can I help?"),
            "What are your opening hours?": Reply("We are open nine to five.", fail_first=1),
        },
        tts_retry_on=frozenset({"How can I help?"}),
    )


def _preemptive() -> Scenario:
    return Scenario(
        name="preemptive",
        description=(
            "Preemptive generation: the caller pauses mid-sentence, so the first attempt is "
            "discarded; the next turn's preemptive attempt is used."
        ),
        utterances=(
            Utterance("I'd like to book a table", 1.0, after="start"),
            Utterance("for two people tonight.", 1.0, after="previous", gap=0.45),
            Utterance("Seven o'clock, please.", 0.9),
        ),
        replies={
            "I'd like to book a table for two people tonight.": Reply(
                "Of course. A table for two tonight. What time works for you?"
            ),
            "Seven o'clock, please.": Reply("Done. Your table for two is booked for seven."),
        },
        preemptive=True,
        endpointing_min_delay=0.7,
    )


def _queued_say() -> Scenario:
    return Scenario(
        name="queued_say",
        description="A session.say() issued while a reply plays waits in LiveKit's queue.",
        utterances=(
            Utterance("When are you open?", 0.9, after="start"),
            Utterance("Thanks, bye.", 0.7),
        ),
        replies={
            "When are you open?": Reply("We are open from nine to five, Monday to Friday."),
            "Thanks, bye.": Reply("Goodbye!"),
        },
        say_during_reply={0: "By the way, this call may be recorded."},
    )


def _no_reply() -> Scenario:
    return Scenario(
        name="no_reply",
        description="The caller says something the agent deliberately does not answer.",
        utterances=(
            Utterance("Hi there.", 0.6, after="start"),
            Utterance("Um, hold on a second.", 1.0),
            Utterance("Okay, what time do you close today?", 1.3, after="previous", gap=1.5),
        ),
        replies={
            "Hi there.": Reply("Hello! How can I help?"),
            "Okay, what time do you close today?": Reply("We close at five today."),
        },
        ignore=frozenset({"Um, hold on a second."}),
    )


def _away() -> Scenario:
    return Scenario(
        name="away",
        description="The caller goes silent long enough to be marked away, then comes back.",
        utterances=(
            Utterance("Hi, I need a moment to find my booking number.", 1.6, after="start"),
            Utterance("Okay, it's A B C one two three.", 1.5, gap=4.5),
        ),
        replies={
            "Hi, I need a moment to find my booking number.": Reply("No problem, take your time."),
            "Okay, it's A B C one two three.": Reply("Thanks, I found your booking."),
        },
        user_away_timeout=2.5,
    )


def _realtime() -> Scenario:
    return Scenario(
        name="realtime",
        description="A speech-to-speech realtime model answers three turns; one calls a tool.",
        utterances=(
            Utterance("Hi, what can you help me with?", 1.3, after="start"),
            Utterance("What's the weather in Lisbon?", 1.2),
            Utterance("Perfect, thanks. Bye!", 0.9),
        ),
        replies={
            "Hi, what can you help me with?": Reply("I can help you plan your trip."),
            "What's the weather in Lisbon?": _weather("Lisbon"),
            weather_report("Lisbon"): Reply("It is sunny and 21 degrees in Lisbon."),
            "Perfect, thanks. Bye!": Reply("Goodbye, enjoy Lisbon!"),
        },
        mode="realtime",
    )


def _handoff() -> Scenario:
    return Scenario(
        name="handoff",
        description=(
            "The travel agent hands the caller off to a billing agent that has its own STT "
            "(gpt-transcribe), LLM (gpt-4.1-mini) and TTS (tts-1-hd)."
        ),
        utterances=(
            Utterance("Hi, I have a question about my bill.", 1.4, after="start"),
            Utterance("I was charged twice for my booking.", 1.4),
            Utterance("Thanks, bye.", 0.7),
        ),
        replies={
            "Hi, I have a question about my bill.": Reply(
                tool_calls=(ToolCall("transfer_to_billing", "{}"),)
            ),
            "Transferring you to billing.": Reply("One moment, I'm putting you through."),
        },
        billing_replies={
            "": Reply("Hello, this is billing. How can I help with your bill?"),
            "I was charged twice for my booking.": Reply(
                "I see the double charge. I have refunded one of them."
            ),
            "Thanks, bye.": Reply("Goodbye!"),
        },
    )


def _text() -> Scenario:
    return Scenario(
        name="text",
        description="A text chat (session.run(user_input=...)): no audio, so no e2e.",
        utterances=(
            Utterance("Hi, what can you do?", 0.0, after="start"),
            Utterance("What's the weather in Oslo?", 0.0),
            Utterance("Thanks!", 0.0),
        ),
        replies={
            "Hi, what can you do?": Reply("I can check the weather for your trip."),
            "What's the weather in Oslo?": _weather("Oslo"),
            weather_report("Oslo"): Reply("It is sunny and 21 degrees in Oslo."),
            "Thanks!": Reply("You're welcome!"),
        },
        mode="text",
    )


def _tool_speaks() -> Scenario:
    return Scenario(
        name="tool_speaks",
        description=(
            "Tools answer the caller themselves: one says the answer (session.say), one asks "
            "for a reply (session.generate_reply), one hands over to an agent that greets."
        ),
        utterances=(
            Utterance("What's my booking reference?", 1.1, after="start"),
            Utterance("When are you open?", 0.9),
            Utterance("Can I talk to billing?", 0.9),
        ),
        replies={
            "What's my booking reference?": Reply(tool_calls=(ToolCall("read_booking", "{}"),)),
            "When are you open?": Reply(tool_calls=(ToolCall("check_hours", "{}"),)),
            HOURS_INSTRUCTIONS: Reply("We are open from nine to five."),
            "Can I talk to billing?": Reply(tool_calls=(ToolCall("connect_billing", "{}"),)),
            "": Reply(),  # after a tool that spoke itself, the model has nothing to add
        },
        billing_replies={"": Reply("Hello, this is billing. How can I help?")},
        handoff_after=3,
        speaking_tools=True,
    )


def _slow_callback() -> Scenario:
    return Scenario(
        name="slow_callback",
        description=(
            "A slow on_user_turn_completed: the caller goes on talking meanwhile, so LiveKit "
            "cancels the first reply before it plays, and the next turn waits for the hook."
        ),
        utterances=(
            Utterance("I'd like to change my booking.", 1.2, after="start"),
            Utterance("To next Friday, please.", 0.8, after="previous", gap=1.3),
        ),
        replies={
            "I'd like to change my booking.": Reply("Sure, what would you like to change?"),
            "To next Friday, please.": Reply("Done, your booking is moved to next Friday."),
        },
        callback_seconds={"I'd like to change my booking.": 3.0},
    )


def _bad_tool_calls() -> Scenario:
    return Scenario(
        name="bad_tool_calls",
        description=(
            "The model calls a function that does not exist, then one with arguments that "
            "do not parse: LiveKit runs neither and tells the model so."
        ),
        utterances=(
            Utterance("What's the weather in Rome?", 1.1, after="start"),
            Utterance("And in Madrid?", 0.8),
        ),
        replies={
            "What's the weather in Rome?": Reply(
                tool_calls=(ToolCall("get_wether", tool_arguments(city="Rome")),)
            ),
            "And in Madrid?": Reply(tool_calls=(ToolCall("get_weather", "not json"),)),
        },
    )


def _preemptive_canned() -> Scenario:
    return Scenario(
        name="preemptive_canned",
        description=(
            "Preemptive generation with an agent whose llm_node yields its text itself: the "
            "reply starts before the turn is committed, with no LLM request."
        ),
        utterances=(
            Utterance("Can I book a table for two?", 1.2, after="start"),
            Utterance("Seven o'clock, please.", 0.9),
        ),
        replies={
            "Can I book a table for two?": Reply("Of course. What time works for you?"),
            "Seven o'clock, please.": Reply("Done. Your table is booked for seven."),
        },
        preemptive=True,
        endpointing_min_delay=0.7,
        canned=True,
    )


def _tts_retry() -> Scenario:
    return Scenario(
        name="tts_retry",
        description=(
            "The first TTS attempt at the answer times out and the retry succeeds (a "
            "recoverable error): the caller waits for the retry."
        ),
        utterances=(Utterance("What's the cancellation policy?", 1.2, after="start"),),
        replies={
            "What's the cancellation policy?": Reply("You can cancel for free. Just call us."),
        },
        tts_retry_on=frozenset({"You can cancel for free."}),
    )


_CITIES = ("Paris", "Tokyo", "Lisbon", "Nairobi", "Lima", "Oslo", "Seoul", "Cairo")
_SMALL_TALK = (
    ("Can I bring my dog on the trip?", "Yes, small pets are welcome on most of our tours."),
    ("How much luggage can I take?", "You can take one suitcase and one carry-on bag."),
    ("Do I need a visa?", "That depends on your passport. I can send you the details."),
)


def long_call(turns: int = 20) -> Scenario:
    """``turns`` user turns; every fourth asks for the weather (a tool turn)."""
    if turns < 1:
        raise ValueError(f"turns must be at least 1, got {turns}")
    utterances: list[Utterance] = []
    replies: dict[str, Reply] = {}
    for i in range(turns):
        if i % 4 == 3:
            city = _CITIES[(i // 4) % len(_CITIES)]
            text = f"Question {i + 1}: what's the weather in {city}?"
            replies[text] = _weather(city)
            replies[weather_report(city)] = Reply(f"It is sunny and 21 degrees in {city}.")
        else:
            question, answer = _SMALL_TALK[i % len(_SMALL_TALK)]
            text = f"Question {i + 1}: {question}"
            replies[text] = Reply(answer)
        utterances.append(Utterance(text, 1.2, after="start" if i == 0 else "reply", gap=0.7))
    return Scenario(
        name="long",
        description=f"{turns} turns of questions; every fourth calls a tool.",
        utterances=tuple(utterances),
        replies=replies,
    )


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "basic": _basic,
    "tool_with_preamble": _tool_with_preamble,
    "bargein": _bargein,
    "cut_off_stream": _cut_off_stream,
    "falseint": _falseint,
    "errors": _errors,
    "retries": _retries,
    "preemptive": _preemptive,
    "queued_say": _queued_say,
    "no_reply": _no_reply,
    "away": _away,
    "long": long_call,
    "realtime": _realtime,
    "handoff": _handoff,
    "text": _text,
    "tool_speaks": _tool_speaks,
    "slow_callback": _slow_callback,
    "bad_tool_calls": _bad_tool_calls,
    "preemptive_canned": _preemptive_canned,
    "tts_retry": _tts_retry,
}


def build_scenario(name: str, *, turns: int | None = None) -> Scenario:
    """The named scenario; ``turns`` sets the length of ``long``."""
    if name not in SCENARIOS:
        known = ", ".join(SCENARIOS)
        raise ValueError(f"unknown scenario {name!r}; choose one of: {known}")
    if name == "long":
        return long_call(turns if turns is not None else 20)
    if turns is not None:
        raise ValueError(f"--turns applies only to the 'long' scenario, not {name!r}")
    return SCENARIOS[name]()
