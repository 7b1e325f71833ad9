"""The price catalog: every entry sourced, validated on load, overridable."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from turnscope.pricing import CatalogError, load_catalog
from turnscope.pricing.catalog import UNITS, parse_catalog

if TYPE_CHECKING:
    from pathlib import Path


def test_every_packaged_price_quotes_its_source_and_date() -> None:
    catalog = load_catalog()
    assert len(catalog.entries()) >= 40
    for price in catalog.entries():
        assert price.source.startswith("https://"), price.model
        assert len(price.as_of) == 10
        assert price.usd > 0
        assert price.unit in UNITS[price.kind]
        if price.secondary:
            # a figure not read on the provider's page names who it was read from, and when
            assert price.secondary_source, price.model
            assert price.source_date, price.model
        if price.unit == "credit":
            assert price.credits, price.model
            assert price.credit_source, price.model


def test_a_packaged_secondary_price_must_name_its_source() -> None:
    entry = {
        "provider": "x", "model": "m", "unit": "minute", "usd": 1.0, "secondary": True,
        "source": "https://example.com/pricing", "as_of": "2026-12-06",
    }  # fmt: skip
    with pytest.raises(CatalogError, match="must name its 'secondary_source'"):
        parse_catalog({"stt": [entry]}, "catalog.toml", allow_llm=False)


def test_names_match_as_plugins_report_them() -> None:
    catalog = load_catalog()
    exact = catalog.unit_price("stt", "assemblyai", "universal-streaming-english")
    assert exact is not None
    assert catalog.unit_price("stt", "AssemblyAI", "Universal-Streaming-English") is exact
    # LiveKit's OpenAI plugin reports the API host as its provider
    assert catalog.unit_price("tts", "api.openai.com", "tts-1") is not None
    assert catalog.unit_price("tts", "openai", "tts-1-2025-01-01") is not None  # a dated snapshot
    assert catalog.unit_price("tts", "openai", "no-such-voice") is None


BAD_ENTRIES = [
    ('[[stt]]\nprovider = "x"\nmodel = "m"\nunit = "minute"\n', "'usd' must be a positive number"),
    (
        '[[stt]]\nprovider = "x"\nmodel = "m"\nunit = "fortnight"\nusd = 1\n',
        "'unit' must be one of",
    ),
    (
        '[[tts]]\nprovider = "x"\nmodel = "m"\nunit = "minute"\nusd = -2\n',
        "'usd' must be a positive",
    ),
    ('[[tts]]\nmodel = "m"\nunit = "minute"\nusd = 2\n', "'provider' must be a non-empty string"),
    (
        '[[tts]]\nprovider = "x"\nmodel = "m"\nunit = "minute"\nusd = 1\n'
        '[[tts]]\nprovider = "x"\nmodel = "M"\nunit = "minute"\nusd = 2\n',
        "x/M is priced twice",
    ),
    (
        '[[stt]]\nprovider = "x"\nmodel = "m"\nunit = "minute"\nusd = 1\nas_of = "soon"\nsource = "https://a"\n',
        "'as_of' must be a date",
    ),
    ('[[video]]\nprovider = "x"\n', "unknown section(s) video"),
    (
        '[[llm]]\nprovider = "x"\nmodel = "m"\ninput_per_million = 1\n',
        "'output_per_million' must be a positive",
    ),
    ("this is not toml", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "problem"), BAD_ENTRIES)
def test_a_bad_entry_is_one_clear_error_naming_it(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(text)
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    message = str(caught.value)
    assert str(path) in message
    assert problem in message
    assert "\n" not in message


def test_a_missing_override_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot read it"):
        load_catalog(tmp_path / "nope.toml")
