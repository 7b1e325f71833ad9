"""``turnscope demo``: a simulated call, recorded into the store, then reported.

This is the one module outside ``turnscope.simulate`` allowed to import it: the demo *is* a
simulation (DESIGN §1). The recording path never imports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sqlite3
import time
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.text import Text

import turnscope
from turnscope.cli.common import db_option, fail, one_line_errors
from turnscope.config import DEFAULT_DB, current_settings, resolve_db_path, shown_url
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
from turnscope.sinks.memory import MemorySink
from turnscope.store import StoreError, open_for_reading, open_for_writing
from turnscope.store.writer import LocalStore

if TYPE_CHECKING:
    from pathlib import Path

    from livekit.agents import AgentSession

    from turnscope.config import Settings
    from turnscope.export.exporters import Delivery
    from turnscope.records import Turn
    from turnscope.sinks import Sink

# The simulation and the exporters are imported where the call is played, not here: they
# bring in LiveKit and OpenTelemetry (two seconds), which `demo --help` and a usage error
# should not wait for. The option choices below are their names (a test keeps them equal).

__all__ = ["demo"]

FLUSH_TIMEOUT = 10.0
"""Seconds the demo waits at most for its exports at the end."""
REFUSAL_CHECK = 0.05
"""Seconds between checks, while it waits, whether only backends refusing the connection
still hold records (then waiting is pointless: nothing listens there)."""
INTERRUPT_GRACE = 5.0
"""Seconds the demo waits at most, after Ctrl-C (SIGINT) or SIGTERM, for LiveKit to close
the session it was playing; the call is closed in the store before that wait."""

SCENARIO_NAMES = (
    "away", "bad_tool_calls", "bargein", "basic", "cut_off_stream", "errors", "falseint",
    "handoff", "long", "no_reply", "preemptive", "preemptive_canned", "queued_say", "realtime",
    "retries", "slow_callback", "text", "tool_speaks", "tool_with_preamble", "tts_retry",
)  # fmt: skip
"""``turnscope.simulate.SCENARIOS``' names, without importing it (LiveKit)."""
PROFILE_NAMES = ("fast", "realistic", "slow")
"""``turnscope.simulate.PROFILES``' names."""
STACK_NAMES = ("default", "example")
"""``turnscope.simulate.STACKS``' names."""


