"""Which reply answered a user turn, and which reply never played, from plain event lists:
the orders a loaded machine can produce that the simulated calls rarely do."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from turnscope import events as ev
from turnscope.recording.recorder import CallRecorder

if TYPE_CHECKING:
    from turnscope.records import Call, Turn

T = 1000.0
"""The user stops speaking."""


def _user_turn(speech: str) -> list[ev.Event]:
    return [
        ev.SpeechCreated(T + 0.5, speech, "generate_reply", True, modality="audio"),
        ev.EndOfTurn(T + 0.5, speech, 0.5, 0.2, 0.001),
        ev.UserMessage(T + 0.5, "u1", "What's my booking?", T - 1, T, 0.2, 0.5, 0.001),
        ev.LLMRequest(
            T + 0.9, "r1", speech, "openai", "m", 0.4, 0.3, False, 10, 0, 0, 5, 0, 15, None
        ),
    ]


def _said(item: str, started: float) -> ev.AgentMessage:
    return ev.AgentMessage(
        started + 1, item, "Your booking is A B C.", False, started, started + 1,
        None, None, 0.1, 0.001, None,
    )  # fmt: skip


def _replay(events: list[ev.Event]) -> tuple[list[Turn], Call]:
    turns: list[Turn] = []
    calls: list[Call] = []
    recorder = CallRecorder("c", on_turn=turns.append, on_call=calls.append)
    for event in events:
        recorder.feed(event)
    recorder.close()
    return turns, calls[0]


def _done(speech: str, at: float, *, messages: tuple[str, ...] = (), **kw: bool) -> ev.SpeechDone:
    return ev.SpeechDone(at, speech, kw.get("interrupted", False), True, messages, (), 0.001)


@pytest.mark.parametrize("answer_ends_first", [False, True])
def test_a_say_from_a_tool_answers_in_either_order(answer_ends_first: bool) -> None:
    """The say may finish before or after the speech that ran the tool: the user turn is
    answered by it either way, with e2e to its first audio."""
    heard = T + 1.2
    say: list[ev.Event] = [
        ev.SpeechCreated(T + 0.95, "say1", "say", True, modality="text"),
        _said("m1", heard),
        _done("say1", heard + 1.1, messages=("m1",)),
    ]
    asked = _done("s1", heard + 2 if answer_ends_first else T + 1.0)
    events = sorted([*_user_turn("s1"), *say, asked], key=lambda e: e.at)
    turns, _ = _replay(events)
    user = next(t for t in turns if t.speech_id == "s1")
    assert (user.outcome, user.answered_by) == ("answered", "say1")
    assert user.e2e == pytest.approx(heard - T)
    assert user.breakdown is not None
    assert user.breakdown.tool_steps == pytest.approx(T + 0.95 - (T + 0.5))
    spoken = next(t for t in turns if t.speech_id == "say1")
    assert (spoken.source, spoken.e2e, spoken.answered_by) == ("say", None, None)


def test_a_speech_for_the_next_user_turn_answers_no_earlier_one() -> None:
    """Created after the earlier turn, but with a user turn of its own: it is that turn's."""
    later: list[ev.Event] = [
        ev.SpeechCreated(T + 3.0, "s2", "generate_reply", True, modality="audio"),
        ev.EndOfTurn(T + 3.0, "s2", 0.5, 0.2, 0.001),
        ev.UserMessage(T + 3.0, "u2", "Hello?", T + 2, T + 2.5, 0.2, 0.5, 0.001),
        _said("m2", T + 3.5),
        _done("s2", T + 4.6, messages=("m2",)),
    ]
    turns, _ = _replay([*_user_turn("s1"), _done("s1", T + 1.0), *later])
    first = next(t for t in turns if t.speech_id == "s1")
    assert (first.outcome, first.answered_by, first.e2e) == ("no_reply", None, None)


def test_a_reply_cut_before_any_audio_is_superseded_and_not_an_interruption() -> None:
    turns, _ = _replay([*_user_turn("s1"), _done("s1", T + 1.0, interrupted=True)])
    (turn,) = turns
    assert (turn.outcome, turn.interrupted, turn.heard_seconds) == ("superseded", False, None)


def test_a_reply_cut_while_playing_is_an_interruption() -> None:
    cut = ev.AgentMessage(
        T + 2, "m1", "Your booking", True, T + 1.2, T + 2, 0.3, 0.35, 0.1, 0.001, 1.2
    )
    events = [*_user_turn("s1"), cut, _done("s1", T + 2.1, messages=("m1",), interrupted=True)]
    (turn,) = _replay(events)[0]
    assert (turn.outcome, turn.interrupted) == ("interrupted", True)
