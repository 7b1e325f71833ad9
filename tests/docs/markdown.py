"""The documentation as the tests read it: its files, code blocks and links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

_FENCE = re.compile(r"^```(?P<lang>[\w-]*)\n(?P<body>.*?)^```", re.M | re.S)
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\((?P<target>[^)\s]+)\)")


@dataclass(frozen=True)
class CodeBlock:
    path: Path
    lang: str
    body: str


def pages() -> list[Path]:
    """Every page a user reads: the README, docs/, and the example's README."""
    return [
        ROOT / "README.md",
        *sorted(DOCS.rglob("*.md")),
        *sorted((ROOT / "examples").glob("*/README.md")),
    ]


def docs_text() -> str:
    return "\n".join(path.read_text() for path in sorted(DOCS.rglob("*.md")))


def code_blocks(path: Path) -> list[CodeBlock]:
    return [CodeBlock(path, m["lang"], m["body"]) for m in _FENCE.finditer(path.read_text())]


def prose(path: Path) -> str:
    """The page without its code blocks (a link inside a code block is not a link)."""
    return _FENCE.sub("", path.read_text())


def links(path: Path) -> list[str]:
    return [m["target"] for m in _LINK.finditer(prose(path))]


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    found = set()
    for line in prose(path).splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found
