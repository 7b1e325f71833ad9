"""Speeches known from metrics alone — ids a plugin reports that never complete — cost the
recorder bounded state and bounded work, and never become turns."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from turnscope import events as ev
from turnscope.recording import recorder as recorder_module
from turnscope.recording.recorder import OPEN_LIMIT, CallRecorder

if TYPE_CHECKING:
    from tests.conftest import SimulationCache
    from turnscope.records import Call, Turn

GHOSTS = 8_000


def _ghost(kind: str, n: int, at: float) -> ev.Event:
    if kind == "llm":
        return ev.LLMRequest(
            at, f"r{n}", f"ghost-{n}", "openai", "gpt-4o-mini", 0.2, 0.1, False,
            10, 0, 0, 5, 0, 15, None,
        )  # fmt: skip
    return ev.TTSRequest(
        at, f"t{n}", f"ghost-{n}", "openai", "tts-1", 0.2, 0.1, 1.0, 20, False, True
    )


class _Counting(CallRecorder):
    """Notes the most speeches it ever held open."""

    most_open = 0

    def feed(self, event: ev.Event) -> None:
        super().feed(event)
        self.most_open = max(self.most_open, len(self._open))


def _replay(stream: list[ev.Event]) -> tuple[list[Turn], Call, _Counting]:
    turns: list[Turn] = []
    calls: list[Call] = []
    recorder = _Counting("call", on_turn=turns.append, on_call=calls.append)
    for event in stream:
        recorder.feed(event)
    recorder.close()
    return turns, calls[0], recorder


@pytest.mark.parametrize("kind", ["llm", "tts"])
def test_thousands_of_speeches_that_never_finish_invent_no_turn_and_stay_bounded(
    simulations: SimulationCache, kind: str
) -> None:
    stream = list(simulations.recorded("basic").events)
    (close,) = [e for e in stream if isinstance(e, ev.SessionClosed)]
    body = [e for e in stream if e is not close]
    middle = len(body) // 2
    at = body[middle].at
    ghosts = [_ghost(kind, n, at) for n in range(GHOSTS)]
    baseline_turns, baseline_call, _ = _replay(stream)
    turns, call, recorder = _replay([*body[:middle], *ghosts, *body[middle:], close])
    assert [(t.speech_id, t.outcome) for t in turns] == [
        (t.speech_id, t.outcome) for t in baseline_turns
    ]
    assert not any(t.speech_id and t.speech_id.startswith("ghost-") for t in turns)
    assert recorder.most_open <= OPEN_LIMIT + 2  # the real speeches open at the time
    assert call.unattributed_requests == baseline_call.unattributed_requests + GHOSTS
    assert recorder._open == {}


def test_a_speech_announced_by_livekit_is_still_a_turn_at_close(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(recorder_module, "OPEN_LIMIT", 5)
    turns: list[Turn] = []
    calls: list[Call] = []
    recorder = CallRecorder("call", on_turn=turns.append, on_call=calls.append)
    recorder.feed(ev.SpeechCreated(100.0, "real", "say", user_initiated=False))
    for n in range(50):
        recorder.feed(_ghost("llm", n, 100.5))
    recorder.close(101.0)
    assert [t.speech_id for t in turns] == ["real"]
    assert len(recorder._open) == 0
    assert calls[0].unattributed_requests == 50
