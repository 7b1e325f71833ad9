"""`turnscope prices`: the catalog as a user reads it, and --check against a real store."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from tests.conftest import store_call
from turnscope.cli import main
from turnscope.pricing import load_catalog
from turnscope.simulate import Stack
from turnscope.sinks.memory import MemorySink

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache

UNSOURCED = Stack(
    stt=("Deepgram", "nova-2"),  # no 2026 price from any source
    llm=("livekit", "acme/imaginary-llm"),
    tts=("Inworld", "inworld-tts-1-max"),  # deprecated, no price found
)


def test_the_listing_names_every_price_its_unit_source_and_date() -> None:
    result = CliRunner().invoke(main, ["prices"])
    assert result.exit_code == 0, result.output
    for price in load_catalog().entries():
        assert f"{price.provider:<10} {price.model}" in result.output
        assert price.source in result.output
    assert "$0.0048 / minute of audio · streaming, rounded up to 1s per request" in result.output
    assert "1 credit / character at $0.00005 a credit" in result.output
    assert "$0.15 / hour of connection time" in result.output
    assert re.search(r"\d+ prices, \d+ secondary", result.output)


def test_the_json_listing_has_a_schema_version_and_every_field() -> None:
    result = CliRunner().invoke(main, ["prices", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["schema_version"] == 1
    entries = data["stt_tts"]
    assert len(entries) == len(load_catalog().entries())
    (nova,) = [e for e in entries if e["model"] == "nova-3" and e["mode"] == "streaming"]
    assert nova["usd"] == 0.0048
    assert nova["unit"] == "minute"
    assert nova["usd_per_second"] == pytest.approx(0.0048 / 60)
    assert nova["secondary"] is True
    assert "open-gauntlet" in nova["secondary_source"]
    assert nova["as_of"] == "2026-12-06"
    assert nova["increment"] == 1


@pytest.fixture(scope="module")
def unsourced_store(simulations: SimulationCache, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("unpriced") / "store.db"
    store_call(path, simulations.recorded("basic", stack=UNSOURCED))
    return path


def test_check_names_each_unpriced_model_with_the_entry_to_add(unsourced_store: Path) -> None:
    result = CliRunner().invoke(main, ["prices", "--check", "--db", str(unsourced_store)])
    assert result.exit_code == 1, result.output
    assert "3 model(s) in 1 recorded call(s) have no price" in result.output
    assert "stt      Deepgram/nova-2" in result.output
    assert "tts      Inworld/inworld-tts-1-max" in result.output
    assert "llm      livekit/acme/imaginary-llm" in result.output
    assert '[[stt]]\nprovider = "Deepgram"\nmodel = "nova-2"\nunit = "minute"' in result.output
    assert '[[llm]]\nprovider = "livekit"\nmodel = "acme/imaginary-llm"' in result.output


def test_the_snippets_filled_in_make_the_check_pass(unsourced_store: Path, tmp_path: Path) -> None:
    listed = CliRunner().invoke(main, ["prices", "--check", "--json", "--db", str(unsourced_store)])
    data = json.loads(listed.output)
    assert data["schema_version"] == 1
    filled = "\n".join(m["snippet"].replace("= 0.0", "= 1.5") for m in data["unpriced"])
    prices = tmp_path / "prices.toml"
    prices.write_text(filled)
    result = CliRunner().invoke(
        main, ["prices", "--check", "--db", str(unsourced_store), "--prices", str(prices)]
    )
    assert result.exit_code == 0, result.output
    assert "every model of the 1 recorded call(s) is priced" in result.output


def test_check_on_an_empty_store_says_so(tmp_path: Path) -> None:
    from turnscope.store import open_for_writing

    path = tmp_path / "empty.db"
    open_for_writing(path).close()
    result = CliRunner().invoke(main, ["prices", "--check", "--db", str(path)])
    assert result.exit_code == 1
    assert "no calls yet" in result.output


def test_a_bad_price_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[tts]]\nprovider = "x"\n')
    result = CliRunner().invoke(main, ["prices", "--prices", str(bad)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "tts entry 1 (x/?)" in result.output


def test_your_price_file_is_listed_on_top_of_the_catalog(tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(
        '[[tts]]\nprovider = "Cartesia"\nmodel = "sonic-3"\nunit = "credit"\nusd = 0.00004\n'
        "credits_per_character = 1\n"
        '[[llm]]\nprovider = "openai"\nmodel = "my-tune"\ninput_per_million = 0.3\n'
        "output_per_million = 1.2\n"
    )
    result = CliRunner().invoke(main, ["prices", "--prices", str(prices)])
    assert result.exit_code == 0, result.output
    assert "1 credit / character at $0.00004 a credit · your file" in result.output
    assert "$0.3 in / $1.2 out per 1M tokens · user override" in result.output
    data = json.loads(
        CliRunner().invoke(main, ["prices", "--json", "--prices", str(prices)]).output
    )
    (tune,) = data["llm_overrides"]
    assert tune["model"] == "my-tune"


def test_check_finds_a_model_used_only_outside_turns(
    simulations: SimulationCache, tmp_path: Path
) -> None:
    """A call whose STT audio fell in no turn (the caller never spoke) names its STT model
    only in the call's unpriced list: --check still finds it."""
    recorded = simulations.recorded("basic", stack=UNSOURCED)
    silent = dataclasses.replace(
        recorded,
        sink=MemorySink(),
    )
    for turn in recorded.turns:
        requests = tuple(r for r in turn.requests if r.kind != "stt")
        silent.sink.on_turn(dataclasses.replace(turn, requests=requests))
    silent.sink.on_call(recorded.call)
    path = tmp_path / "silent.db"
    store_call(path, silent)
    result = CliRunner().invoke(main, ["prices", "--check", "--db", str(path)])
    assert result.exit_code == 1, result.output
    assert "stt      Deepgram/nova-2  (outside turns)" in result.output
    assert 'model = "nova-2"' in result.output


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "cannot read it (No such file or directory)"),  # the newcomer's /tmp/nosuch.toml
        ("# turnscope\n\nSee the docs.\n", "not valid TOML"),  # the newcomer's README.md
        ('[[stt]]\nprovider = "x"\n', "stt entry 1 (x/?)"),  # TOML, but an entry it cannot use
    ],
    ids=["missing", "not-toml", "bad-entry"],
)
def test_a_price_file_named_by_the_environment_is_checked_as_with_prices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None, said: str
) -> None:
    """`prices` is how a price file is checked: TURNSCOPE_PRICES naming one it cannot use
    stops it as `--prices` does (one line, exit 2), naming the variable, rather than listing
    the packaged catalog as if the file were fine."""
    chosen = tmp_path / "prices.toml"
    if content is not None:
        chosen.write_text(content)
    monkeypatch.setenv("TURNSCOPE_PRICES", str(chosen))
    for command in (["prices"], ["prices", "--json"], ["prices", "--markdown"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2, result.output
        assert result.output.count("\n") == 1, result.output
        assert result.output.startswith(
            f"turnscope: TURNSCOPE_PRICES: price overrides unusable: {chosen}: "
        )
        assert said in result.output
    named = CliRunner().invoke(main, ["prices", "--prices", str(chosen)])
    assert named.exit_code == 2
    assert said in named.output


def test_a_usable_price_file_named_by_the_environment_is_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(
        '[[llm]]\nprovider = "openai"\nmodel = "env-tune"\ninput_per_million = 0.3\n'
        "output_per_million = 1.2\n"
    )
    monkeypatch.setenv("TURNSCOPE_PRICES", str(prices))
    result = CliRunner().invoke(main, ["prices"])
    assert result.exit_code == 0, result.output
    assert "llm  openai     env-tune" in result.output
