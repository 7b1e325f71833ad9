"""The package's rooms follow the data flow, and arrows point one way (DESIGN §2).

adapter → events → recording → records → pricing → sinks → export / store → report → cli.
A room imports only the shared top-level modules and rooms earlier in the flow, so the
recorder can be read (and tested) without the exporters, and the store without Langfuse.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import turnscope

PACKAGE = Path(turnscope.__file__).parent

FLOW = {
    "livekit": 0,
    "recording": 1,
    "pricing": 2,
    "sinks": 3,
    "export": 4,
    "store": 4,
    "report": 5,
    "cli": 6,
}
"""Each room's place in the flow; rooms of one rank (export, store) are siblings."""

SHARED = {"config", "events", "records", "guard"}
"""Top-level modules every room may import: they hold no flow of their own."""

WIRING = {"__init__", "instrument", "testing"}
"""Top-level modules that wire rooms together: any room of the flow may serve them, and no
room imports them."""


def _turnscope_imports(path: Path) -> set[str]:
    """The ``turnscope.<part>`` names a module imports (first component after turnscope)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    parts: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            pieces = name.split(".")
            if pieces[0] == "turnscope" and len(pieces) > 1:
                parts.add(pieces[1])
    return parts


def _violations(room: str, imported: set[str]) -> list[str]:
    bad = []
    for part in imported - {room}:
        if part in SHARED or part == "simulate":  # simulate has its own boundary test
            continue
        if part in WIRING or part not in FLOW or FLOW[part] > FLOW[room]:
            bad.append(part)
        elif FLOW[part] == FLOW[room]:
            bad.append(part)  # siblings stay apart
    return bad


def test_no_room_imports_a_room_later_in_the_flow() -> None:
    offenders = []
    for room in FLOW:
        for path in (PACKAGE / room).rglob("*.py"):
            if path == PACKAGE / "cli" / "demo.py":
                imported = _turnscope_imports(path) - {"simulate"}
            else:
                imported = _turnscope_imports(path)
            offenders += [f"{path.relative_to(PACKAGE)} → {p}" for p in _violations(room, imported)]
    assert offenders == []


def test_shared_modules_import_no_room() -> None:
    offenders = []
    for name in SHARED:
        imported = _turnscope_imports(PACKAGE / f"{name}.py")
        offenders += [f"{name}.py → {p}" for p in imported - SHARED]
    assert offenders == []


def test_the_top_level_holds_only_the_public_surface_and_what_every_room_shares() -> None:
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top <= SHARED | WIRING
    assert len(top) <= 7


def test_every_folder_is_a_room_of_the_flow() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders <= set(FLOW) | {"simulate"}


@pytest.mark.parametrize(
    ("room", "source", "expected"),
    [
        ("recording", "from turnscope.export.spans import SpanSink\n", ["export"]),
        ("store", "import turnscope.export.semconv\n", ["export"]),
        ("export", "from turnscope.store import open_for_writing\n", ["store"]),
        ("pricing", "from turnscope.instrument import instrument\n", ["instrument"]),
        ("report", "from turnscope.store import migrations\nfrom turnscope import records\n", []),
    ],
)
def test_the_check_sees_a_backward_import(
    tmp_path: Path, room: str, source: str, expected: list[str]
) -> None:
    module = tmp_path / "module.py"
    module.write_text(source)
    assert _violations(room, _turnscope_imports(module)) == expected
