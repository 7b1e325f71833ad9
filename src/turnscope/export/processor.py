"""The span queue between turnscope's tracer provider and one exporter: bounded in memory,
in time, and in what it loses without saying.

Why not the SDK's ``BatchSpanProcessor``: its ``force_flush`` ignores its timeout and blocks
until every batch is exported (opentelemetry-python #4568), its shutdown at exit joins the
export thread for up to 30 s, it drops a batch that failed at once (an outage longer than one
export timeout loses everything sent meanwhile), and nobody of ours counts what its full queue
drops. This processor:

- holds at most ``QUEUE_LIMIT`` spans; a span that does not fit is dropped, counted, logged once;
- exports batches from a daemon thread; a batch that failed for a reason worth retrying (no
  answer, a 5xx or 429 through every retry, a refused connection) stays at the head of the
  queue and is retried with backoff, so an outage that recovers loses only what overflowed;
- ``force_flush(timeout)`` returns at the timeout, whatever the backend does;
- never holds up the process's exit: the thread is a daemon; at exit it waits at most
  ``EXIT_FLUSH_TIMEOUT`` (nothing if a flush already ran out of time since the last export
  that worked), and what is still queued then is given up, counted and logged once.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import threading
import time
import weakref
from collections import deque
from typing import TYPE_CHECKING, Protocol

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExportResult

if TYPE_CHECKING:
    from collections.abc import Sequence

    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import Span

__all__ = [
    "BoundedSpanProcessor",
    "RetryingExporter",
    "a_flush_ran_out_of_time",
    "flush_ran_out_of_time",
]

logger = logging.getLogger("turnscope")

QUEUE_LIMIT = 20_000
"""Spans kept while the backend is slow or down: about 2,000 turns (memory ~ 40 MB at most)."""
BATCH_LIMIT = 512
"""Spans per export request (the SDK's default)."""
SCHEDULE_DELAY = 1.0
"""Seconds a span waits for others to share its request, unless a batch fills or a flush asks."""
RETRY_FIRST = 0.5
RETRY_MAX = 5.0
"""Seconds before a failed batch is tried again (doubling, capped); each try is itself bounded
by the exporter's timeout."""
EXIT_FLUSH_TIMEOUT = 2.0
"""Seconds the process's exit waits for queued spans (none after a flush ran out of time)."""


class RetryingExporter(Protocol):
    """A span exporter that says whether its last failure is worth a retry."""

    backend: str

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult: ...

    def retryable(self) -> bool: ...

    def refusing(self) -> bool:
        """Whether the backend refused the connection at the last try."""
        ...

    def shutdown(self) -> None: ...


class BoundedSpanProcessor(SpanProcessor):
    def __init__(self, exporter: RetryingExporter) -> None:
        self.exporter = exporter
        self.exported = 0
        """Spans the backend accepted."""
        self.dropped = 0
        """Spans that did not fit in the queue (the backend down or slower than the agent)."""
        self.failed = 0
        """Spans in batches the backend refused for good (a 4xx, a 500, a batch too large)."""
        self.given_up = 0
        """Spans still queued when the process exited or the processor shut down."""
        self._queue: deque[ReadableSpan] = deque()
        self._changed = threading.Condition()
        self._accepted = 0
        self._settled = 0
        self._generation = 0
        self._flushing = 0
        self._first_at = 0.0
        self._retry_at = 0.0
        self._failures = 0
        self._late = False
        self._stopped = False
        self._thread = threading.Thread(
            target=self._run, name=f"turnscope-export-{exporter.backend}", daemon=True
        )
        self._thread.start()
        _live.add(self)

    # -- the SDK's side ----------------------------------------------------------------------

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        if not span.context.trace_flags.sampled:
            return
        with self._changed:
            if self._stopped or len(self._queue) >= QUEUE_LIMIT:
                self.dropped += 1
                first = self.dropped == 1
            else:
                first = False
                if not self._queue:
                    self._first_at = time.monotonic()
                    self._changed.notify_all()  # the thread now has a time to wake at
                self._queue.append(span)
                self._accepted += 1
                if len(self._queue) == BATCH_LIMIT:
                    self._changed.notify_all()
        if first:
            logger.warning(
                "turnscope: the span queue for %s is full (%d spans: the backend is down or "
                "slower than the agent); spans are being dropped, and counted.",
                self.exporter.backend,
                QUEUE_LIMIT,
            )

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Wait (at most the timeout) until every span queued so far is settled."""
        deadline = time.monotonic() + timeout_millis / 1000
        with self._changed:
            target = self._accepted
            self._flushing += 1
            self._changed.notify_all()
            try:
                while self._settled < target:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        self._late = True
                        return False
                    self._changed.wait(left)
                return True
            finally:
                self._flushing -= 1

    def shutdown(self) -> None:
        """Stop without waiting: what is still queued is given up (and counted)."""
        with self._changed:
            self._stopped = True
        self.give_up()
        self.exporter.shutdown()

    # -- giving up ---------------------------------------------------------------------------

    def pending(self) -> int:
        """Spans queued and not yet settled (in flight included)."""
        with self._changed:
            return len(self._queue)

    def give_up(self) -> int:
        """Count what is still queued as lost, log it once, and let every flush return."""
        with self._changed:
            count = len(self._queue)
            self._queue.clear()
            self._settled = self._accepted
            self._generation += 1
            self.given_up += count
            first = count > 0 and self.given_up == count
            self._changed.notify_all()
        if first:
            why = (
                "the backend refused the connection: nothing listens at that host and port"
                if self.exporter.refusing()
                else "the backend did not take them in time"
            )
            logger.warning(
                "turnscope: %d spans for %s were given up undelivered (%s); they are counted, "
                "recording went on.",
                count,
                self.exporter.backend,
                why,
            )
        return count

    # -- the export thread -------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            batch, generation = self._next_batch()
            try:
                result = self.exporter.export(batch)
                retry = result is not SpanExportResult.SUCCESS and self.exporter.retryable()
            except Exception:  # an exporter bug must not stop the thread
                logger.exception("turnscope: span export to %s failed", self.exporter.backend)
                result, retry = SpanExportResult.FAILURE, False
            self._settle(batch, generation, result, retry)

    def _next_batch(self) -> tuple[list[ReadableSpan], int]:
        with self._changed:
            while True:
                now = time.monotonic()
                wait = self._wait(now)
                if wait <= 0:
                    batch = list(itertools.islice(self._queue, BATCH_LIMIT))
                    return batch, self._generation
                self._changed.wait(wait)

    def _wait(self, now: float) -> float:
        """Seconds until the next export is due (0: now); called holding the lock."""
        if not self._queue or self._stopped:
            return 3600.0
        if now < self._retry_at:
            return self._retry_at - now
        if len(self._queue) >= BATCH_LIMIT or self._flushing:
            return 0.0
        return self._first_at + SCHEDULE_DELAY - now

    def _settle(
        self,
        batch: list[ReadableSpan],
        generation: int,
        result: SpanExportResult,
        retry: bool,
    ) -> None:
        with self._changed:
            if result is SpanExportResult.SUCCESS:
                self.exported += len(batch)
                self._failures, self._retry_at, self._late = 0, 0.0, False
            if generation != self._generation:  # given up meanwhile: the queue is new
                return
            if result is not SpanExportResult.SUCCESS and retry:
                self._failures += 1
                delay = min(RETRY_MAX, RETRY_FIRST * 2 ** (self._failures - 1))
                self._retry_at = time.monotonic() + delay
                return
            if result is not SpanExportResult.SUCCESS:
                self.failed += len(batch)
            for _ in batch:
                self._queue.popleft()
            self._settled += len(batch)
            if self._queue:
                self._first_at = time.monotonic()
            self._changed.notify_all()


_live: weakref.WeakSet[BoundedSpanProcessor] = weakref.WeakSet()


_ran_out = [False]


def a_flush_ran_out_of_time() -> bool:
    """Whether a flush ran out of time in this process (then exit waits for no backend)."""
    return _ran_out[0]


def flush_ran_out_of_time() -> None:
    """A flush (``aflush``) ran out of time: what is queued now is not waited for at exit,
    unless an export works again before then."""
    _ran_out[0] = True
    for processor in list(_live):
        with processor._changed:
            if processor._queue:
                processor._late = True


@atexit.register
def _exit() -> None:
    """At exit: one short, bounded last flush for all processors; what is left is lost."""
    deadline = time.monotonic() + EXIT_FLUSH_TIMEOUT
    processors = list(_live)
    for processor in processors:
        left = deadline - time.monotonic()
        if not processor._late and left > 0:
            processor.force_flush(int(left * 1000))
    for processor in processors:
        processor.give_up()