class _Named(click.Choice):  # type: ignore[type-arg]
    """A choice whose refusal names the closest choice (``bargin``: did you mean 'bargein'?)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value in self.choices:
            return value
        from turnscope.report.suggest import did_you_mean  # only on this error: difflib

        meant = did_you_mean(str(value), [str(c) for c in self.choices])
        if meant is not None:
            self.fail(f"{value!r} is not one of the choices; {meant}", param, ctx)
        return super().convert(value, param, ctx)


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
@click.option("--scenario", type=_Named(SCENARIO_NAMES), default="basic", show_default=True)
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
@click.option("--profile", type=_Named(PROFILE_NAMES), default="realistic", show_default=True)
@click.option(
    "--stack",
    type=_Named(STACK_NAMES),
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
    from turnscope.export.configured import export_sinks  # OpenTelemetry: not for --help

    exporting, settings = export_sinks()
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
            from turnscope.simulate import STACKS

            # real plugins' STT reports usage every few seconds of audio sent, as a stream
            options |= {"stack": STACKS[stack], "stt_usage": "periodic"}
        stopped_by = asyncio.run(_simulate(scenario, options, attach, handles, exporting))
    store.close()
    if stopped_by is not None:  # the call is stored, closed as interrupted: quietly out
        if stopped_by == signal.SIGTERM:
            raise SystemExit(128 + signal.SIGTERM)
        raise click.Abort
    connection = open_for_reading(path)
    call_id = handles[0].context.call_id
    calls = select_calls(connection, call=call_id)
    rows = with_written(connection, turns_of(connection, [call_id]))
    console.print()
    render_call(console, calls[0], rows, events_of(connection, [call_id], ("error",)))
    render_percentiles(console, distributions(connection, [call_id]), calls=1, turns=len(rows))
    report = "turnscope report" if path == resolve_db_path() else f"turnscope report --db {path}"
    console.print(
        f"[dim]stored in {path}; `{report}` shows it again[/dim]", highlight=False, soft_wrap=True
    )
    _say_where_it_went(console, exporting, f"demo-{scenario}")
    _say_what_an_agent_keeps(console, settings)


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
    from turnscope.export.emf import EMFSink
    from turnscope.export.exporters import deliveries
    from turnscope.export.metrics import MetricsSink
    from turnscope.export.spans import SpanSink

    for sink in sinks:
        if isinstance(sink, SpanSink):
            for delivery in deliveries(sink.provider, session_id):
                backend = delivery.backend.removesuffix(" traces")
                if delivery.refused:
                    _say_refused(console, backend, delivery, session_id)
                elif delivery.traces:
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


def _say_what_an_agent_keeps(console: Console, settings: Settings) -> None:
    """The demo always stores its call; an agent with this environment may not: say so."""
    if settings.db is not None:
        return
    keep = f"set TURNSCOPE_DB={DEFAULT_DB} to keep one too"
    if settings.origins.get("db") != "default":  # TURNSCOPE_DB=off
        console.print(
            "an agent instrumented with this environment keeps no local store (TURNSCOPE_DB "
            "is off); the demo stored its call for this report only",
            highlight=False,
            soft_wrap=True,
        )
        return
    remote = [
        name
        for name, on in (
            ("Langfuse", settings.langfuse),
            ("the OTLP endpoint", settings.otlp_traces),
        )
        if on
    ]
    console.print(
        f"an agent instrumented with this environment sends its calls to "
        f"{' and '.join(remote) or 'a remote backend'} only, with no local store ({keep})",
        highlight=False,
        soft_wrap=True,
    )


def _say_where_metrics_went(console: Console) -> None:
    """Sent only when the backend took them: the flush has exported them by now."""
    from turnscope.export.exporters import metrics_delivered, metrics_refused

    url = current_settings().otlp_metrics_url
    shown = shown_url(url or "your meter provider")
    delivered = metrics_delivered(url) if url else True
    if url and metrics_refused(url):
        console.print(
            f"[yellow]no metrics delivered to {shown}: connection refused[/yellow] (nothing "
            "listens at that host and port)",
            highlight=False,
            soft_wrap=True,
        )
    elif delivered is False:
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


def _say_refused(console: Console, backend: str, delivery: Delivery, session_id: str) -> None:
    sent = (
        f"sent {delivery.traces} traces of session {session_id}, then " if delivery.traces else ""
    )
    console.print(
        f"[yellow]not delivered to {backend} {delivery.target}: {sent}connection refused"
        "[/yellow] (nothing listens at that host and port: is the backend running, is the "
        "port right? `turnscope doctor` checks the set-up)",
        highlight=False,
        soft_wrap=True,
    )


async def _simulate(
    scenario: str,
    options: dict[str, Any],
    attach: Any,
    handles: list[turnscope.Instrumentation],
    exporting: list[Sink],
) -> signal.Signals | None:
    """Play the call and deliver it; the signal that stopped it early, else None.

    Ctrl-C (SIGINT) or SIGTERM mid-call closes the call as the session's close would, with
    the close reason ``interrupted (SIGINT)``, then lets LiveKit close the session (at most
    ``INTERRUPT_GRACE`` s) and delivers what was recorded: the store keeps a closed call, not
    one "in progress" forever. A second signal stops at once (nothing more is waited for).
    """
    from turnscope.simulate import run  # LiveKit: not for --help

    playing = asyncio.ensure_future(run(scenario, on_session=attach, **options))
    stopped: list[signal.Signals] = []
    woken = asyncio.get_running_loop().create_future()
    caught = _catch_signals(playing, woken, handles, stopped)
    try:
        await asyncio.wait({playing, woken}, return_when=asyncio.FIRST_COMPLETED)
        if not stopped:
            playing.result()  # the simulation's own error, as before
        else:
            await asyncio.wait({playing}, timeout=INTERRUPT_GRACE)
            if playing.done() and not playing.cancelled():
                playing.exception()  # retrieved: an error while closing is not news now
        if handles:  # a signal now still stops the demo, once the call is delivered
            await _deliver(handles[0], exporting)
    finally:
        _release_signals(caught)
    return stopped[0] if stopped else None


def _catch_signals(
    playing: asyncio.Future[Any],
    woken: asyncio.Future[None],
    handles: list[turnscope.Instrumentation],
    stopped: list[signal.Signals],
) -> list[signal.Signals]:
    """On SIGINT or SIGTERM: close the call (reason ``interrupted (SIGINT)``) and stop
    playing; on a second one, stop at once. Returns the signals it handles (none where the
    loop cannot: not the main thread, or not Unix)."""
    loop = asyncio.get_running_loop()

    def on_signal(number: signal.Signals) -> None:
        if stopped:  # a second Ctrl-C: the user will not wait
            raise KeyboardInterrupt
        stopped.append(number)
        for handle in handles:
            _close_interrupted(handle, number)
        playing.cancel()
        woken.set_result(None)

    caught = []
    for number in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(number, on_signal, number)
        except (ValueError, RuntimeError, NotImplementedError):
            continue
        caught.append(number)
    return caught


def _release_signals(caught: list[signal.Signals]) -> None:
    loop = asyncio.get_running_loop()
    for number in caught:
        loop.remove_signal_handler(number)


def _close_interrupted(handle: turnscope.Instrumentation, number: signal.Signals) -> None:
    """Close the call now, as the session's close event does (the same path: the last
    turns and the call go to every sink), with a reason saying it was interrupted. LiveKit's
    own close, when it follows, finds the call closed (closing twice is a no-op)."""
    from turnscope.events import SessionClosed

    closed = SessionClosed(
        at=time.time(), reason=f"interrupted ({number.name})", error_type=None, error_message=None
    )
    handle._deliver(closed)  # the instrumentation's own entry for the adapter's events


async def _deliver(handle: turnscope.Instrumentation, exporting: list[Sink]) -> None:
    """Wait (at most ``FLUSH_TIMEOUT``) for every sink to deliver the call, but not for a
    backend that refuses the connection: once every sink has the records and only such
    backends still hold some, those are given up (counted, logged once) at once, instead of
    being waited for here and given up at exit after the demo's last line."""
    from turnscope.export.exporters import give_up_refused
    from turnscope.export.spans import SpanSink

    metrics = current_settings().otlp_metrics_url
    flush = asyncio.ensure_future(handle.aflush(timeout=FLUSH_TIMEOUT))
    while not flush.done():
        await asyncio.wait({flush}, timeout=REFUSAL_CHECK)
        if not flush.done() and _only_refusals_left(exporting, metrics):
            flush.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flush
            for sink in exporting:
                if isinstance(sink, SpanSink):
                    give_up_refused(sink.provider)
                    if sink.scores is not None and sink.scores.refusing:
                        sink.scores.give_up()


def _only_refusals_left(exporting: list[Sink], metrics: str | None) -> bool:
    """Every record has reached its sinks, and each backend still owed some (spans, scores,
    metrics at ``metrics``) refuses the connection. Never waits."""
    from turnscope.export.exporters import deliveries, metrics_delivered, metrics_refused
    from turnscope.export.metrics import MetricsSink
    from turnscope.export.spans import SpanSink
    from turnscope.sinks.pipeline import pipeline

    if not pipeline().idle():
        return False
    owed: list[bool] = []  # for each backend still owed records: whether it refuses
    for sink in exporting:
        if isinstance(sink, MetricsSink) and metrics and metrics_delivered(metrics) is not True:
            owed.append(metrics_refused(metrics))
        if not isinstance(sink, SpanSink):
            continue
        if sink.building():
            return False
        owed += [d.refused for d in deliveries(sink.provider, "") if d.pending]
        if sink.scores is not None and sink.scores.pending():
            owed.append(sink.scores.refusing)
    return bool(owed) and all(owed)
