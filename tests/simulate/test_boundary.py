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


DEMO = PACKAGE / "cli" / "demo.py"
"""`turnscope demo` is a simulation by definition (DESIGN §1): the one allowed importer."""


def test_nothing_outside_simulate_imports_it() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if SIMULATE in path.parents or path == DEMO:
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


def test_the_recording_path_never_loads_it() -> None:
    """Importing turnscope (what an agent does) must not bring the simulation in."""
    import subprocess
    import sys

    probe = "import sys, turnscope; print('turnscope.simulate' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_check_sees_an_offending_import(tmp_path: Path) -> None:
    module = tmp_path / "offender.py"
    module.write_text("from turnscope.simulate import run\nimport turnscope.simulate.truth\n")
    assert {"turnscope.simulate", "turnscope.simulate.truth"} <= _imports(module)
