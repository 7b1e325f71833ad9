"""The terminal report: a table per call, then percentiles per component."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich import box
from rich.table import Table
from rich.text import Text

from turnscope.recording.plausibility import REASONS
from turnscope.report.fit import print_fitted
from turnscope.report.literal import literal
from turnscope.report.metrics import METRICS
from turnscope.report.numbers import counted, unsigned_zero
from turnscope.report.speeds import speed_of

if TYPE_CHECKING:
    from rich.console import Console

    from turnscope.report.queries import Distribution, Totals

__all__ = [
    "E2E_NOTE",
    "LEGEND",
    "SUSPECT_MARK",
    "render_call",
    "render_errors",
    "render_percentiles",
    "render_quality",
    "render_totals",
]

SUSPECT_MARK = "!"
"""Follows a raw value LiveKit reported that cannot be true (shown, never counted)."""

E2E_NOTE = (
    "e2e is server-side: from the end of the user's speech (VAD) to the first agent audio "
    "frame handed to the output. It excludes the network and the caller's jitter buffer."
)

_PARTS = (
    ("endpointing", "endp"),
    ("previous_turn_wait", "wait"),
    ("turn_callback", "cb"),
    ("tool_steps", "tool"),
    ("llm_first_token", "llm"),
    ("sentence_aggregation", "sent"),
    ("tts_first_byte", "tts"),
    ("tts_retry", "retry"),
    ("queue_wait", "q"),
    ("playback", "play"),
    ("preemptive_overlap", "ovl"),
    ("other", "oth"),
)


ALWAYS_SHOWN = ("endpointing", "llm_first_token", "tts_first_byte", "other")
"""Parts the timing table always shows; the others only when some turn spent time in them,
so the numbers fit 80 columns whole (they are never truncated)."""


def _parts_used(turns: list[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    """The breakdown parts worth a column for these turns: one that shows a whole
    millisecond in some turn (a column of zeros is noise: LiveKit's sub-millisecond
    callbacks and playback starts in a simulation), or is flagged in one."""
    return tuple(
        (column, header)
        for column, header in _PARTS
        if column in ALWAYS_SHOWN
        or any(ms(turn.get(column)) not in ("0", "–") or _suspect_field(turn, column)
               for turn in turns)
    )  # fmt: skip


def _suspect_field(turn: dict[str, Any], field: str) -> bool:
    return any(s["field"] == field for s in turn.get("suspect") or ())


def ms(seconds: float | None) -> str:
    """Whole milliseconds, the nearest (a tie to the even one); never "-0"."""
    if seconds is None:
        return "–"
    return unsigned_zero(f"{seconds * 1000:.0f}")


def usd(amount: float | None) -> str:
    """Dollars, with enough digits for a fraction of a cent."""
    if amount is None:
        return "–"
    return f"${amount:.4f}" if amount >= 0.01 else f"${amount:.5f}"


def _count(value: int | None) -> str:
    return "–" if value is None else str(value)


def _tokens(turn: dict[str, Any]) -> str:
    """``in/out``; "–" for a turn that asked no model (a greeting said with ``say``): it
    spent no tokens, and "0/0" would read as a request whose usage came back empty."""
    prompt, completion = turn["prompt_tokens"], turn["completion_tokens"]
    if turn.get("llm_ttft") is None and not prompt and not completion:
        return "–"
    return f"{_count(prompt)}/{_count(completion)}"


def _timed(value: float | None, suspect: float | None) -> str:
    """Milliseconds; a suspect value shows raw, marked, where the measurement would be."""
    if value is None and suspect is not None:
        return f"{ms(suspect)}{SUSPECT_MARK}"
    return ms(value)


def _uncounted(turn: dict[str, Any]) -> bool:
    return any(r == "cost_usd" for r in turn.get("unknown") or {})


def render_quality(console: Console, call: dict[str, Any], turns: list[dict[str, Any]]) -> None:
    """What was flagged (recording/plausibility.py): suspect values with their raw value,
    fields with no measurement and why, and the call's own flags. Nothing when all is well."""
    lines = []
    for turn in turns:
        for s in turn.get("suspect") or ():
            lines.append(
                f"turn {turn['turn']}: {s['field']} {_raw(s['field'], s['value'])}"
                f"{SUSPECT_MARK} is {s['reason']} ({REASONS.get(s['reason'], '')})"
            )
        for field, reason in (turn.get("unknown") or {}).items():
            lines.append(f"turn {turn['turn']}: {field} unknown: {REASONS.get(reason, reason)}")
    for s in call.get("suspect") or ():
        lines.append(
            f"call: {s['field']} {_raw(s['field'], s['value'])}{SUSPECT_MARK} is "
            f"{s['reason']} ({REASONS.get(s['reason'], '')})"
        )
        if s["reason"] == "over_metered" and call.get("started_at") and call.get("ended_at"):
            wall = call["ended_at"] - call["started_at"]
            lines.append(
                f"  STT metered {s['value']:.1f} s of audio in a {wall:.1f} s call: "
                "its idle audio is not priced"
            )
    if call.get("stt_repeated_reports"):
        lines.append(
            f"call: {call['stt_repeated_reports']} STT usage report(s) repeated audio "
            "already counted: counted once"
        )
    if not lines:
        return
    marked = any(SUSPECT_MARK in line for line in lines)  # the legend only for what is shown
    console.print(
        "[yellow]data quality[/yellow] ("
        + (f"{SUSPECT_MARK}: suspect, shown raw, " if marked else "unknown: no measurement, ")
        + "kept out of percentiles, budgets and scores; see docs/data-quality.md)"
    )
    for line in lines:
        console.print(literal(f"  {line}"))


