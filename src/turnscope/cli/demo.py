"""``turnscope demo``: a simulated call, recorded into the store, then reported.

This is the one module outside ``turnscope.simulate`` allowed to import it: the demo *is* a
simulation (DESIGN §1). The recording path never imports it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.text import Text

import turnscope
from turnscope.cli.common import db_option, fail, one_line_errors
from turnscope.config import current_settings, resolve_db_path, shown_url
from turnscope.export.configured import export_sinks
from turnscope.export.emf import EMFSink
from turnscope.export.exporters import deliveries, metrics_delivered
from turnscope.export.metrics import MetricsSink
from turnscope.export.spans import SpanSink
from turnscope.report.literal import literal
from turnscope.report.queries import (
    distributions,
    events_of,
    select_calls,
    turns_of,
    with_written,
)
from turnscope.report.speeds import SPEED_KEY
from turnscope.report.text import render_call, render_percentiles, usd
from turnscope.simulate import PROFILES, SCENARIOS, STACKS, run
from turnscope.sinks.memory import MemorySink
from turnscope.store import StoreError, open_for_reading, open_for_writing
from turnscope.store.writer import LocalStore

if TYPE_CHECKING:
    from pathlib import Path

    from livekit.agents import AgentSession

    from turnscope.records import Turn
    from turnscope.sinks import Sink

__all__ = ["demo"]


class _Progress(MemorySink):
    """Prints each turn as soon as turnscope has recorded it."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self._console = console

    def on_turn(self, turn: Turn) -> None:
        super().on_turn(turn)
        e2e = f"{turn.e2e * 1000:.0f} ms" if turn.e2e is not None else "–"
        said = f"“{turn.user_text}”" if turn.user_text else f"({turn.source})"
        cost = usd(turn.cost.total) if turn.cost is not None else "–"
        self._console.print(
            Text.assemble(
                f"  turn {turn.index}: ",
                literal(said),
                f"  e2e {e2e}  cost {cost}  ",
                (turn.outcome, "dim"),
            )
        )


@click.command()
@click.option(
    "--scenario", type=click.Choice(sorted(SCENARIOS)), default="basic", show_default=True
)
@click.option("--turns", type=click.IntRange(min=1), help="Length of the 'long' scenario.")
@click.option(
    "--speed",
    type=click.FloatRange(min=0.25, max=8),
    default=1.0,
    show_default=True,
    help="Play the call N times faster: every latency shrinks by N, so budgets checked "
    "against a fast demo mean nothing.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--profile", type=click.Choice(sorted(PROFILES)), default="realistic", show_default=True
)
@click.option(
    "--stack",
    type=click.Choice(sorted(STACKS)),
    default="default",
    show_default=True,
    help="The providers the scripted parts present as ('example': examples/voice_agent's).",
)
@click.option(
    "--room",
    help="Start the session in a LiveKit room of this name, as an agent in a job is (LiveKit's "
    "own room object, not connected: no server needed).",
)
@db_option
@click.option("--verbose", is_flag=True, help="Show LiveKit's own log lines.")
@one_line_errors
def demo(
    scenario: str,
    turns: int | None,
    speed: float,
    seed: int,
    profile: str,
    stack: str,
    room: str | None,
    db: Path | None,
    verbose: bool,
) -> None:
    """Run a simulated LiveKit call (no keys needed), record it into the store, export it
    wherever the environment says (Langfuse, OTLP, metrics, EMF) as an agent would, and
    report it."""
    if turns is not None and scenario != "long":
        raise click.UsageError("--turns applies only to --scenario long")
    if not verbose:
        logging.getLogger("livekit").setLevel(logging.CRITICAL)  # scripted failures log tracebacks
    console = Console()
    path = resolve_db_path(db)
    _check_writable(path)
    store = LocalStore(path)
    progress = _Progress(console)
    exporting, _ = export_sinks()
    handles: list[turnscope.Instrumentation] = []

    def attach(session: AgentSession[Any]) -> None:
        handles.append(
            turnscope.instrument(
                session,
                session_id=f"demo-{scenario}",
                trace_name="turnscope demo",
                tags=["demo", scenario],
                metadata={
                    "scenario": scenario,
                    "profile": profile,
                    SPEED_KEY: speed,  # check and compare name calls not at real time
                    "seed": seed,
                },
                sinks=[*exporting, store, progress],
            )
        )

    console.print(
        f"[bold]turnscope demo[/bold]: a real LiveKit AgentSession with scripted providers "
        f"(scenario [cyan]{scenario}[/cyan], profile {profile}, seed {seed})"
    )
    if speed != 1:
        console.print(
            f"speed {speed:g}x: every latency is {speed:g} times shorter than at real speed "
            "(budgets checked against this call mean nothing)",
            soft_wrap=True,
        )
    with console.status("simulating the call…"):
        options: dict[str, Any] = {
            "turns": turns,
            "speed": speed,
            "seed": seed,
            "profile": profile,
            "room": room,
        }
        if stack != "default":
            # real plugins' STT reports usage every few seconds of audio sent, as a stream
            options |= {"stack": STACKS[stack], "stt_usage": "periodic"}
        asyncio.run(_simulate(scenario, options, attach, handles))
    store.close()
    connection = open_for_reading(path)
    call_id = handles[0].context.call_id
    calls = select_calls(connection, call=call_id)
    rows = with_written(connection, turns_of(connection, [call_id]))
    console.print()
    render_call(console, calls[0], rows, events_of(connection, [call_id], ("error",)))
    render_percentiles(console, distributions(connection, [call_id]), calls=1, turns=len(rows))
    console.print(f"[dim]stored in {path}; `turnscope report` shows it again[/dim]")
    _say_where_it_went(console, exporting, f"demo-{scenario}")


