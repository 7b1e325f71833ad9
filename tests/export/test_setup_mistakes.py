"""The set-up mistakes users make, recognised by `turnscope doctor` and handled at run time:
a Langfuse URL with the OTLP path in it or without a scheme, swapped keys, quotes in a key,
an OTLP endpoint that would double-send to Langfuse, metrics aimed at Langfuse, and
credentials in a URL. Everything against the loopback receiver."""

from __future__ import annotations

import base64
import logging
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from tests.export.conftest import PUBLIC, SECRET, close_meter_providers, replay_call
from tests.otlp_receiver import OTLPReceiver
from turnscope.cli import main
from turnscope.config import current_settings, mask
from turnscope.export.metrics import shared_meter_provider

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.conftest import RecordedCall, SimulationCache

LONG_PUBLIC = "pk-lf-EXAMPLE-PUBLIC-KEY-OF-FULL-LENGTH-1e4f"
LONG_SECRET = "sk-lf-EXAMPLE-SECRET-KEY-OF-FULL-LENGTH-0a3c"


@pytest.fixture
def receiver() -> Iterator[OTLPReceiver]:
    started = OTLPReceiver().start()
    yield started
    started.stop()


@pytest.fixture
def call(simulations: SimulationCache) -> RecordedCall:
    """A call's records, replayed into the sinks each set-up builds: what is checked at run
    time here is where and how they are sent, which never depends on the live session."""
    return simulations.recorded("basic")


