"""The call summary at close: what a team looks at per call (DESIGN §4, phase 3 of the
requirements): latency percentiles, interruptions, errors by component, time in each user
and agent state, away episodes and the time to the first greeting. Pure: from the call's
turns and its state changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from turnscope.records import CallSummary

if TYPE_CHECKING:
    from collections.abc import Sequence

    from turnscope.records import Call, Turn

__all__ = ["SummaryTotals", "away_episodes", "summarize", "time_in_state"]


def time_in_state(
    changes: Sequence[tuple[float, str]], start: float, end: float, initial: str
) -> dict[str, float]:
    """Seconds spent in each state between ``start`` and ``end``; they add up to the span."""
    spent: dict[str, float] = {}
    state, since = initial, start
    for at, new in sorted(changes):
        at = min(max(at, start), end)
        spent[state] = spent.get(state, 0.0) + (at - since)
        state, since = new, at
    spent[state] = spent.get(state, 0.0) + (end - since)
    return {k: v for k, v in spent.items() if v > 0}


def away_episodes(changes: Sequence[tuple[float, str]], end: float) -> list[tuple[float, float]]:
    episodes = []
    away_since: float | None = None
    for at, new in sorted(changes):
        if new == "away" and away_since is None:
            away_since = at
        elif new != "away" and away_since is not None:
            episodes.append((away_since, at))
            away_since = None
    if away_since is not None:
        episodes.append((away_since, end))
    return episodes


class SummaryTotals:
    """What the summary needs from a call's turns, gathered as they go by (not the turns)."""

    def __init__(self) -> None:
        self.turns = 0
        self.e2e: list[float] = []
        self.heard = 0
        self.interrupted = 0
        self.errors: dict[str, int] = {}
        self.unrecoverable = 0
        self.first_index: int | None = None
        self.greeting_at: float | None = None
        """First audio of the turn that opened the call (lowest index), when that turn was
        the agent speaking on its own (a greeting); None when the user spoke first."""
        self.suspect = 0

    def add(self, turn: Turn) -> None:
        self.turns += 1
        self.suspect += len(turn.suspect) + sum(len(r.suspect) for r in turn.requests)
        if self.first_index is None or turn.index < self.first_index:
            self.first_index = turn.index
            greeted = turn.source != "user" and turn.user_started_at is None
            self.greeting_at = turn.agent_started_at if greeted else None
        if turn.e2e is not None:
            self.e2e.append(turn.e2e)
        if turn.agent_started_at is not None:
            # the rate's numerator and denominator count the same kind: replies that played
            self.heard += 1
            self.interrupted += turn.interrupted
        for error in turn.errors:
            self.errors[error.component] = self.errors.get(error.component, 0) + 1
            self.unrecoverable += not error.recoverable


def summarize(call: Call, totals: SummaryTotals) -> CallSummary:
    e2e = np.asarray(totals.e2e, dtype=float)
    p50, p95 = (float(v) for v in np.percentile(e2e, [50, 95])) if e2e.size else (None, None)
    errors = dict(totals.errors)
    unrecoverable = totals.unrecoverable
    for error in call.errors:
        errors[error.component] = errors.get(error.component, 0) + 1
        unrecoverable += not error.recoverable
    start, end = call.started_at, max(call.ended_at, call.started_at)
    user = time_in_state(call.user_states, start, end, "listening")
    agent = time_in_state(call.agent_states, start, end, "initializing")
    return CallSummary(
        turns=totals.turns,
        duration=end - start,
        e2e_p50=p50,
        e2e_p95=p95,
        e2e_max=float(e2e.max()) if e2e.size else None,
        interruptions=totals.interrupted,
        interruption_rate=totals.interrupted / totals.heard if totals.heard else None,
        false_interruptions=len(call.false_interruptions),
        false_interruptions_resumed=sum(1 for _, resumed in call.false_interruptions if resumed),
        errors_by_component=tuple(sorted(errors.items())),
        unrecoverable_errors=unrecoverable,
        user_time_in_state=tuple(sorted(user.items())),
        agent_time_in_state=tuple(sorted(agent.items())),
        away_episodes=tuple(away_episodes(call.user_states, end)),
        time_to_first_greeting=(
            totals.greeting_at - start if totals.greeting_at is not None else None
        ),
        suspect_values=totals.suspect,
    )
