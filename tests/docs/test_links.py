"""Every relative link in the docs, the README and the example's README leads somewhere,
and every Python block in them is valid Python."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.docs.markdown import ROOT, anchors, code_blocks, links, pages

if TYPE_CHECKING:
    from pathlib import Path


def _broken(page: Path) -> list[str]:
    broken = []
    for target in links(page):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file_part, _, anchor = target.partition("#")
        destination = (page.parent / file_part).resolve() if file_part else page
        if not destination.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target} (no such heading)")
    return broken


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    assert _broken(page) == []


def test_the_readme_links_to_the_docs_and_the_example() -> None:
    targets = links(ROOT / "README.md")
    assert "docs/quickstart.md" in targets
    assert "examples/voice_agent/README.md" in targets


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_python_blocks_compile(page: Path) -> None:
    for block in code_blocks(page):
        if block.lang == "python":
            compile(block.body, f"{page.name} (python block)", "exec")