def _raw(field: str, value: float) -> str:
    """A flagged value as reported: ms for times, else as is."""
    if field in ("cached_tokens", "cost_usd"):
        return f"{value:g}"
    if field in ("stt_audio", "ended_at"):
        return f"{value:.1f} s" if field == "stt_audio" else f"{value:.3f}"
    return f"{ms(value)} ms"


def _flags(turn: dict[str, Any], *, show_agent: bool) -> str:
    flags = [turn["outcome"]]
    if show_agent and turn.get("agent_name"):
        flags.append(f"@{turn['agent_name']}")
    if turn["source"] in ("say", "generate_reply"):
        flags.append(turn["source"])
    failed = turn.get("tools_failed") or 0
    if turn["tools"]:
        flags.append(f"tools×{turn['tools']}" + (f" ({failed} failed)" if failed else ""))
    if turn["preemptive"]:
        flags.append("preemptive")
    if turn["discarded_attempts"]:
        flags.append(f"discarded×{turn['discarded_attempts']}")
    if (others := turn["errors"] - failed) > 0:  # a failed tool is flagged on tools× once
        flags.append(f"errors×{others}")
    if turn.get("input_modality") == "text":
        flags.append("typed")
    if turn.get("handoff_to"):
        flags.append(f"→{turn['handoff_to']}")
    return " ".join(flags)


LEGEND = (
    "Per turn, in ms: e2e (response latency) = endp (endpointing) + wait (for the previous "
    "turn's callback) + cb (your turn callback) + tool (tool steps) + llm (LLM first token) "
    "+ sent (sentence aggregation) + tts (TTS first byte) + retry (retried TTS) + q (queue "
    "wait) + play (playback) + ovl (preemptive overlap: negative, the reply's work begun "
    "before the user's turn was committed) + oth (other); a part no turn spent a whole ms in "
    "has no column."
)


def render_call(
    console: Console,
    call: dict[str, Any],
    turns: list[dict[str, Any]],
    errors: list[dict[str, Any]] | None = None,
) -> None:
    """One call: its header, what was said, the breakdown per turn, errors, totals.

    Everything that came from the call (ids, words, messages) is shown literally."""
    console.print(_header(call, len(turns), console.width))
    said = Table(box=box.SIMPLE_HEAD, padding=(0, 1))
    said.add_column("#", justify="right", no_wrap=True)
    said.add_column("user said", ratio=3, overflow="fold")
    said.add_column("agent said", ratio=3, overflow="fold")
    said.add_column("outcome, flags", ratio=2, overflow="fold")
    said.add_column("tokens in/out", justify="right", no_wrap=True)
    said.add_column("cost", justify="right", no_wrap=True)
    several_agents = len({t.get("agent_name") for t in turns}) > 1
    for turn in turns:
        cost = usd(turn.get("cost_usd"))
        if turn.get("cost_usd") is None and "cost_usd" in (turn.get("unknown") or {}):
            cost = turn["unknown"]["cost_usd"]
        elif turn.get("unpriced") or _uncounted(turn):
            cost += "*"
        said.add_row(
            str(turn["turn"]),
            _words(turn["user_text"], spoke=turn.get("user_started_at") is not None),
            _agent_words(turn),
            literal(_flags(turn, show_agent=several_agents)),
            _tokens(turn),
            cost,
        )
    print_fitted(console, said)
    console.print(Text(LEGEND, style="dim"))
    timing = Table(box=box.SIMPLE_HEAD, padding=(0, 1), title_justify="left")
    timing.add_column("#", justify="right", no_wrap=True)
    timing.add_column("e2e", justify="right", style="bold", no_wrap=True)
    parts = _parts_used(turns)
    for _, header in parts:
        timing.add_column(header, justify="right", no_wrap=True)
    for turn in turns:
        raw = {s["field"]: s["value"] for s in turn.get("suspect") or ()}
        timing.add_row(
            str(turn["turn"]),
            _timed(turn["e2e"], raw.get("e2e")),
            *(_timed(turn[column], raw.get(column)) for column, _ in parts),
        )
    print_fitted(console, timing)
    render_errors(console, errors or [])
    render_summary(console, call, turns)
    render_cost(console, call)
    render_quality(console, call, turns)


