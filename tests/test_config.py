"""Every setting is declared once and validated once: a bad value is named, with the value
used instead, once at ``instrument()`` and as an error line in ``turnscope doctor``."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner
from livekit.agents import AgentSession

import turnscope
from turnscope.cli import main
from turnscope.config import SETTINGS, current_settings

if TYPE_CHECKING:
    from pathlib import Path

BAD_VALUES = [
    # (variable, bad value, the value used as the warning says it)
    ("TURNSCOPE_TRACE_PER", "banana", "using turn"),
    ("TURNSCOPE_CAPTURE_CONTENT", "flase", "using false (content capture off"),
    ("TURNSCOPE_DB_MAX_MB", "abc", "using 500"),
    ("TURNSCOPE_EMF_DIMENSIONS", "Agent,CallId", "using Agent"),
    # siblings of our own design
    ("TURNSCOPE_DB_MAX_MB", "-5", "using 500"),
    ("TURNSCOPE_CAPTURE_CONTENT", "maybe", "using false (content capture off"),
    ("LANGFUSE_TRACING_ENVIRONMENT", "Production", "using none"),
    ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "using http/protobuf"),
    ("LANGFUSE_BASE_URL", "ftp://langfuse.internal", "using none (Langfuse export off)"),
]


def _instrument_twice() -> None:
    async def scenario() -> None:
        turnscope.instrument(AgentSession())
        turnscope.instrument(AgentSession())

    asyncio.run(scenario())


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "turnscope"]


@pytest.mark.parametrize(("variable", "value", "used"), BAD_VALUES)
def test_a_bad_value_is_named_once_at_instrument_with_the_value_used(
    variable: str,
    value: str,
    used: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(variable, value)
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        _instrument_twice()  # two sessions of one process: still one line
    named = [line for line in _warnings(caplog) if f"{variable}={value!r}" in line]
    assert len(named) == 1, _warnings(caplog)
    assert used in named[0]


@pytest.mark.parametrize(("variable", "value", "used"), BAD_VALUES)
def test_doctor_shows_a_bad_value_as_an_error(
    variable: str, value: str, used: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 1
    assert f"[!!] {variable}={value!r} is not" in result.output
    assert used in result.output


def test_a_prices_file_that_does_not_parse_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "prices.toml"
    broken.write_text("[[llm]\nprovider = 'x'\n")
    monkeypatch.setenv("TURNSCOPE_PRICES", str(broken))
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        _instrument_twice()
    named = [line for line in _warnings(caplog) if "TURNSCOPE_PRICES=" in line]
    assert len(named) == 1
    assert "not valid TOML" in named[0]
    assert "the packaged prices only" in named[0]
    assert current_settings().prices is None


def test_an_unreadable_privacy_switch_keeps_content_out_of_the_store(
    private_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import QUICK_SPEED
    from turnscope import simulate
    from turnscope.store import open_for_reading

    monkeypatch.setenv("TURNSCOPE_CAPTURE_CONTENT", "flase")
    handles: list[turnscope.Instrumentation] = []

    async def scenario() -> None:
        await simulate.run(
            "basic", speed=QUICK_SPEED, on_session=lambda s: handles.append(turnscope.instrument(s))
        )
        assert await handles[0].aflush(timeout=10)

    asyncio.run(scenario())
    rows = open_for_reading(private_store).execute("SELECT user_text, agent_text FROM turns")
    texts = rows.fetchall()
    assert texts  # the turns were recorded ...
    assert all(user is None and agent is None for user, agent in texts)  # ... without content


def test_configure_reads_a_number_given_as_text_and_names_one_that_is_not(
    caplog: pytest.LogCaptureFixture,
) -> None:
    turnscope.configure(db_max_mb="100")
    assert current_settings().db_max_mb == 100.0
    assert current_settings().origins["db_max_mb"] == "argument"
    with caplog.at_level(logging.WARNING, logger="turnscope"):
        turnscope.configure(db_max_mb="abc")
    assert current_settings().db_max_mb == 500.0
    assert _warnings(caplog) == [
        "turnscope: configure(db_max_mb=…)='abc' is not a number of megabytes; using 500"
    ]


def test_configure_overrides_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TURNSCOPE_TRACE_PER", "call")
    monkeypatch.setenv("TURNSCOPE_RELEASE", "1.2.3")
    turnscope.configure(trace_per="turn", environment="staging")
    settings = current_settings()
    assert (settings.trace_per, settings.origins["trace_per"]) == ("turn", "argument")
    assert (settings.release, settings.origins["release"]) == ("1.2.3", "TURNSCOPE_RELEASE")
    assert settings.environment == "staging"


def test_configure_takes_exactly_the_settings_the_table_marks_as_arguments() -> None:
    import inspect

    from tests.docs.markdown import DOCS

    arguments = set(inspect.signature(turnscope.configure).parameters)
    assert arguments == {s.name for s in SETTINGS if s.argument}
    page = (DOCS / "configuration.md").read_text()
    table = page.split("## `turnscope.configure(...)`", 1)[1].split("\n## ", 1)[0]
    for setting in SETTINGS:
        if setting.argument:
            assert f"| `{setting.name}` | `{setting.env[0]}` |" in table


def test_every_setting_has_a_docstring_and_a_default_the_caster_accepts() -> None:
    for setting in SETTINGS:
        assert setting.doc
        assert setting.env
        if setting.default is not None and not setting.secret:
            raw = (
                setting.default
                if not isinstance(setting.default, tuple)
                else ",".join(setting.default)
            )
            assert setting.cast(raw) == setting.default, setting.name
