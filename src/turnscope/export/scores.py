"""Langfuse numeric scores: the figures people filter and sort on (per turn ``e2e`` and
``total_latency``, per session ``e2e_p95``), posted in the background, in batches through
Langfuse's ingestion API (``POST /api/public/ingestion``, ``score-create`` events).

Langfuse filters observations and traces by score (``scores.e2e:>1.5``); span attributes
land in metadata, which it filters as strings only. Scores reference the OTel trace and span
ids, so they may arrive before the spans. Each has a deterministic id: a retry overwrites,
never duplicates.
"""

from __future__ import annotations

import atexit
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
import weakref
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from turnscope.export.exporters import explain_failure

if TYPE_CHECKING:
    from turnscope.export.exporters import LangfuseSettings

__all__ = ["Score", "ScorePoster"]

logger = logging.getLogger("turnscope")

INGESTION_PATH = "/api/public/ingestion"
QUEUE_LIMIT = 10_000
BATCH_LIMIT = 100
"""Scores per request (Langfuse's ingestion API takes batches up to 3.5 MB; 100 are ~25 kB)."""
BATCH_WAIT = 0.5
"""Seconds a score waits for others to share its request."""
REQUEST_TIMEOUT = 5.0
RETRYABLE_STATUS = frozenset({408, 429, 502, 503, 504})
"""Answers worth posting the same batch again (as the OTLP exporters retry); a 500 is not."""
RETRY_FIRST = 0.5
RETRY_MAX = 5.0
"""Seconds before a batch that met no answer, a 429 or a 5xx is posted again (doubling)."""


@dataclass(frozen=True)
class Score:
    name: str
    value: float
    session_id: str
    environment: str | None = None
    trace_id: str | None = None
    observation_id: str | None = None

    def body(self) -> dict[str, Any]:
        key = f"{self.name}:{self.trace_id}:{self.observation_id}:{self.session_id}"
        body: dict[str, Any] = {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, key)),
            "name": self.name,
            "value": self.value,
            "dataType": "NUMERIC",
        }
        if self.trace_id:
            body["traceId"] = self.trace_id
            if self.observation_id:
                body["observationId"] = self.observation_id
        else:
            body["sessionId"] = self.session_id
        if self.environment:
            body["environment"] = self.environment
        return body

    def event(self) -> dict[str, Any]:
        """The score as one event of a Langfuse ingestion batch (``score-create``)."""
        body = self.body()
        return {
            "id": body["id"],
            "timestamp": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
            "type": "score-create",
            "body": body,
        }