def doctor(monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[int, str]:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(main, ["doctor"])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output


def basic_auth(public: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{public}:{secret}".encode()).decode()


@pytest.mark.parametrize(
    "suffix", ["/api/public/otel", "/api/public/otel/v1/traces/", "/v1/traces"]
)
def test_a_base_url_with_the_otlp_path_says_what_to_remove_and_works(
    receiver: OTLPReceiver, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    code, output = doctor(
        monkeypatch,
        LANGFUSE_PUBLIC_KEY=PUBLIC,
        LANGFUSE_SECRET_KEY=SECRET,
        LANGFUSE_BASE_URL=receiver.url + suffix,
    )
    removed = suffix.rstrip("/")
    assert f"[!!] LANGFUSE_BASE_URL='{receiver.url}{suffix}' ends in {removed}: " in output
    assert f"remove '{removed}'" in output
    assert "[ok] Langfuse accepted" in output
    assert [r.path for r in receiver.requests] == ["/api/public/otel/v1/traces"]
    assert code == 1  # the set-up still has a mistake to fix


def test_at_run_time_the_path_is_stripped_with_one_note(
    receiver: OTLPReceiver, call: RecordedCall, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        exported = replay_call(
            receiver, call, env={"LANGFUSE_BASE_URL": receiver.url + "/api/public/otel"}
        )
    assert exported.flushed
    assert exported.spans()
    assert {r.path for r in receiver.requests} == {"/api/public/otel/v1/traces"}
    assert receiver.scores  # the scores' URL is stripped the same way
    notes = [r.getMessage() for r in caplog.records if "LANGFUSE_BASE_URL" in r.getMessage()]
    assert len(notes) == 1
    assert "remove '/api/public/otel'" in notes[0]


def test_a_base_url_without_a_scheme_gets_https_and_never_a_traceback(
    receiver: OTLPReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = receiver.url.removeprefix("http://")
    code, output = doctor(
        monkeypatch, LANGFUSE_PUBLIC_KEY=PUBLIC, LANGFUSE_SECRET_KEY=SECRET, LANGFUSE_BASE_URL=host
    )
    assert f"[!!] LANGFUSE_BASE_URL='{host}' has no scheme, so https:// is assumed" in output
    assert f"Langfuse traces: https://{host}/api/public/otel/v1/traces" in output
    assert "[!!] Langfuse cannot reach" in output  # the receiver speaks plain http
    assert code == 1


def test_at_run_time_a_base_url_without_a_scheme_kills_no_thread(
    receiver: OTLPReceiver, call: RecordedCall, caplog: pytest.LogCaptureFixture
) -> None:
    from opentelemetry.sdk.trace import TracerProvider as SDKTracerProvider

    from turnscope.export.spans import SpanSink

    host = receiver.url.removeprefix("http://")
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        exported = replay_call(
            receiver,
            call,
            env={"LANGFUSE_BASE_URL": host, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "1"},
            flush_timeout=3,
        )
    (sink,) = [s for s in exported.handle._sinks if isinstance(s, SpanSink)]
    assert sink.scores is not None
    assert sink.scores._thread.is_alive()
    assert sink._thread.is_alive()
    lines = [r.getMessage() for r in caplog.records if r.name == "turnscope"]
    assert any("https:// is assumed" in line for line in lines)
    assert all("Traceback" not in line for line in lines)
    # This exporter would go on retrying https at a plain-HTTP port for the rest of the run,
    # and one of its TLS sockets was seen reaching the garbage collector during a later test
    # (a ResourceWarning, an error here): stop it with its test.
    assert isinstance(sink.provider, SDKTracerProvider)
    sink.provider.shutdown()


def test_swapped_keys_are_named_masked_and_used_the_right_way_round(
    receiver: OTLPReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = doctor(
        monkeypatch,
        LANGFUSE_PUBLIC_KEY=LONG_SECRET,
        LANGFUSE_SECRET_KEY=LONG_PUBLIC,
        LANGFUSE_BASE_URL=receiver.url,
    )
    assert "the two are swapped; using them the right way round" in output
    assert LONG_SECRET not in output
    assert LONG_SECRET[6:-4] not in output
    assert f"public key {mask(LONG_PUBLIC)}, secret key {mask(LONG_SECRET)}" in output
    assert mask(LONG_SECRET) == "sk-lf-…0a3c"  # the fixed prefix and four characters, no more
    (request,) = receiver.requests
    assert request.headers["authorization"] == basic_auth(LONG_PUBLIC, LONG_SECRET)
    assert code == 1


def test_a_short_key_shows_only_its_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    assert mask("sk-lf-1234") == "sk-lf-…"
    assert mask("hunter2") == "****"
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", "sk-lf-abc")
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", "sk-lf-abcdef")
    messages = " ".join(p.message for p in current_settings().problems)
    assert "LANGFUSE_PUBLIC_KEY holds the wrong kind of key" in messages
    assert "abc" not in messages


@pytest.mark.parametrize(
    ("raw", "fixed"),
    [(f'"{SECRET}"', True), (f"{SECRET} ", True), (f"'{SECRET}'\n", True), ("sk-lf-a b", False)],
)
def test_quotes_or_spaces_in_a_key(
    receiver: OTLPReceiver, monkeypatch: pytest.MonkeyPatch, raw: str, fixed: bool
) -> None:
    code, output = doctor(
        monkeypatch,
        LANGFUSE_PUBLIC_KEY=PUBLIC,
        LANGFUSE_SECRET_KEY=raw,
        LANGFUSE_BASE_URL=receiver.url,
    )
    assert code == 1
    if fixed:
        assert "has quotes or spaces around it; they are not part of the key" in output
        (request,) = receiver.requests
        assert request.headers["authorization"] == basic_auth(PUBLIC, SECRET)
    else:
        assert "is not a key: it has a space inside; using none (Langfuse export off)" in output
        assert "Langfuse: off (both keys and a usable LANGFUSE_BASE_URL are needed)" in output
        assert receiver.requests == []


def test_an_otlp_endpoint_at_the_same_langfuse_is_warned_and_sent_once(
    receiver: OTLPReceiver,
    call: RecordedCall,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    endpoint = receiver.url + "/api/public/otel"
    code, output = doctor(
        monkeypatch,
        LANGFUSE_PUBLIC_KEY=PUBLIC,
        LANGFUSE_SECRET_KEY=SECRET,
        LANGFUSE_BASE_URL=receiver.url,
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
    )
    assert code == 1
    assert f"[!!] OTEL_EXPORTER_OTLP_ENDPOINT='{endpoint}' points at Langfuse" in output
    assert "every trace would arrive twice; sending each once, to Langfuse" in output
    receiver.requests.clear()
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        exported = replay_call(receiver, call, env={"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint})
    ids = [s.span_id for s in exported.spans()]
    assert ids
    assert len(ids) == len(set(ids))  # every span once
    warned = [r.getMessage() for r in caplog.records if "arrive twice" in r.getMessage()]
    assert len(warned) == 1


def test_metrics_are_never_aimed_at_langfuse(
    receiver: OTLPReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hand-written Langfuse set-up (OTLP variables, no turnscope keys): traces go, metrics
    would be refused, so they are not sent."""
    endpoint = receiver.url + "/api/public/otel"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    assert shared_meter_provider() is None
    code, output = doctor(monkeypatch)
    assert "OTLP metrics: not sent (the endpoint is Langfuse, which accepts traces only)" in output
    assert "points at Langfuse, which accepts traces only: metrics are not sent there" in output
    assert code == 1
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)  # a collector: metrics go
    assert shared_meter_provider() is not None
    close_meter_providers()


def test_credentials_in_a_url_are_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = OTLPReceiver(status=500).start()
    try:
        port = broken.url.rsplit(":", 1)[1]
        endpoint = f"http://collector-user:hunter2-secret@127.0.0.1:{port}"
        code, output = doctor(monkeypatch, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint)
        assert code == 1
        assert "hunter2" not in output
        assert f"OTLP traces: http://***@127.0.0.1:{port}/v1/traces" in output
    finally:
        broken.stop()


def test_credentials_in_a_url_stay_out_of_run_time_warnings(
    call: RecordedCall, caplog: pytest.LogCaptureFixture
) -> None:
    broken = OTLPReceiver(status=500).start()
    try:
        port = broken.url.rsplit(":", 1)[1]
        endpoint = f"http://collector-user:hunter2-secret@127.0.0.1:{port}"
        with caplog.at_level(logging.WARNING):
            replay_call(
                broken,
                call,
                env={
                    "LANGFUSE_PUBLIC_KEY": "",
                    "LANGFUSE_SECRET_KEY": "",
                    "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
                },
                flush_timeout=5,
            )
            close_meter_providers()
    finally:
        broken.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "turnscope"]
    assert any(f"OTLP traces export to http://***@127.0.0.1:{port}/v1/traces" in x for x in lines)
    assert "hunter2" not in caplog.text


@pytest.mark.parametrize(
    ("env", "line"),
    [
        # the newcomer's input: the host set, the keys forgotten
        (
            {"LANGFUSE_BASE_URL": "{url}"},
            "LANGFUSE_BASE_URL is set ({url}) but LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY "
            "are not: nothing is sent to Langfuse (set both keys)",
        ),
        # siblings: the other name of the host; one key without the other
        (
            {"LANGFUSE_HOST": "{url}"},
            "LANGFUSE_HOST is set ({url}) but LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are "
            "not: nothing is sent to Langfuse (set both keys)",
        ),
        (
            {"LANGFUSE_BASE_URL": "{url}", "LANGFUSE_PUBLIC_KEY": PUBLIC},
            "LANGFUSE_PUBLIC_KEY is set but LANGFUSE_SECRET_KEY is not: nothing is sent to "
            "Langfuse (set both)",
        ),
        (
            {"LANGFUSE_SECRET_KEY": LONG_SECRET},
            "LANGFUSE_SECRET_KEY is set but LANGFUSE_PUBLIC_KEY is not: nothing is sent to "
            "Langfuse (set both)",
        ),
    ],
    ids=["base-url-only", "host-only", "public-key-only", "secret-key-only"],
)
def test_langfuse_set_up_by_halves_says_nothing_goes_there(
    receiver: OTLPReceiver,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    env: dict[str, str],
    line: str,
) -> None:
    """Without both keys nothing reaches Langfuse: said in one line by the agent's start
    (instrument) and by doctor, never silently — the secret never shown."""
    env = {k: v.format(url=receiver.url) for k, v in env.items()}
    line = line.format(url=receiver.url)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        _instrument_a_session()
    said = [r.getMessage() for r in caplog.records if r.name == "turnscope"]
    assert said.count(f"turnscope: {line}") == 1, said
    code, output = doctor(monkeypatch)
    assert f"  [!!] {line}" in output
    assert code == 1
    assert LONG_SECRET not in output + " ".join(said)
    assert receiver.requests == []  # and indeed nothing went there


def test_both_keys_or_none_at_all_say_nothing_of_halves(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lines above are for halves only: a whole set-up, or no Langfuse at all (the
    default host unset), gets none of them."""
    assert not [p for p in current_settings().problems if "nothing is sent" in p.message]
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", PUBLIC)
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", SECRET)
    assert not [p for p in current_settings().problems if "nothing is sent" in p.message]


def _instrument_a_session() -> None:
    import asyncio

    from livekit.agents import AgentSession

    import turnscope

    async def start() -> None:
        turnscope.instrument(AgentSession()).detach()

    asyncio.run(start())
