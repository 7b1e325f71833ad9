"""The terminal report: a table per call, then percentiles per component."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich import box
from rich.table import Table
from rich.text import Text

from turnscope.report.metrics import METRICS

if TYPE_CHECKING:
    from rich.console import Console

    from turnscope.report.queries import Distribution

__all__ = ["E2E_NOTE", "render_call", "render_percentiles"]

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


def ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1000:.0f}"


def usd(amount: float | None) -> str:
    """Dollars, with enough digits for a fraction of a cent."""
    if amount is None:
        return "–"
    return f"${amount:.4f}" if amount >= 0.01 else f"${amount:.5f}"


def _flags(turn: dict[str, Any], *, show_agent: bool) -> str:
    flags = [turn["outcome"]]
    if show_agent and turn.get("agent_name"):
        flags.append(f"@{turn['agent_name']}")
    if turn["source"] in ("say", "generate_reply"):
        flags.append(turn["source"])
    if turn["tools"]:
        flags.append(f"tools×{turn['tools']}")
    if turn["preemptive"]:
        flags.append("preemptive")
    if turn["discarded_attempts"]:
        flags.append(f"discarded×{turn['discarded_attempts']}")
    if turn["errors"]:
        flags.append(f"errors×{turn['errors']}")
    if turn.get("input_modality") == "text":
        flags.append("typed")
    if turn.get("handoff_to"):
        flags.append(f"→{turn['handoff_to']}")
    return " ".join(flags)


def render_call(console: Console, call: dict[str, Any], turns: list[dict[str, Any]]) -> None:
    duration = (
        f"{call['ended_at'] - call['started_at']:.1f} s"
        if call.get("ended_at") and call.get("started_at")
        else "in progress"
    )
    title = Text.assemble(
        ("call ", "bold"),
        (call["call_id"][:12], "bold cyan"),
        f"  session {call['session_id']}  ·  {len(turns)} turns  ·  {duration}",
        f"  ·  closed: {call['close_reason']}" if call.get("close_reason") else "",
    )
    said = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1))
    said.add_column("#", justify="right")
    said.add_column("user said", ratio=3)
    said.add_column("agent said", ratio=3)
    said.add_column("outcome, flags", ratio=2)
    said.add_column("tokens in/out", justify="right")
    said.add_column("cost", justify="right")
    several_agents = len({t.get("agent_name") for t in turns}) > 1
    for turn in turns:
        cost = usd(turn.get("cost_usd"))
        if turn.get("unpriced"):
            cost += "*"
        said.add_row(
            str(turn["turn"]),
            turn["user_text"] or "",
            turn["agent_text"] or "",
            _flags(turn, show_agent=several_agents),
            f"{turn['prompt_tokens']}/{turn['completion_tokens']}",
            cost,
        )
    console.print(said)
    timing = Table(box=box.SIMPLE_HEAD, padding=(0, 1), title_justify="left")
    timing.add_column("#", justify="right")
    timing.add_column("e2e", justify="right", style="bold")
    for _, header in _PARTS:
        timing.add_column(header, justify="right")
    for turn in turns:
        timing.add_row(
            str(turn["turn"]),
            ms(turn["e2e"]),
            *(ms(turn[column]) for column, _ in _PARTS),
        )
    console.print(timing)
    render_summary(console, call)
    render_cost(console, call)
    console.print(
        "[dim]ms; e2e = endpointing + turn callback + tool steps + LLM first token + sentence "
        "aggregation + TTS first byte + queue wait + playback + preemptive overlap + other[/dim]"
    )


def render_summary(console: Console, call: dict[str, Any]) -> None:
    """Interruptions, errors, time in each state, away episodes, first greeting."""
    summary = call.get("summary")
    if not summary:
        return
    rate = summary["interruption_rate"]
    errors = ", ".join(f"{k} {v}" for k, v in summary["errors_by_component"].items()) or "none"
    greeting = summary["time_to_first_greeting"]
    console.print(
        f"interruptions {summary['interruptions']}"
        + (f" ({rate:.0%} of replies)" if rate is not None else "")
        + f" · false interruptions {summary['false_interruptions']}"
        + f" ({summary['false_interruptions_resumed']} resumed)"
        + f" · errors: {errors} ({summary['unrecoverable_errors']} unrecoverable)"
        + (f" · first greeting after {ms(greeting)} ms" if greeting is not None else "")
    )

    def states(spent: dict[str, float]) -> str:
        return " · ".join(f"{k} {v:.1f} s" for k, v in sorted(spent.items()))

    console.print(f"  user: {states(summary['user_time_in_state'])}")
    console.print(f"  agent: {states(summary['agent_time_in_state'])}")
    for start, end in summary["away_episodes"]:
        console.print(f"  user away for {end - start:.1f} s")


def render_cost(console: Console, call: dict[str, Any]) -> None:
    """The call's cost, split by component and by model, and what could not be priced."""
    if call.get("cost_usd") is None:
        return
    parts = " · ".join(f"{k} {usd(v)}" for k, v in sorted(call["cost_by_component"].items()))
    idle = call.get("cost_idle_stt")
    console.print(
        f"[bold]call cost {usd(call['cost_usd'])}[/bold]  ({parts}"
        + (f"; of the STT, {usd(idle)} was idle audio outside user turns" if idle else "")
        + ")"
    )
    models = " · ".join(f"{k} {usd(v)}" for k, v in sorted(call["cost_by_model"].items()))
    if models:
        console.print(f"  by model: {models}")
    if call.get("unpriced"):
        console.print(
            f"  [yellow]unpriced (not counted; * above): {', '.join(call['unpriced'])}[/yellow] "
            "— add them with a TURNSCOPE_PRICES file"
        )


def render_percentiles(
    console: Console, found: dict[str, Distribution], *, calls: int, turns: int
) -> None:
    table = Table(
        title=f"latency percentiles (ms) over {calls} call(s), {turns} turn(s)",
        title_justify="left",
    )
    for header in ("metric", "n", "p50", "p90", "p95", "p99", "max"):
        table.add_column(header, justify="left" if header == "metric" else "right")
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
    console.print(table)
    console.print(f"[dim]{E2E_NOTE}[/dim]")
