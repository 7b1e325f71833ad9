"""Langfuse scores under faults, against the loopback receiver: batched, retried like the
spans, bounded, and counted — never fire-and-forget."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import pytest

from tests.export.conftest import PUBLIC, SECRET
from tests.otlp_receiver import OTLPReceiver
from turnscope.export import scores as score_module
from turnscope.export.exporters import LangfuseSettings
from turnscope.export.scores import Score, ScorePoster

if TYPE_CHECKING:
    from collections.abc import Iterator

SCORES = 61


@pytest.fixture
def receiver() -> Iterator[OTLPReceiver]:
    started = OTLPReceiver().start()
    yield started
    started.stop()


def _post_all(receiver: OTLPReceiver, count: int = SCORES) -> ScorePoster:
    poster = ScorePoster(LangfuseSettings(PUBLIC, SECRET, receiver.url))
    for n in range(count):
        poster.put(Score("e2e", 0.5 + n / 100, "room-42", trace_id=f"{n:032x}"))
    return poster


def _delivered(receiver: OTLPReceiver) -> list[float]:
    return sorted(body["value"] for _, body in receiver.scores)


def test_scores_go_in_batches_to_the_ingestion_api(receiver: OTLPReceiver) -> None:
    receiver.delay = 1.0  # a slow backend: one request per score would take a minute
    poster = _post_all(receiver)
    assert poster.flush(30)
    assert len(_delivered(receiver)) == SCORES
    assert len(receiver.score_requests) <= 2
    assert (poster.posted, poster.failed, poster.dropped) == (SCORES, 0, 0)
    (headers, body) = receiver.scores[0]
    assert headers["authorization"].startswith("Basic ")
    assert body["dataType"] == "NUMERIC"


def test_503s_are_retried_until_the_backend_recovers(
    receiver: OTLPReceiver, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(score_module, "RETRY_FIRST", 0.05)
    receiver.status = 503
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        poster = _post_all(receiver)
        while len(receiver.score_requests) < 3:  # three 503s
            assert poster.flush(0.05) is False
        receiver.status = 200
        assert poster.flush(30)
    assert len(_delivered(receiver)) == SCORES
    assert (poster.posted, poster.failed) == (SCORES, 0)
    (line,) = _lines_about(receiver, caplog)
    assert "HTTP 503" in line
    assert "retried" in line


def test_a_413_splits_the_batch_and_names_the_fix(
    receiver: OTLPReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.max_batch = 10  # a proxy in front of Langfuse with a small body limit
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        poster = _post_all(receiver)
        assert poster.flush(30)
    assert len(_delivered(receiver)) == SCORES
    assert (poster.posted, poster.failed) == (SCORES, 0)
    (line,) = _lines_about(receiver, caplog)
    assert "HTTP 413" in line
    assert "client_max_body_size" in line


def test_refused_keys_drop_the_batch_and_count_it(
    receiver: OTLPReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.status = 401
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        poster = _post_all(receiver, 5)
        assert poster.flush(10)
    assert (poster.posted, poster.failed) == (0, 5)
    (line,) = _lines_about(receiver, caplog)
    assert "LANGFUSE_PUBLIC_KEY" in line
    assert SECRET not in line


def test_a_black_holed_backend_costs_a_flush_no_more_than_its_timeout(
    receiver: OTLPReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(score_module, "QUEUE_LIMIT", 10)
    receiver.black_hole = True
    poster = _post_all(receiver, 30)
    assert not poster.flush(0.5)
    assert poster.dropped > 0  # what did not fit is counted
    assert poster.pending() + poster.dropped == 30


def test_a_backend_refusing_the_connection_is_named_so_and_retried(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing listening at the Langfuse host's port: "connection refused", and the scores
    wait to be retried (the backend may start), not "no answer in time"."""
    from tests.export.test_export_faults import _closed_port

    monkeypatch.setattr(score_module, "RETRY_FIRST", 0.05)
    url = f"http://127.0.0.1:{_closed_port()}"
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        poster = ScorePoster(LangfuseSettings(PUBLIC, SECRET, url))
        poster.put(Score("e2e", 0.5, "room-42", trace_id=f"{1:032x}"))
        deadline = time.monotonic() + 30  # the first post waits for its batch to fill
        while url not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not poster.flush(0.2)
    (line,) = [r.getMessage() for r in caplog.records if url in r.getMessage()]
    assert "connection refused: nothing listens at that host and port" in line
    assert "no answer in time" not in line
    assert poster.pending() == 1  # kept for a retry, not dropped
    assert poster.failed == 0


def _lines_about(receiver: OTLPReceiver, caplog: pytest.LogCaptureFixture) -> list[str]:
    """turnscope's lines about this test's receiver: a poster left by an earlier test may
    still be retrying its own (stopped) receiver in the background, and say so."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "turnscope" and receiver.url in r.getMessage()
    ]


def test_giving_up_on_a_refusing_langfuse_counts_each_score_once_and_stops(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``turnscope demo`` does once Langfuse is known to refuse the connection: every
    score queued or waiting for a retry is given up at once — counted once (never again at
    exit), said with its cause — and a flush no longer waits for them."""
    from tests.export.test_export_faults import _closed_port

    monkeypatch.setattr(score_module, "RETRY_FIRST", 5.0)  # a retry's wait is cut short too
    url = f"http://127.0.0.1:{_closed_port()}"
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        poster = ScorePoster(LangfuseSettings(PUBLIC, SECRET, url))
        for n in range(3):
            poster.put(Score("e2e", 0.5, "room-42", trace_id=f"{n:032x}"))
        deadline = time.monotonic() + 30  # the first post waits for its batch to fill
        while not poster.refusing and time.monotonic() < deadline:
            time.sleep(0.02)
        assert poster.refusing
        poster.put(Score("e2e", 0.7, "room-42", trace_id=f"{9:032x}"))  # queued behind
        assert poster.give_up() == 4
        poster.put(Score("e2e", 0.9, "room-42", trace_id=f"{10:032x}"))  # after: not queued
        assert poster.flush(0.0)
    # pending() is what the process's exit gives up and counts: nothing is left for it
    assert (poster.given_up, poster.pending(), poster.posted, poster.failed) == (5, 0, 0, 0)
    said = [r.getMessage() for r in caplog.records if "given up" in r.getMessage()]
    assert said == [
        "turnscope: 4 Langfuse scores were given up undelivered (Langfuse refused the connection)."
    ]


def test_a_score_backend_that_answers_is_never_called_refusing(receiver: OTLPReceiver) -> None:
    """The sibling: an answer of any kind (here a 503) is not a refusal."""
    receiver.status = 503
    poster = _post_all(receiver, 1)
    deadline = time.monotonic() + 30
    while not receiver.score_requests and time.monotonic() < deadline:
        time.sleep(0.02)
    assert receiver.score_requests
    assert not poster.refusing
    assert poster.give_up() == 1