class ScorePoster:
    """A background thread posting scores to Langfuse in batches (the ingestion API), bounded
    and counted like the spans: a batch that meets no answer, a 429 or a 5xx is kept and
    retried with backoff while the queue holds; a 413 splits the batch; a refusal (401, 403,
    404, 400) drops it. One clear log line per kind of failure."""

    def __init__(self, settings: LangfuseSettings) -> None:
        self._url = settings.base_url.rstrip("/") + INGESTION_PATH
        self._headers = {
            "Authorization": settings.headers()["Authorization"],
            "Content-Type": "application/json",
        }
        self._queue: queue.Queue[Score] = queue.Queue(maxsize=QUEUE_LIMIT)
        self.posted = 0
        """Scores Langfuse accepted."""
        self.failed = 0
        """Scores Langfuse refused for good (each kind of refusal logged once)."""
        self.dropped = 0
        """Scores that did not fit in the queue (Langfuse down or slower than the agent)."""
        self.given_up = 0
        """Scores still queued when the process exited, or when ``give_up`` was called."""
        self.refusing = False
        """The last post's connection was refused (nothing listens at the Langfuse host's
        port); cleared by any answer."""
        self._stopped = False
        self._stop_lock = threading.Lock()
        self._wake = threading.Event()
        self._batch_limit = BATCH_LIMIT
        self._thread = threading.Thread(target=self._run, name="turnscope-scores", daemon=True)
        self._thread.start()
        _live.add(self)

    def put(self, score: Score) -> None:
        with self._stop_lock:
            if self._stopped:
                self.given_up += 1
                return
        try:
            self._queue.put_nowait(score)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1:
                logger.warning(
                    "turnscope: the Langfuse score queue is full (%d: Langfuse is down or "
                    "slower than the agent); scores are being dropped, and counted.",
                    QUEUE_LIMIT,
                )

    def flush(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.pending() and time.monotonic() < deadline:
            time.sleep(0.005)
        return self.pending() == 0

    def pending(self) -> int:
        """Scores not yet posted nor given up."""
        return 0 if self._stopped else self._queue.unfinished_tasks

    def give_up(self) -> int:
        """Stop posting: every score queued or waiting for a retry is given up now (counted,
        logged once, returned), and so is any put later. For a process about to exit whose
        Langfuse refuses the connection; never waits. (A post answered in this very moment
        is counted as given up, not as posted: never both.)"""
        with self._stop_lock:
            count = self.pending()
            self._stopped = True
            self.given_up += count
        self._wake.set()  # a retry's wait ends now; the thread then drops what it holds
        if count:
            why = "Langfuse refused the connection" if self.refusing else "stopped"
            logger.warning(
                "turnscope: %d Langfuse scores were given up undelivered (%s).", count, why
            )
        return count

    def _run(self) -> None:
        while True:
            batch = self._gather()
            try:
                self._deliver(batch)
            except Exception:  # a bug here must not stop the thread
                logger.exception("turnscope: could not post scores to Langfuse")
                self.failed += len(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _gather(self) -> list[Score]:
        batch = [self._queue.get()]
        deadline = time.monotonic() + BATCH_WAIT
        while len(batch) < self._batch_limit:
            try:
                batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        return batch

    def _deliver(self, batch: list[Score]) -> None:
        """Post ``batch``, retrying what is worth it; split it when it is too large."""
        delay = RETRY_FIRST
        while not self._stopped:
            outcome = self._post(batch)
            if outcome == "retry":
                self._wake.wait(delay)
                delay = min(delay * 2, RETRY_MAX)
                continue
            if outcome == "too large" and len(batch) > 1:
                self._batch_limit = max(1, len(batch) // 2)
                half = len(batch) // 2
                self._deliver(batch[:half])
                self._deliver(batch[half:])
            elif outcome == "too large" and not self._stopped:
                self.failed += 1
            return

    def _post(self, batch: list[Score]) -> str:
        """One request: "done", "retry" or "too large" (counted and explained here)."""
        data = json.dumps({"batch": [score.event() for score in batch]}).encode()
        request = urllib.request.Request(self._url, data=data, headers=self._headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
                answer = response.read()
        except urllib.error.HTTPError as error:
            self.refusing = False
            code = error.code
            if code in RETRYABLE_STATUS:
                explain_failure(SCORES, self._url, "retries", f"HTTP {code} ({error.reason})")
                return "retry"
            explain_failure(SCORES, self._url, str(code), str(error))
            if code == 413:
                return "too large"
            if not self._stopped:  # else given up meanwhile, and counted so
                self.failed += len(batch)
            return "done"
        except (OSError, ValueError) as error:
            reason = getattr(error, "reason", error)  # urllib wraps the socket's error
            kind = "refused" if isinstance(reason, ConnectionRefusedError) else "timeout"
            self.refusing = kind == "refused"
            explain_failure(SCORES, self._url, kind, str(error))
            return "retry"
        self.refusing = False
        if self._stopped:  # given up meanwhile, and counted so
            return "done"
        refused = _refused(answer)
        self.failed += refused
        self.posted += len(batch) - refused
        return "done"


SCORES = "Langfuse scores"
"""The export named in failure lines (issue 20: warnings say which export failed)."""


def _refused(answer: bytes) -> int:
    """How many events a 207 answer lists as errors."""
    try:
        errors = json.loads(answer or b"{}").get("errors", [])
    except (ValueError, AttributeError):
        return 0
    return len(errors) if isinstance(errors, list) else 0


_live: weakref.WeakSet[ScorePoster] = weakref.WeakSet()


@atexit.register
def _exit() -> None:
    """At exit nothing is waited for (the spans' last flush already was): what is still
    queued is given up, counted and logged once."""
    total = 0
    for poster in list(_live):
        left = poster.pending()
        poster.given_up += left
        total += left
    if total:
        logger.warning("turnscope: %d Langfuse scores were given up undelivered at exit.", total)
