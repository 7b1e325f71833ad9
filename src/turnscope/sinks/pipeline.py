"""The records' way from the recorder to the sinks, off the agent's event loop.

The loop only enqueues a finished turn or call (bounded, drops counted). One worker thread per
process prices it and hands it to the sinks in order, so pricing (tens of µs per request)
never runs on the loop.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import TYPE_CHECKING

from turnscope.guard import log_internal_error

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["RecordPipeline", "pipeline"]

logger = logging.getLogger("turnscope")

QUEUE_LIMIT = 10_000


class RecordPipeline:
    def __init__(self) -> None:
        self._queue: queue.Queue[Callable[[], None]] = queue.Queue(maxsize=QUEUE_LIMIT)
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="turnscope-records", daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[], None]) -> bool:
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1:
                logger.warning(
                    "turnscope: records are arriving faster than they can be priced; dropping"
                )
            return False
        return True

    def drain(self, timeout: float) -> bool:
        """Wait (at most ``timeout``) until every job submitted so far has run."""
        done = threading.Event()
        if not self.submit(done.set):
            return False
        return done.wait(timeout)

    def idle(self) -> bool:
        """Whether every job submitted so far has run (never waits)."""
        return self._queue.unfinished_tasks == 0

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            try:
                job()
            except Exception as error:  # a sink or pricing bug must not stop the thread
                log_internal_error(error, "delivering a record")
            finally:
                self._queue.task_done()


_pipeline: RecordPipeline | None = None
_lock = threading.Lock()


def pipeline() -> RecordPipeline:
    global _pipeline
    with _lock:
        if _pipeline is None or not _pipeline._thread.is_alive():
            _pipeline = RecordPipeline()
        return _pipeline