def _header(call: dict[str, Any], turns: int, width: int) -> Text:
    """Call id, local date and time, duration, close reason; session, room, user and tags —
    on one line when they fit in ``width``, else one a line (never folded mid-item)."""
    started = call.get("started_at") or call.get("recorded_at")
    when = datetime.fromtimestamp(started).strftime("%Y-%m-%d %H:%M:%S") if started else "–"
    duration = (  # "20.7s": no space a narrow terminal could break the unit away at
        f"{call['ended_at'] - call['started_at']:.1f}s"
        if call.get("ended_at") and call.get("started_at")
        else "in progress"
    )
    first = Text.assemble(
        ("call ", "bold"),
        literal(call["call_id"][:12], "bold cyan"),
        f"  {when}  ·  {counted(turns, 'turn')}  ·  {duration}",
    )
    items = [Text.assemble("session ", literal(call["session_id"]))]
    if call.get("room"):
        items.append(Text.assemble("room ", literal(call["room"])))
    if call.get("close_reason"):
        items.append(Text.assemble("closed: ", literal(call["close_reason"])))
    if call.get("user_id"):
        items.append(Text.assemble("user ", literal(call["user_id"])))
    if call.get("tags"):
        items.append(Text.assemble("tags ", literal(", ".join(call["tags"]))))
    speed = speed_of(call)
    if speed is not None:
        items.append(Text(f"played at {speed:g}x speed, not real time", style="yellow"))
    second = Text("  ·  ").join(items)
    if second.cell_len > width:
        second = Text("\n").join(items)
    return Text("\n").join([first, second])


def _words(text: str | None, *, spoke: bool) -> Text:
    """What someone said, literally; "(not captured)" when they spoke and the store has no
    words (content capture off)."""
    if text is None:
        return Text("(not captured)" if spoke else "", style="dim")
    return literal(text)


def _agent_words(turn: dict[str, Any]) -> Text:
    """The reply; for an interrupted one, how long it played and whether its text is what
    was heard or what was written (``heard_text_label``), and the written reply when LiveKit
    kept only the heard part."""
    said = _words(turn["agent_text"], spoke=turn.get("agent_started_at") is not None)
    if not turn["interrupted"]:
        return said
    heard = turn.get("heard_seconds")
    cut = f"cut off after {ms(heard)} ms" if heard is not None else "cut off"
    label = heard_text_label(turn["agent_text"], turn.get("written"))
    parts = [Text.assemble((f"{cut}{label}: ", "yellow"), said)]
    written = turn.get("written")
    if written is not None and written != turn["agent_text"]:
        parts.append(Text.assemble(("written: ", "dim"), literal(written, "dim")))
    return Text("\n").join(parts)


def heard_text_label(text: str | None, written: str | None) -> str:
    """What an interrupted reply's text is, as a clause to follow "cut off after N ms".

    LiveKit keeps the whole written reply in the chat history unless the output reports a
    synchronized transcript (RoomIO, ``TranscriptSynchronizer``): then only what played.
    Set against what the model wrote (``written``): the same text is the written reply,
    not all of it heard; a different one is the heard part. Without the written reply
    (content capture off, a ``say()``), it cannot be told: the text may run past what was
    heard."""
    if text is None:
        return ""
    if written is None:
        return "; maybe not all heard"
    return "; written, not all heard" if written == text else "; heard"


def render_errors(console: Console, errors: list[dict[str, Any]]) -> None:
    """Each error: turn, component, type, recoverable or not, and its message."""
    if not errors:
        return
    table = Table(title="errors", title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1))
    table.add_column("turn", justify="right", no_wrap=True)
    table.add_column("component", no_wrap=True)
    table.add_column("type", overflow="fold", ratio=1)
    table.add_column("recoverable", no_wrap=True)
    table.add_column("message", overflow="fold", ratio=3)
    for error in errors:
        recoverable = error.get("recoverable")
        table.add_row(
            "–" if error.get("turn") is None else str(error["turn"]),
            literal(error.get("component") or "–"),
            literal(error.get("detail") or "–"),
            "–" if recoverable is None else ("yes" if recoverable else "no"),
            literal(error.get("message") or ""),
        )
    print_fitted(console, table)


