"""Langfuse numeric scores: the figures people filter and sort on (per turn ``e2e`` and
``total_latency``, per session ``e2e_p95``), posted in the background.

Langfuse filters observations and traces by score (``scores.e2e:>1.5``); span attributes
land in metadata, which it filters as strings only. Scores reference the OTel trace and span
ids, so they may arrive before the spans. Each has a deterministic id: a retry overwrites,
never duplicates.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from turnscope.export.exporters import explain_failure

if TYPE_CHECKING:
    from turnscope.export.exporters import LangfuseSettings

__all__ = ["Score", "ScorePoster"]

logger = logging.getLogger("turnscope")

SCORES_PATH = "/api/public/scores"
QUEUE_LIMIT = 10_000
REQUEST_TIMEOUT = 5.0


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


class ScorePoster:
    """A background thread posting scores to Langfuse, one clear log line if it fails."""

    def __init__(self, settings: LangfuseSettings) -> None:
        self._url = settings.base_url.rstrip("/") + SCORES_PATH
        self._headers = {
            "Authorization": settings.headers()["Authorization"],
            "Content-Type": "application/json",
        }
        self._queue: queue.Queue[Score] = queue.Queue(maxsize=QUEUE_LIMIT)
        self.posted = 0
        self.failed = 0
        self._thread = threading.Thread(target=self._run, name="turnscope-scores", daemon=True)
        self._thread.start()

    def put(self, score: Score) -> None:
        try:
            self._queue.put_nowait(score)
        except queue.Full:
            self.failed += 1

    def flush(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.005)
        return self._queue.unfinished_tasks == 0

    def _run(self) -> None:
        while True:
            score = self._queue.get()
            try:
                self._post(score)
            finally:
                self._queue.task_done()

    def _post(self, score: Score) -> None:
        data = json.dumps(score.body()).encode()
        request = urllib.request.Request(self._url, data=data, headers=self._headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
                response.read()
            self.posted += 1
        except urllib.error.HTTPError as error:
            self.failed += 1
            explain_failure("Langfuse scores", self._url, str(error.code), str(error))
        except (OSError, ValueError) as error:
            self.failed += 1
            explain_failure("Langfuse scores", self._url, "timeout", str(error))