def _check_writable(path: Path) -> None:
    """Stop before playing the call if the store cannot be written (the agent's store
    would turn itself off quietly; the demo's whole point is the stored call)."""
    try:
        open_for_writing(path).close()
    except (OSError, sqlite3.Error, StoreError) as error:
        reason = getattr(error, "strerror", None) or error
        if isinstance(error, StoreError):  # it names the fix itself
            fail(f"cannot write the store: {reason}")
        fail(f"cannot write the store at {path}: {reason} (choose another --db or TURNSCOPE_DB)")


def _say_where_it_went(console: Console, sinks: list[Sink], session_id: str) -> None:
    """One line per place the call was exported to, with what arrived and what to search."""
    for sink in sinks:
        if isinstance(sink, SpanSink):
            for delivery in deliveries(sink.provider, session_id):
                backend = delivery.backend.removesuffix(" traces")
                if delivery.traces:
                    console.print(
                        f"sent to {backend} {delivery.target}: {delivery.traces} traces, "
                        f"session {session_id}",
                        highlight=False,
                        soft_wrap=True,
                    )
                else:
                    console.print(
                        f"[yellow]nothing delivered to {backend} {delivery.target}[/yellow] "
                        "(see the warning above; `turnscope doctor` checks the set-up)",
                        highlight=False,
                        soft_wrap=True,
                    )
        elif isinstance(sink, MetricsSink):
            _say_where_metrics_went(console)
        elif isinstance(sink, EMFSink):
            target = current_settings().emf
            console.print(f"EMF lines written to {target}", highlight=False, soft_wrap=True)


def _say_where_metrics_went(console: Console) -> None:
    """Sent only when the backend took them: the flush has exported them by now."""
    url = current_settings().otlp_metrics_url
    shown = shown_url(url or "your meter provider")
    delivered = metrics_delivered(url) if url else True
    if delivered is False:
        console.print(
            f"[yellow]no metrics delivered to {shown}[/yellow] "
            "(see the warning above; `turnscope doctor` checks the set-up)",
            highlight=False,
            soft_wrap=True,
        )
    elif delivered is None:
        console.print(
            f"metrics handed to {shown} (exported in the background)",
            highlight=False,
            soft_wrap=True,
        )
    else:
        console.print(f"metrics sent to {shown}", highlight=False, soft_wrap=True)


async def _simulate(
    scenario: str,
    options: dict[str, Any],
    attach: Any,
    handles: list[turnscope.Instrumentation],
) -> None:
    await run(scenario, on_session=attach, **options)
    await handles[0].aflush(timeout=10)
