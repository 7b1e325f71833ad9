"""docs/troubleshooting.md shows, for each mistake `turnscope doctor` recognises, the settings
and doctor's exact lines: here doctor runs with those settings and must print those lines.

The hosts shown are Langfuse Cloud's, which tests never reach: doctor's network probe is
replaced by a fixed answer (the one part that cannot run here); every line checked comes
from doctor's own resolution and printing."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from tests.docs.markdown import DOCS
from turnscope.cli import doctor as doctor_module
from turnscope.cli import main

if TYPE_CHECKING:
    from collections.abc import Iterator

PAGE = DOCS / "troubleshooting.md"
_SECTION = re.compile(r"^### (?P<title>.+?)\n(?P<body>.*?)(?=^##|\Z)", re.M | re.S)
_TEXT = re.compile(r"^```text\n(?P<body>.*?)^```", re.M | re.S)


def _examples() -> Iterator[tuple[str, dict[str, str], list[str]]]:
    recognised = PAGE.read_text().split("## What `turnscope doctor` recognises", 1)[1]
    recognised = recognised.split("\n## ", 1)[0]
    for section in _SECTION.finditer(recognised):
        blocks = [m["body"] for m in _TEXT.finditer(section["body"])]
        if len(blocks) != 2:
            continue
        env = dict(line.split("=", 1) for line in blocks[0].splitlines() if line.strip())
        env = {k: v.strip('"') if k != "LANGFUSE_SECRET_KEY" else v for k, v in env.items()}
        yield section["title"], env, blocks[1].splitlines()


EXAMPLES = list(_examples())


def test_every_mistake_has_an_example() -> None:
    assert len(EXAMPLES) >= 8


@pytest.mark.parametrize(("title", "env", "lines"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_doctor_prints_exactly_what_the_page_shows(
    title: str, env: dict[str, str], lines: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        doctor_module, "probe", lambda url, headers: doctor_module.Probe(True, 200, "accepted")
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 1, result.output
    printed = [line for line in result.output.splitlines() if line.startswith("  [!!]")]
    assert printed == lines
