"""PendingTurn: what the recorder has gathered so far for one turn not yet emitted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from turnscope import events as ev
    from turnscope.records import Suspect

__all__ = ["PendingTurn"]


@dataclass
class PendingTurn:
    """A turn being assembled: one speech's events, or a user utterance nobody answered."""

    speech_id: str | None
    """The LiveKit speech; None for a user utterance that got no speech (``no_reply``)."""
    created_at: float
    source: str = "generate_reply"
    agent: str | None = None
    modality: str | None = None
    user: ev.UserMessage | None = None
    eou: ev.EndOfTurn | None = None
    llm: list[ev.LLMRequest] = field(default_factory=list)
    tts: list[ev.TTSRequest] = field(default_factory=list)
    done: ev.SpeechDone | None = None
    folded: list[PendingTurn] = field(default_factory=list)
    """Discarded preemptive attempts whose usage this turn carries."""
    unanswered: list[ev.UserTranscript] = field(default_factory=list)
    """No-reply turns: the final transcripts nobody answered."""
    user_window: tuple[float, float] | None = None
    suspect: list[Suspect] = field(default_factory=list)
    """Values seen while gathering (a contradictory speaking window) that cannot be true."""
    answers: str | None = None
    """The user turn (its speech id) this speech may answer: it was created after that
    turn was committed and before the next, with no user turn of its own."""
    messages: list[ev.AgentMessage] | None = None
    """What the speech said, once its turn was assembled (another turn may need its audio)."""

    @property
    def discarded(self) -> bool:
        """Done without ever being scheduled: a preemptive attempt LiveKit threw away."""
        return self.done is not None and not self.done.scheduled

    def window(self) -> tuple[float, float] | None:
        """When the user spoke, for this turn."""
        if self.user is not None:
            start, stop = self.user.started_speaking_at, self.user.stopped_speaking_at
            if start is not None and stop is not None and stop >= start:
                return (start, stop)
        return self.user_window

    def start(self) -> float:
        """Where the turn begins on the call's timeline: the user's speech, else the speech."""
        window = self.window()
        return window[0] if window else self.created_at

    def end(self, now: float) -> float:
        """When the speech was done, or ``now`` while it is not."""
        return self.done.at if self.done else now
