"""``turnscope report --html FILE``: gather the chosen calls and write the page."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from typing import TYPE_CHECKING, Any

import click

from turnscope.cli.common import fail
from turnscope.report.html import render_html
from turnscope.report.html_data import gather

if TYPE_CHECKING:
    import sqlite3
    from pathlib import Path

__all__ = ["write_html_report"]


def _write_private(path: Path, document: bytes) -> None:
    """Write the report readable by its owner only (0600, like the store: it holds
    transcripts), whole or not at all: a temporary file beside it, then renamed over it."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:  # mkstemp creates it 0600
            handle.write(document)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_html_report(
    connection: sqlite3.Connection, calls: list[dict[str, Any]], path: Path
) -> None:
    payload = gather(connection, calls, generated_at=time.time())
    title = (
        f"turnscope · {calls[0]['session_id']}"
        if len(calls) == 1
        else f"turnscope · {len(calls)} calls"
    )
    # "replace" keeps a lone surrogate in a transcript from failing the whole report.
    document = render_html(payload, title=title).encode("utf-8", "replace")
    try:
        _write_private(path, document)
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror or error}")
    turns = sum(len(c["turns"]) for c in payload["calls"])
    click.echo(
        f"wrote {path} ({len(calls)} call(s), {turns} turn(s), {len(document) / 1024:.0f} KB)"
    )
