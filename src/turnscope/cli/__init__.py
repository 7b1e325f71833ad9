"""The ``turnscope`` command.

Each command lives in its own module; this one assembles them, loading a command's module
only when that command runs: ``demo`` brings in LiveKit (two seconds), which ``report`` and
``check`` should not wait for. Errors are one line on stderr and a non-zero exit, never a
traceback.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import version
from typing import Any

import click

__all__ = ["main"]

COMMANDS = {
    "demo": "turnscope.cli.demo",
    "report": "turnscope.cli.reports",
    "check": "turnscope.cli.reports",
    "prune": "turnscope.cli.reports",
    "doctor": "turnscope.cli.doctor",
    "prices": "turnscope.cli.prices",
}
"""Each command and the module that defines it (a ``click.Command`` of the same name)."""


class _LazyGroup(click.Group):
    """Click's documented pattern for lazily loaded subcommands."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        command: Any = getattr(import_module(module), cmd_name)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version("turnscope"), prog_name="turnscope")
def main() -> None:
    """Observability for LiveKit voice agents: every turn traced, its latency explained."""