def render_summary(
    console: Console, call: dict[str, Any], turns: list[dict[str, Any]] | None = None
) -> None:
    """Interruptions, errors, time in each state, away episodes, and the first greeting
    (only when the agent spoke first)."""
    summary = call.get("summary")
    if not summary:
        return
    rate = summary["interruption_rate"]
    errors = ", ".join(f"{k} {v}" for k, v in summary["errors_by_component"].items()) or "none"
    greeting = summary["time_to_first_greeting"] if _greeted(turns) else None
    console.print(
        Text(
            f"interruptions {summary['interruptions']}"
            + (f" ({rate:.0%} of replies)" if rate is not None else "")
            + f" · false interruptions {summary['false_interruptions']}"
            + f" ({summary['false_interruptions_resumed']} resumed)"
            + f" · errors: {errors} ({summary['unrecoverable_errors']} unrecoverable)"
            + (f" · first greeting after {ms(greeting)} ms" if greeting is not None else "")
            + (
                f" · suspect values {suspect} (kept out of percentiles)"
                if (suspect := summary.get("suspect_values"))
                else ""
            )
        )
    )

    def states(spent: dict[str, float]) -> str:
        return " · ".join(f"{k} {v:.1f} s" for k, v in sorted(spent.items()))

    console.print(literal(f"  user: {states(summary['user_time_in_state'])}"))
    console.print(literal(f"  agent: {states(summary['agent_time_in_state'])}"))
    for start, end in summary["away_episodes"]:
        console.print(f"  user away for {end - start:.1f} s")


def _greeted(turns: list[dict[str, Any]] | None) -> bool:
    """Whether the call opened with the agent speaking (a greeting), not the user."""
    if not turns:
        return turns is None  # no turns given: trust the summary
    first = min(turns, key=lambda t: t["turn"])
    return first.get("user_started_at") is None and first.get("source") != "user"


def render_cost(console: Console, call: dict[str, Any]) -> None:
    """The call's cost, split by component and by model, and what could not be priced."""
    if call.get("cost_usd") is None:
        if call.get("unpriced"):
            console.print(
                Text.assemble(
                    literal(
                        "call cost unknown: nothing could be priced "
                        f"(unpriced: {', '.join(call['unpriced'])})",
                        "yellow",
                    ),
                    " — add them with a TURNSCOPE_PRICES file",
                )
            )
        return
    parts = " · ".join(f"{k} {usd(v)}" for k, v in sorted(call["cost_by_component"].items()))
    idle = call.get("cost_idle_stt")
    if idle is not None and usd(idle) == usd(0.0):
        idle = None  # "$0.00000 was idle audio" says nothing: too little to show
    console.print(
        Text.assemble(
            (f"call cost {usd(call['cost_usd'])}", "bold"),
            literal(
                f"  ({parts}"
                + (f"; of the STT, {usd(idle)} was idle audio outside user turns" if idle else "")
                + ")"
            ),
        )
    )
    models = " · ".join(f"{k} {usd(v)}" for k, v in sorted(call["cost_by_model"].items()))
    if models:
        console.print(literal(f"  by model: {models}"))
    if call.get("unpriced"):
        console.print(
            Text.assemble(
                literal(
                    f"  unpriced (not counted; * above): {', '.join(call['unpriced'])}", "yellow"
                ),
                " — add them with a TURNSCOPE_PRICES file",
            )
        )


def render_totals(console: Console, totals: Totals) -> None:
    """Cost over the calls shown: in all, per call, and how many could not be priced."""
    if totals.cost_usd is None:
        console.print(Text(f"cost: none priced over {totals.calls} call(s)", style="dim"))
        return
    priced = totals.calls - totals.unpriced_calls
    line = (
        f"cost {usd(totals.cost_usd)} over {priced} priced call(s) "
        f"(mean {usd(totals.cost_usd / priced)} per call"
        + (
            f", {counted(totals.turns, 'turn')}: {usd(totals.cost_usd / totals.turns)} per turn"
            if totals.turns
            else ""
        )
        + ")"
    )
    if totals.unpriced_calls:
        line += f"; {totals.unpriced_calls} call(s) without a price"
    console.print(Text(line, style="bold"))


def render_percentiles(
    console: Console, found: dict[str, Distribution], *, calls: int, turns: int
) -> None:
    table = Table(
        title=f"latency percentiles (ms) over {calls} call(s), {turns} turn(s)",
        title_justify="left",
    )
    table.add_column("metric", overflow="fold")
    for header in ("n", "p50", "p90", "p95", "p99", "max"):
        table.add_column(header, justify="right", no_wrap=True)
    for name, metric in METRICS.items():
        dist = found.get(name)
        if dist is None:
            continue
        table.add_row(
            metric.label,
            str(dist.count),
            *(ms(dist.percentiles[p]) for p in (50, 90, 95, 99)),
            ms(dist.maximum),
        )
    print_fitted(console, table)
    console.print(Text(E2E_NOTE, style="dim"))
