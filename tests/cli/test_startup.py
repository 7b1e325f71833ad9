"""The reading commands start fast: a real ``turnscope`` process answers without loading
LiveKit, OpenTelemetry or the price catalogs — and ``report --summary``, ``calls`` and
``check``, which read the store's histograms, without numpy (together most of a second
before the first line, where the reads themselves take milliseconds)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

import numpy as np
import pytest

from tests.conftest import store_call
from turnscope.report.budgets import percentile_of

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache

NOT_FOR_READING = {"livekit", "opentelemetry", "genai_prices", "turnscope.instrument"}

_RUN = """
import json, sys
from turnscope.cli import main
try:
    main(sys.argv[1:], prog_name="turnscope")
except SystemExit as done:
    code = done.code
print("\\nLOADED " + json.dumps(sorted({m.split(".")[0] for m in sys.modules} | set(sys.modules))))
sys.exit(code)
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, simulations: SimulationCache) -> Path:
    path = tmp_path_factory.mktemp("startup") / "s.db"
    store_call(path, simulations.recorded("basic"))
    return path


@pytest.mark.parametrize(
    ("command", "unwanted"),
    [
        (["--help"], {*NOT_FOR_READING, "numpy"}),
        (["report", "--summary"], {*NOT_FOR_READING, "numpy"}),
        (["calls"], {*NOT_FOR_READING, "numpy"}),
        (
            ["check", "--budget", "p95(e2e)<=30s", "--budget", "error_rate<=100%"],
            {*NOT_FOR_READING, "numpy"},
        ),
        (
            ["check", "--budget", "p95(call_cost)<=$10", "--budget", "max(llm_ttft)<=30s"],
            {*NOT_FOR_READING, "numpy"},
        ),
        (["report"], NOT_FOR_READING),  # one call's exact percentiles: numpy
    ],
    ids=lambda c: " ".join(c) if isinstance(c, list) else "",
)
def test_a_reading_command_loads_neither_livekit_nor_opentelemetry(
    store: Path, command: list[str], unwanted: set[str]
) -> None:
    db = [] if command == ["--help"] else ["--db", str(store)]
    done = subprocess.run(
        [sys.executable, "-c", _RUN, *command, *db],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    output, _, loaded = done.stdout.rpartition("\nLOADED ")
    assert output.strip()  # it answered
    modules = set(json.loads(loaded))
    assert "turnscope.cli" in modules
    assert not {m for m in modules if m.split(".")[0] in unwanted or m in unwanted}


@pytest.mark.parametrize("seed", range(30))
def test_a_budgets_percentile_is_numpys_to_the_last_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 80))
    pool = [rng.uniform(0, 3, size), rng.choice([0.0, 0.0125, 0.5, 0.5, 2.0], size)]
    values = [float(v) for v in pool[seed % 2]]
    for q in (50, 90, 95, 99, 12.5, 99.9, 0.1, 33.3):
        assert percentile_of(values, q) == float(np.percentile(values, q)), (q, values)


def test_the_public_names_load_on_use_and_instrument_stays_the_function() -> None:
    """``turnscope`` loads its public names lazily; importing the module
    ``turnscope.instrument`` (as ``demo`` does) must not turn ``turnscope.instrument`` into it."""
    script = (
        "import sys, turnscope\n"
        "assert 'turnscope.instrument' not in sys.modules\n"
        "import turnscope.instrument\n"
        "assert callable(turnscope.instrument), turnscope.instrument\n"
        "from turnscope.instrument import instrument\n"
        "assert turnscope.instrument is instrument\n"
        "assert set(turnscope.__all__) <= set(dir(turnscope))\n"
        "assert all(getattr(turnscope, name) for name in turnscope.__all__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (["demo", "--help"], 0),  # the newcomer's: two seconds, where other --help take 0.2
        (["demo", "--scenario", "bargin"], 2),  # a usage error, the sibling they timed too
        (["demo", "--speed", "10"], 2),
        (["demo", "--turns", "5"], 2),  # refused in the command itself, before any call
    ],
    ids=lambda c: " ".join(c) if isinstance(c, list) else str(c),
)
def test_demo_help_and_usage_errors_load_neither_livekit_nor_the_simulation(
    command: list[str], code: int
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _RUN, *command],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == code, done.stderr
    output, _, loaded = done.stdout.rpartition("\nLOADED ")
    assert (output + done.stderr).strip()  # it answered
    modules = set(json.loads(loaded))
    assert "turnscope.cli.demo" in modules
    unwanted = {*NOT_FOR_READING, "turnscope.simulate"}
    assert not {m for m in modules if m.split(".")[0] in unwanted or m in unwanted}


def test_the_demos_choices_are_the_simulations_names() -> None:
    """`demo` lists them without importing the simulation: they must stay its names."""
    from turnscope.cli import demo
    from turnscope.simulate import PROFILES, SCENARIOS, STACKS

    assert tuple(sorted(SCENARIOS)) == demo.SCENARIO_NAMES
    assert tuple(sorted(PROFILES)) == demo.PROFILE_NAMES
    assert tuple(sorted(STACKS)) == demo.STACK_NAMES


def test_a_demo_refusing_its_store_loads_neither_livekit_nor_the_simulation(
    tmp_path: Path,
) -> None:
    """The newcomer's `TURNSCOPE_DB=/tmp/somefolder turnscope demo` took 3.6 s to refuse:
    the refusal comes before the call is played, so before LiveKit is loaded."""
    not_a_store = tmp_path / "notes.txt"
    not_a_store.write_text("not a store\n")
    done = subprocess.run(
        [sys.executable, "-c", _RUN, "demo", "--db", str(not_a_store)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("turnscope: cannot write the store: ")
    modules = set(json.loads(done.stdout.rpartition("\nLOADED ")[2]))
    unwanted = {*NOT_FOR_READING, "turnscope.simulate"}
    assert not {m for m in modules if m.split(".")[0] in unwanted or m in unwanted}
