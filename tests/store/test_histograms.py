"""The histograms the store keeps give what the exact computation gives, at the reports'
precision (whole milliseconds), on real stores: written by the writer, pruned, upgraded."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import numpy as np
import pytest

from tests.report.stores import store_as
from turnscope.report.queries import exact_distributions, histogram_distributions
from turnscope.store import histograms, open_for_reading, open_for_writing
from turnscope.store.metrics import HISTOGRAMS, METRICS
from turnscope.store.prune import delete_calls

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache


def _shown(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"  # as the terminal report prints it


def _assert_same(connection: sqlite3.Connection) -> None:
    names = list(METRICS)
    fast = histogram_distributions(connection, names)
    exact = exact_distributions(connection, None, names)
    assert sorted(fast) == sorted(exact)
    for name, want in exact.items():
        got = fast[name]
        assert got.count == want.count, name
        assert got.maximum == want.maximum, name
        assert got.mean == pytest.approx(want.mean), name
        for p, value in want.percentiles.items():
            assert _shown(got.percentiles[p]) == _shown(value), (name, p)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, simulations: SimulationCache) -> Path:
    path = tmp_path_factory.mktemp("hist") / "s.db"
    for n, scenario in enumerate(
        ("basic", "errors", "bargein", "tool_with_preamble", "preemptive")
    ):
        store_as(path, simulations.recorded(scenario), f"call-{n}", shift=n * 60.0)
    store_as(path, simulations.long(), "call-long")
    return path


def test_the_writer_keeps_every_metric_equal_to_the_exact_report(store: Path) -> None:
    connection = open_for_reading(store)
    assert histograms.kept(connection) == set(HISTOGRAMS)
    _assert_same(connection)


def test_pruning_keeps_them_equal(store: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    copy.write_bytes(store.read_bytes())
    connection = open_for_writing(copy)
    removed = delete_calls(connection, "SELECT call_id FROM calls WHERE call_id IN (?, ?)",
                           ("call-1", "call-long"))  # fmt: skip
    assert removed == 2
    _assert_same(connection)
    counts = dict(connection.execute("SELECT metric, SUM(count) FROM histograms GROUP BY metric"))
    assert counts["e2e"] == connection.execute("SELECT COUNT(e2e) FROM turns").fetchone()[0]


def test_an_old_store_gains_them_when_a_writer_opens_it(store: Path, tmp_path: Path) -> None:
    copy = tmp_path / "old.db"
    copy.write_bytes(store.read_bytes())
    raw = sqlite3.connect(copy)
    raw.execute("DELETE FROM histograms")
    raw.execute("UPDATE histogram_metrics SET definition = 'older' WHERE metric = 'e2e'")
    raw.execute("DELETE FROM histogram_metrics WHERE metric != 'e2e'")
    raw.commit()
    raw.close()
    assert histograms.kept(open_for_reading(copy)) == set()
    assert histogram_distributions(open_for_reading(copy), list(METRICS)) == {}
    open_for_writing(copy).close()
    connection = open_for_reading(copy)
    assert histograms.kept(connection) == set(HISTOGRAMS)
    _assert_same(connection)


@pytest.mark.parametrize("seed", range(40))
def test_random_values_across_and_within_buckets(tmp_path: Path, seed: int) -> None:
    """Values a few µs apart (same bucket), far apart (interpolation across buckets), ties,
    zeros and exact half-milliseconds — every percentile must still show as numpy's does."""
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 60))
    kind = seed % 4
    if kind == 0:
        values = rng.uniform(0, 2, size)
    elif kind == 1:
        values = 0.5 + rng.uniform(0, 0.002, size)  # inside two or three buckets
    elif kind == 2:
        values = rng.choice([0.0, 0.0125, 0.0135, 1.0005], size)  # ties and half-ms
    else:
        values = np.round(rng.exponential(0.3, size), 6)
    connection = sqlite3.connect(":memory:", isolation_level=None)
    open_path = tmp_path / "r.db"
    connection = open_for_writing(open_path)
    connection.execute("BEGIN")
    connection.executemany(
        "INSERT INTO turns (call_id, turn, source, outcome, started_at, ended_at, interrupted, "
        "preemptive, discarded_attempts, e2e, prompt_tokens, cached_tokens, completion_tokens, "
        "tts_characters, stt_audio, tools, errors) "
        "VALUES ('c', ?, 'user', 'answered', 0, 1, 0, 0, 0, ?, 0, 0, 0, 0, 0, 0, 0)",
        [(n, float(v)) for n, v in enumerate(values)],
    )
    histograms.rebuild(connection)
    connection.execute("COMMIT")
    got = histogram_distributions(connection, ["e2e"])["e2e"]
    for p in (50, 90, 95, 99, 12.5):
        value, exact = histograms.percentile(histograms.buckets(connection, ["e2e"])["e2e"], p)
        want = float(np.percentile(values, p))
        assert _shown(value) == _shown(want), (p, sorted(values))
        if exact:
            assert value == pytest.approx(want, abs=1e-12)
    assert got.maximum == float(values.max())
