"""``turnscope demo``: a simulated call, recorded into the store, then reported.

This is the one module outside ``turnscope.simulate`` allowed to import it: the demo *is* a
simulation (DESIGN §1). The recording path never imports it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

import turnscope
from turnscope.cli.common import db_option, one_line_errors
from turnscope.config import resolve_db_path
from turnscope.report.queries import distributions, select_calls, turns_of
from turnscope.report.text import render_call, render_percentiles, usd
from turnscope.simulate import PROFILES, SCENARIOS, STACKS, run
from turnscope.sinks.memory import MemorySink
from turnscope.store import open_for_reading
from turnscope.store.writer import LocalStore

if TYPE_CHECKING:
    from pathlib import Path

    from livekit.agents import AgentSession

    from turnscope.records import Turn

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
            f"  turn {turn.index}: {said}  e2e {e2e}  cost {cost}  [dim]{turn.outcome}[/dim]"
        )


@click.command()
@click.option(
    "--scenario", type=click.Choice(sorted(SCENARIOS)), default="basic", show_default=True
)
@click.option("--turns", type=click.IntRange(min=1), help="Length of the 'long' scenario.")
@click.option("--speed", type=click.FloatRange(min=0.25, max=8), default=1.0, show_default=True)
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
    db: Path | None,
    verbose: bool,
) -> None:
    """Run a simulated LiveKit call (no keys, no network), record it, and report it."""
    if turns is not None and scenario != "long":
        raise click.UsageError("--turns applies only to --scenario long")
    if not verbose:
        logging.getLogger("livekit").setLevel(logging.CRITICAL)  # scripted failures log tracebacks
    console = Console()
    path = resolve_db_path(db)
    store = LocalStore(path)
    progress = _Progress(console)
    handles: list[turnscope.Instrumentation] = []

    def attach(session: AgentSession[Any]) -> None:
        handles.append(
            turnscope.instrument(
                session,
                session_id=f"demo-{scenario}",
                trace_name="turnscope demo",
                tags=["demo", scenario],
                metadata={"scenario": scenario, "profile": profile, "speed": speed, "seed": seed},
                sinks=[store, progress],
            )
        )

    console.print(
        f"[bold]turnscope demo[/bold]: a real LiveKit AgentSession with scripted providers "
        f"(scenario [cyan]{scenario}[/cyan], profile {profile}, speed {speed}x, seed {seed})"
    )
    with console.status("simulating the call…"):
        options: dict[str, Any] = {"turns": turns, "speed": speed, "seed": seed, "profile": profile}
        if stack != "default":
            # real plugins' STT reports usage every few seconds of audio sent, as a stream
            options |= {"stack": STACKS[stack], "stt_usage": "periodic"}
        asyncio.run(_simulate(scenario, options, attach, handles))
    store.close()
    connection = open_for_reading(path)
    call_id = handles[0].context.call_id
    calls = select_calls(connection, call=call_id)
    rows = turns_of(connection, [call_id])
    console.print()
    render_call(console, calls[0], rows)
    render_percentiles(console, distributions(connection, [call_id]), calls=1, turns=len(rows))
    console.print(f"[dim]stored in {path}; `turnscope report` shows it again[/dim]")


async def _simulate(
    scenario: str,
    options: dict[str, Any],
    attach: Any,
    handles: list[turnscope.Instrumentation],
) -> None:
    await run(scenario, on_session=attach, **options)
    await handles[0].aflush(timeout=10)
