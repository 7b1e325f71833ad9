"""The ``turnscope`` command.

Each command lives in its own module; this one assembles them, loading a command's module
only when that command runs: ``demo`` brings in LiveKit (two seconds), which ``report`` and
``check`` should not wait for. Errors are one line on stderr and a non-zero exit, never a
traceback.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

import click

__all__ = ["main"]

COMMANDS = {
    "demo": "turnscope.cli.demo",
    "calls": "turnscope.cli.calls",
    "report": "turnscope.cli.reports",
    "check": "turnscope.cli.reports",
    "compare": "turnscope.cli.compare",
    "prune": "turnscope.cli.reports",
    "doctor": "turnscope.cli.doctor",
    "prices": "turnscope.cli.prices",
}
"""Each command and the module that defines it (a ``click.Command`` of the same name)."""

SHORT_HELP = {
    "demo": (
        "Run a simulated LiveKit call (no keys needed), record it into the store, export it, "
        "and report it."
    ),
    "calls": (
        "A block per call: when and how long, who, turns, e2e p50/p95 and worst turn, cost, errors."
    ),
    "report": "Per-turn latency breakdown and per-component percentiles.",
    "check": "Check budgets; exit 1 if one is exceeded, 2 if one cannot be read.",
    "compare": "Compare two sets of calls: p50/p95 per metric, the difference and its noise.",
    "prune": "Delete calls older than the given age.",
    "doctor": (
        "Show every resolved setting and where it came from (secrets masked), name the "
        "mistakes it recognises, and test each configured backend."
    ),
    "prices": "What turnscope prices (and from which source), and what it could not price.",
}
"""What ``turnscope --help`` lists, without importing any command (``demo`` would bring in
LiveKit: seconds). A test keeps each the start of its command's own help; a command missing
here is listed from its own help (imported)."""


class _LazyGroup(click.Group):
    """Click's documented pattern for lazily loaded subcommands."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, self._short_help(ctx, name)) for name in COMMANDS])

    def _short_help(self, ctx: click.Context, name: str) -> str:
        known = SHORT_HELP.get(name)
        if known is not None:
            return known
        command = self.get_command(ctx, name)
        return command.get_short_help_str() if command is not None else ""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """A name no command has (``turnscope repot``) is one line naming the command meant
        and exit 2, a usage error; what looks like an option is left to click."""
        name = args[0] if args else ""
        if name in COMMANDS or name.startswith("-") or ctx.resilient_parsing:
            return super().resolve_command(ctx, args)
        from turnscope.report.suggest import did_you_mean  # only on this error: difflib

        meant = did_you_mean(name, COMMANDS) or f"the commands: {', '.join(COMMANDS)}"
        click.echo(f"turnscope: no such command {name!r}; {meant}", err=True)
        raise click.exceptions.Exit(2)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        command: Any = getattr(import_module(module), cmd_name)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="turnscope", prog_name="turnscope")  # looked up on --version
def main() -> None:
    """Observability for LiveKit voice agents: every turn traced, its latency explained."""
