"""The simulation is the independent judge: the library never imports it, nor it the library."""

from __future__ import annotations

import ast
from pathlib import Path

import turnscope

PACKAGE = Path(turnscope.__file__).parent
SIMULATE = PACKAGE / "simulate"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            names.add("<relative import>")
    return names


def test_nothing_outside_simulate_imports_it() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if SIMULATE in path.parents:
            continue
        if any(
            n == "turnscope.simulate" or n.startswith("turnscope.simulate.") for n in _imports(path)
        ):
            offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


def test_simulate_imports_no_other_part_of_turnscope() -> None:
    offenders = []
    for path in SIMULATE.rglob("*.py"):
        for name in _imports(path):
            outside = name.startswith("turnscope.") and not name.startswith("turnscope.simulate")
            if outside or name == "<relative import>":
                offenders.append(f"{path.relative_to(PACKAGE)}: {name}")
    assert offenders == []


def test_the_check_sees_an_offending_import(tmp_path: Path) -> None:
    module = tmp_path / "offender.py"
    module.write_text("from turnscope.simulate import run\nimport turnscope.simulate.truth\n")
    assert {"turnscope.simulate", "turnscope.simulate.truth"} <= _imports(module)
