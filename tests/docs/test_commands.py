"""Every `turnscope` command shown in a shell block of the docs, the README or the example's
README runs, in-process, against a temporary store: the docs cannot drift from the CLI.

The demo runs at `--speed 8` (the same call on a faster clock) to keep this quick. Other
shell lines (installing, exporting keys, running the example agent) are not run here: the
example's no-keys run is tested in tests/examples, and `python3 -m uv run pytest` is CI.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from click.testing import CliRunner

from tests.docs.markdown import ROOT, code_blocks, pages
from turnscope.cli import main

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

SHELL = {"bash", "sh", "shell", "console"}
_PREFIX = ("python3", "-m", "uv", "run")
_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")
ALLOWED_EXIT = {"check": {0, 1}, "compare": {0, 1}}
"""`check` exits 1 when a budget is exceeded, `compare` when a watched metric got worse or
could not be judged: verdicts, not errors. Every other command shown must succeed."""


@dataclass(frozen=True)
class Shown:
    where: str
    env: tuple[tuple[str, str], ...]
    args: tuple[str, ...]


def _commands(page: Path) -> list[Shown]:
    found = []
    for block in code_blocks(page):
        if block.lang not in SHELL:
            continue
        for line in block.body.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            env = []
            while words and _ASSIGNMENT.match(words[0]):
                name, _, value = words.pop(0).partition("=")
                env.append((name, value))
            if tuple(words[:4]) == _PREFIX:
                words = words[4:]
            if words[:1] == ["turnscope"]:
                where = f"{page.relative_to(ROOT)}: {line.strip()}"
                found.append(Shown(where, tuple(env), tuple(words[1:])))
    return found


def _faster(args: tuple[str, ...]) -> list[str]:
    if args[:1] != ("demo",):
        return list(args)
    quick = list(args)
    if "--speed" in quick:
        quick[quick.index("--speed") + 1] = "8"
    else:
        quick += ["--speed", "8"]
    return quick


def test_every_command_shown_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shown = [command for page in pages() for command in _commands(page)]
    names = {c.args[0] for c in shown if c.args}
    assert {"demo", "report", "check", "prune", "doctor"} <= names
    unique = list({(c.env, tuple(_faster(c.args))): c for c in shown}.values())
    unique.sort(key=lambda c: c.args[:1] != ("demo",))  # the demo fills the store first
    failures = []
    runner = CliRunner()
    for command in unique:
        result = runner.invoke(main, _faster(command.args), env=dict(command.env))
        allowed = ALLOWED_EXIT.get(command.args[0] if command.args else "", {0})
        if result.exit_code not in allowed or "Traceback" in result.output:
            failures.append(f"{command.where} → exit {result.exit_code}: {result.output[-300:]}")
    assert failures == []
