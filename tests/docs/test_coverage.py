"""Everything a user can call, type or set is documented: derived from the code, so a new
public name, CLI option, environment variable or span attribute fails here until it is."""

from __future__ import annotations

import re

import click

import turnscope
import turnscope.export.semconv as semconv
import turnscope.simulate
import turnscope.testing
from tests.docs.markdown import DOCS, ROOT, docs_text
from turnscope.cli import main

_ENV_READ = re.compile(r"\"((?:TURNSCOPE|LANGFUSE|OTEL)_[A-Z0-9_]*[A-Z0-9])\"")


def _undocumented(names: list[str], text: str) -> list[str]:
    return [name for name in names if not re.search(rf"(?<![\w.]){re.escape(name)}\b", text)]


def test_every_public_name_is_documented() -> None:
    names = [
        *turnscope.__all__,
        *turnscope.testing.__all__,
        *turnscope.simulate.__all__,
        *(m for m in vars(turnscope.Instrumentation) if not m.startswith("_")),
    ]
    assert len(names) > 20
    assert _undocumented(names, docs_text()) == []


def test_every_cli_command_and_option_is_in_its_section_of_the_cli_page() -> None:
    page = (DOCS / "cli.md").read_text()
    sections = dict(re.findall(r"^## turnscope (\w+)\n(.*?)(?=^## |\Z)", page, flags=re.M | re.S))
    assert isinstance(main, click.Group)
    context = click.Context(main)
    commands = {name: main.get_command(context, name) for name in main.list_commands(context)}
    assert sorted(sections) == sorted(commands)
    missing = [
        f"{name} {option}"
        for name, command in commands.items()
        if command is not None
        for param in command.params
        for option in param.opts
        if option.startswith("--") and f"`{option}" not in sections[name]
    ]
    assert missing == []


def test_every_environment_variable_turnscope_reads_is_on_the_configuration_page() -> None:
    read = sorted(
        {
            name
            for path in (ROOT / "src").rglob("*.py")
            for name in _ENV_READ.findall(path.read_text())
        }
    )
    assert "TURNSCOPE_DB" in read
    assert "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT" in read
    page = (DOCS / "configuration.md").read_text()
    assert [name for name in read if f"`{name}`" not in page] == []


def test_every_span_attribute_is_on_the_spans_page() -> None:
    names = sorted(
        {
            value
            for key, value in vars(semconv).items()
            if key.isupper() and isinstance(value, str) and "." in value
        }
    )
    assert len(names) > 90
    assert _undocumented(names, (DOCS / "spans.md").read_text()) == []
