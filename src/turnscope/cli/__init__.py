"""The ``turnscope`` command.

Each command lives in its own module; this one assembles them. Errors are one line on
stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

from importlib.metadata import version

import click

from turnscope.cli.demo import demo
from turnscope.cli.doctor import doctor
from turnscope.cli.reports import check, prune, report

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version("turnscope"), prog_name="turnscope")
def main() -> None:
    """Observability for LiveKit voice agents: every turn traced, its latency explained."""


main.add_command(demo)
main.add_command(report)
main.add_command(check)
main.add_command(prune)
main.add_command(doctor)
