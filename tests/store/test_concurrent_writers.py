"""Several agent processes write one store at once (LiveKit runs each job in its own)."""

from __future__ import annotations

import multiprocessing
import pickle
from typing import TYPE_CHECKING

from turnscope.records import CallContext
from turnscope.store import open_for_reading
from turnscope.store.writer import LocalStore

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache

PROCESSES = 4
CALLS_EACH = 15


def _writer(path: str, worker: int, payload: bytes) -> None:
    import dataclasses
    from pathlib import Path

    turns, call = pickle.loads(payload)
    store = LocalStore(Path(path))
    for n in range(CALLS_EACH):
        call_id = f"w{worker}-c{n}"
        store.start_call(CallContext(call_id=call_id, session_id=f"worker-{worker}"))
        for turn in turns:
            store.on_turn(dataclasses.replace(turn, call_id=call_id))
        store.on_call(dataclasses.replace(call, call_id=call_id))
    assert store.close(timeout=60)


def test_four_processes_writing_at_once_lose_nothing(
    tmp_path: Path, simulations: SimulationCache
) -> None:
    recorded = simulations.recorded("basic")
    payload = pickle.dumps((recorded.turns, recorded.call))
    path = tmp_path / "shared.db"
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_writer, args=(str(path), w, payload)) for w in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0] * PROCESSES

    db = open_for_reading(path)
    calls = db.execute("SELECT COUNT(*), SUM(turns) FROM calls").fetchone()
    assert calls == (PROCESSES * CALLS_EACH, PROCESSES * CALLS_EACH * len(recorded.turns))
    turns = db.execute("SELECT COUNT(*) FROM turns").fetchone()[0]
    assert turns == PROCESSES * CALLS_EACH * len(recorded.turns)
    components = db.execute("SELECT COUNT(*) FROM components").fetchone()[0]
    per_call = sum(len(t.requests) + len(t.tools) for t in recorded.turns)
    assert components == PROCESSES * CALLS_EACH * per_call
