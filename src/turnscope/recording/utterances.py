"""The user's side of the call as the recorder follows it: when the user was speaking
(VAD), and the final transcripts not yet answered by a committed user message."""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from turnscope import events as ev

__all__ = ["UserSpeech"]


class UserSpeech:
    """Speaking windows from the user's state changes, and the pool of final transcripts."""

    def __init__(self) -> None:
        self.states: list[tuple[float, str]] = []
        """Every user state change, (time, new state), for the call summary."""
        self.finals: list[ev.UserTranscript] = []
        """Final transcripts no committed user message has answered yet."""
        self._windows: deque[tuple[float, float]] = deque(maxlen=32)
        self._speaking_since: float | None = None
        self._state = "listening"

    def state_changed(self, e: ev.UserStateChanged) -> None:
        self.states.append((e.at, e.new))
        if e.new == "speaking":
            self._speaking_since = e.at
        elif self._state == "speaking" and self._speaking_since is not None:
            self._windows.append((self._speaking_since, e.at))
            self._speaking_since = None
        self._state = e.new

    def add_final(self, e: ev.UserTranscript) -> None:
        if e.is_final and e.text.strip():
            self.finals.append(e)

    def window_before(self, at: float) -> tuple[float, float] | None:
        """The user's last stretch of speech that ended by ``at`` (50 ms of slack)."""
        before = [w for w in self._windows if w[1] <= at + 0.05]
        return before[-1] if before else None

    def consume(self, text: str) -> list[ev.UserTranscript]:
        """A committed user message answers the finals it is made of; returns the older
        finals that it does not contain: those were never answered."""
        used = [f for f in self.finals if f.text.strip() and f.text.strip() in text]
        if not used:
            return []
        first_used = self.finals.index(used[0])
        unanswered = self.finals[:first_used]
        self.finals = [f for f in self.finals[first_used:] if f not in used]
        return unanswered

    def expire(self, now: float, after: float) -> list[ev.UserTranscript]:
        """Finals older than ``after`` seconds that no message took: unanswered. Not while
        the user is still speaking (the message may yet come), except at close (``inf``)."""
        if self._state == "speaking" and now != math.inf:
            return []
        stale = [f for f in self.finals if f.at + after <= now]
        if stale:
            self.finals = [f for f in self.finals if f not in stale]
        return stale
