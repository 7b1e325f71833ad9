"""The STT/TTS price catalog (a TOML file beside this module) and user overrides.

Entries are validated when loaded: a bad one is a ``CatalogError`` naming the file, the
entry and what is wrong with it. Overrides (``TURNSCOPE_PRICES`` or ``prices=``) use the same
format and may also price LLMs (``[[llm]]``, USD per million tokens), replacing genai-prices.

An entry says how its provider bills, not only how much: the unit as billed (audio
seconds/minutes/hours, characters, or credits with the credit's dollar value), whether a
stream is billed for the audio sent or the time the connection is open, and the increment
(and minimum) each request is rounded up to. ``UnitPrice.billed`` applies those rules.
"""

from __future__ import annotations

import functools
import math
import re
import sys
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "PROVIDER_ALIASES",
    "Catalog",
    "CatalogError",
    "LLMPrice",
    "UnitPrice",
    "load_catalog",
    "model_key",
    "provider_id",
]

Kind = Literal["stt", "tts", "llm"]
Mode = Literal["streaming", "prerecorded"]

_SECONDS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
_CHARACTERS = {"character": 1.0, "thousand_characters": 1e3, "million_characters": 1e6}
UNITS: dict[str, tuple[str, ...]] = {
    "stt": (*_SECONDS, "connection_second", "credit"),
    "tts": (*_CHARACTERS, "minute", "credit"),
}
"""Units as providers bill them. ``connection_second`` is ``second`` with
``billed_on = "connection"`` (its older spelling). ``credit``: ``usd`` is one credit's dollar
value, and ``credits_per_second`` (STT) or ``credits_per_character`` (TTS) how many a unit
costs."""

LLM_FIELDS = ("input", "output", "cached_input", "cache_write")
_SNAPSHOT = re.compile(r"(-|@)(\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

PROVIDER_ALIASES = {
    # how LiveKit plugins name providers (livekit-agents 1.8.9) → the catalog's provider id
    "api.openai.com": "openai",
    "azure stt": "azure",
    "azure tts": "azure",
    "google cloud platform": "google",
    "vertex ai": "google",
    "gemini": "google",
}
"""Provider strings LiveKit's plugins put on metrics that differ from the provider's name.
Case never matters; LiveKit Inference reports ``livekit``."""


class CatalogError(ValueError):
    """A price entry that cannot be used; the message names it."""


def provider_id(provider: str | None) -> str:
    """The catalog's name for a provider as a plugin reports it (``Azure STT`` → ``azure``)."""
    name = (provider or "").strip().lower()
    return PROVIDER_ALIASES.get(name, name)


def model_key(provider: str | None, model: str | None) -> tuple[str, str]:
    """How names are compared: case-insensitive, the provider as its catalog id, without a
    dated snapshot suffix (``gpt-4o-mini-2024-07-18`` prices as ``gpt-4o-mini``)."""
    name = (model or "").strip().lower()
    return (provider_id(provider), _SNAPSHOT.sub("", name))


@dataclass(frozen=True)
class UnitPrice:
    """One catalog entry: how a provider bills one STT or TTS model."""

    kind: Literal["stt", "tts"]
    provider: str
    model: str
    unit: str
    """As billed: second/minute/hour (of audio or connection), character,
    thousand_characters, million_characters, minute (of TTS audio), or credit."""
    usd: float
    """USD per ``unit`` (for ``credit``: one credit's dollar value)."""
    source: str
    """The provider's page the price belongs to."""
    as_of: str
    """The date the price was read (YYYY-MM-DD)."""
    per: Literal["second", "character"] = "second"
    """What is metered: seconds of audio (or connection), or characters."""
    usd_per: float = 0.0
    """USD per metered second or character, all conversions done."""
    billed_on: Literal["audio", "connection", "text"] = "audio"
    credits: float | None = None
    """Credits per second or per character (``unit = "credit"``)."""
    credit_source: str | None = None
    increment: float | None = None
    """Each request is rounded up to a multiple of this (seconds or characters)."""
    minimum: float | None = None
    """Each request is billed at least this much (seconds or characters)."""
    mode: Mode | None = None
    """Only for streamed (or only for pre-recorded) requests; None: both."""
    aliases: tuple[str, ...] = ()
    pattern: str | None = None
    """A regular expression model strings match in full, for plugins whose model string
    carries more than the model (a voice, a region)."""
    secondary: bool = False
    """The provider's own page was not available: the figure comes from a third party."""
    secondary_source: str | None = None
    source_date: str | None = None
    """The date the (secondary) source says it read the provider's page."""
    alternatives: tuple[str, ...] = ()
    """Other figures other sources give, when they disagree."""
    note: str = ""
    packaged: bool = True
    """From turnscope's catalog; False: from your price file."""

    def billed(self, quantity: float) -> float:
        """The seconds or characters one request is billed for, after its provider's
        increment and minimum (nothing used, nothing billed)."""
        if quantity <= 0:
            return 0.0
        if self.increment:
            # a float sum of frames must not tip a whole number of increments into the next
            quantity = math.ceil(round(quantity / self.increment, 6)) * self.increment
        if self.minimum:
            quantity = max(quantity, self.minimum)
        return quantity

    def cost(self, quantity: float, *, whole_request: bool) -> float:
        """USD for ``quantity`` seconds or characters; a whole request is rounded first."""
        return (self.billed(quantity) if whole_request else quantity) * self.usd_per

    def matches(self, model: str) -> bool:
        return self.pattern is not None and re.fullmatch(self.pattern, model, re.I) is not None


@dataclass(frozen=True)
class LLMPrice:
    """USD per million tokens (an override of genai-prices)."""

    provider: str
    model: str
    input: float
    output: float
    cached_input: float | None
    cache_write: float | None
    source: str


_REMEMBERED = 4096
"""Model strings whose price lookup is remembered (a bound, should a plugin's strings vary)."""

_Key = tuple[str, str, str, str]
"""(kind, provider id, model, mode or "")."""


@dataclass
class Catalog:
    units: dict[_Key, UnitPrice]
    """(kind, provider, model, mode) → price; mode is "" when it applies to both."""
    llm: dict[tuple[str, str], LLMPrice]
    patterns: tuple[UnitPrice, ...] = ()
    """Entries matched by pattern, in the order they are tried (overrides first)."""
    _found: dict[tuple[str, str | None, str | None, bool | None], UnitPrice | None] = field(
        default_factory=dict, repr=False, compare=False
    )

    def unit_price(
        self,
        kind: Literal["stt", "tts"],
        provider: str | None,
        model: str | None,
        *,
        streamed: bool | None = None,
    ) -> UnitPrice | None:
        """The price of a model as a plugin reports it. ``streamed`` picks the streaming or
        pre-recorded price where they differ (None, not known: the streaming one, else the
        only one there is). Remembered per model string: a call asks about the same few
        many times."""
        asked = (kind, provider, model, streamed)
        if asked in self._found:
            return self._found[asked]
        found = self._look_up(kind, provider, model, streamed=streamed)
        if len(self._found) < _REMEMBERED:
            self._found[asked] = found
        return found

    def _look_up(
        self,
        kind: Literal["stt", "tts"],
        provider: str | None,
        model: str | None,
        *,
        streamed: bool | None,
    ) -> UnitPrice | None:
        key = model_key(provider, model)
        modes: tuple[str, ...] = {
            True: ("streaming", ""), False: ("prerecorded", ""),
            None: ("streaming", "", "prerecorded"),
        }[streamed]  # fmt: skip
        for mode in modes:
            found = self.units.get((kind, *key, mode))
            if found is not None:
                return found
        for price in self.patterns:
            same = price.kind == kind and provider_id(price.provider) == key[0]
            if same and (price.mode or "") in modes and price.matches((model or "").strip()):
                return price
        if key[0] and key[1] not in ("", "unknown") and key[0] not in self._providers:
            # a provider the catalog does not know by that name (an OpenAI-compatible host):
            # the model name alone is unique enough
            matches = {
                p for (k, _, m, mode), p in self.units.items()
                if k == kind and m == key[1] and mode in modes
            }  # fmt: skip
            if len(matches) == 1:
                return matches.pop()
        return None

    @functools.cached_property
    def _providers(self) -> frozenset[str]:
        return self.providers()

    def providers(self) -> frozenset[str]:
        """The provider ids the catalog prices."""
        return frozenset(key[1] for key in self.units)

    def llm_price(self, provider: str | None, model: str | None) -> LLMPrice | None:
        return self.llm.get(model_key(provider, model))

    def entries(self) -> list[UnitPrice]:
        """Every distinct price, in catalog order."""
        return list(dict.fromkeys([*self.units.values(), *self.patterns]))

    def merged(self, other: Catalog) -> Catalog:
        """This catalog with ``other``'s entries taking precedence: an override of a model
        replaces its packaged prices in every mode."""
        replaced = {key[:3] for key in other.units}
        kept = {key: p for key, p in self.units.items() if key[:3] not in replaced}
        return Catalog(
            {**kept, **other.units},
            {**self.llm, **other.llm},
            (*other.patterns, *self.patterns),
        )


def _entry_error(origin: str, kind: str, index: int, entry: Any, problem: str) -> CatalogError:
    name = (
        f"{entry.get('provider', '?')}/{entry.get('model', '?')}"
        if isinstance(entry, dict)
        else "?"
    )
    return CatalogError(f"{origin}: {kind} entry {index + 1} ({name}): {problem}")


def _text(entry: dict[str, Any], field: str, fail: Any) -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value.strip():
        raise fail(f"'{field}' must be a non-empty string")
    return value.strip()


def _maybe_text(entry: dict[str, Any], field: str, fail: Any) -> str | None:
    return None if entry.get(field) is None else _text(entry, field, fail)


def _positive(
    entry: dict[str, Any], field: str, fail: Any, *, required: bool = True, what: str = "USD"
) -> float | None:
    value = entry.get(field)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise fail(f"'{field}' must be a positive number of {what}")
    return float(value)


def _a_date(entry: dict[str, Any], field: str, fail: Any) -> str:
    value = entry.get(field)
    if isinstance(value, date):
        value = value.isoformat()
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise fail(f"'{field}' must be a date, YYYY-MM-DD")
    return value


def _sourced(entry: dict[str, Any], fail: Any, *, required: bool) -> tuple[str, str]:
    if not required and "source" not in entry and "as_of" not in entry:
        return "user override", date.today().isoformat()
    source = _text(entry, "source", fail)
    if not source.startswith(("https://", "http://", "file:", "user")):
        raise fail("'source' must say where the price comes from (a URL)")
    return source, _a_date(entry, "as_of", fail)


def _strings(entry: dict[str, Any], field: str, fail: Any) -> tuple[str, ...]:
    values = entry.get(field, [])
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise fail(f"'{field}' must be a list of strings")
    return tuple(values)


def _billing(kind: str, entry: dict[str, Any], fail: Any) -> dict[str, Any]:
    """What is metered and what one unit of it costs: the unit and the credit rules."""
    unit = entry.get("unit")
    if unit not in UNITS[kind]:
        raise fail(f"'unit' must be one of {', '.join(UNITS[kind])}")
    usd = _positive(entry, "usd", fail)
    assert usd is not None
    per = "character" if kind == "tts" and unit != "minute" else "second"
    credits = None
    if unit == "credit":
        field = f"credits_per_{per}"
        credits = _positive(entry, field, fail, what="credits")
        assert credits is not None
        usd_per = usd * credits
    elif per == "character":
        usd_per = usd / _CHARACTERS[unit]
    else:
        usd_per = usd / _SECONDS.get(unit.removeprefix("connection_"), 60.0)
    if kind == "tts":
        if "billed_on" in entry:
            raise fail("'billed_on' applies to STT only")
        billed_on = "text" if per == "character" else "audio"
    else:
        billed_on = entry.get("billed_on", "connection" if unit == "connection_second" else "audio")
        if billed_on not in ("audio", "connection"):
            raise fail("'billed_on' must be audio or connection")
    return {"unit": unit, "usd": usd, "per": per, "usd_per": usd_per, "credits": credits,
            "billed_on": billed_on}  # fmt: skip


def _rules(entry: dict[str, Any], fail: Any) -> dict[str, Any]:
    """Rounding per request and the streaming/pre-recorded split."""
    mode = entry.get("mode")
    if mode not in (None, "streaming", "prerecorded"):
        raise fail("'mode' must be streaming or prerecorded")
    pattern = _maybe_text(entry, "model_pattern", fail)
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as error:
            raise fail(f"'model_pattern' is not a regular expression ({error})") from None
    secondary = entry.get("secondary", False)
    if not isinstance(secondary, bool):
        raise fail("'secondary' must be true or false")
    return {
        "increment": _positive(entry, "increment", fail, required=False, what="units"),
        "minimum": _positive(entry, "minimum", fail, required=False, what="units"),
        "mode": mode,
        "pattern": pattern,
        "secondary": secondary,
    }


def _provenance(entry: dict[str, Any], fail: Any, *, packaged: bool) -> dict[str, Any]:
    """Where a packaged price comes from: a secondary figure names its source."""
    secondary_source = _maybe_text(entry, "secondary_source", fail)
    if packaged and entry.get("secondary") and secondary_source is None:
        raise fail("a secondary price must name its 'secondary_source'")
    source_date = _a_date(entry, "source_date", fail) if "source_date" in entry else None
    note = entry.get("note", "")
    if not isinstance(note, str):
        raise fail("'note' must be a string")
    return {
        "secondary_source": secondary_source,
        "source_date": source_date,
        "credit_source": _maybe_text(entry, "credit_source", fail),
        "alternatives": _strings(entry, "alternatives", fail),
        "note": note,
    }


def _unit_price(kind: Any, entry: Any, fail: Any, *, packaged: bool) -> UnitPrice:
    if not isinstance(entry, dict):
        raise fail("must be a table")
    provider, model = _text(entry, "provider", fail), _text(entry, "model", fail)
    source, as_of = _sourced(entry, fail, required=packaged)
    return UnitPrice(
        kind=kind, provider=provider, model=model, source=source, as_of=as_of, packaged=packaged,
        aliases=_strings(entry, "aliases", fail), **_billing(kind, entry, fail),
        **_rules(entry, fail), **_provenance(entry, fail, packaged=packaged),
    )  # fmt: skip


def _llm_price(entry: Any, fail: Any) -> LLMPrice:
    if not isinstance(entry, dict):
        raise fail("must be a table")
    provider, model = _text(entry, "provider", fail), _text(entry, "model", fail)
    prices = {
        f: _positive(entry, f"{f}_per_million", fail, required=f in ("input", "output"))
        for f in LLM_FIELDS
    }
    return LLMPrice(
        provider, model, prices["input"] or 0.0, prices["output"] or 0.0,
        prices["cached_input"], prices["cache_write"], str(entry.get("source") or "user override"),
    )  # fmt: skip


def parse_catalog(data: dict[str, Any], origin: str, *, allow_llm: bool) -> Catalog:
    unknown = set(data) - {"stt", "tts", "llm"}
    if unknown or ("llm" in data and not allow_llm):
        extra = sorted(unknown | ({"llm"} if "llm" in data and not allow_llm else set()))
        raise CatalogError(f"{origin}: unknown section(s) {', '.join(extra)}")
    catalog = Catalog({}, {})
    patterns: list[UnitPrice] = []
    for kind in ("stt", "tts", "llm"):
        entries = data.get(kind, []) if kind != "llm" or allow_llm else []
        if not isinstance(entries, list):
            raise CatalogError(f"{origin}: '{kind}' must be a list of [[{kind}]] entries")
        for index, entry in enumerate(entries):

            def fail(
                problem: str, _k: str = kind, _i: int = index, _e: Any = entry
            ) -> CatalogError:
                return _entry_error(origin, _k, _i, _e, problem)

            if kind == "llm":
                price = _llm_price(entry, fail)
                catalog.llm[model_key(price.provider, price.model)] = price
                continue
            unit = _unit_price(kind, entry, fail, packaged=not allow_llm)
            if unit.pattern is not None:
                patterns.append(unit)
            for name in (unit.model, *unit.aliases):
                key = (kind, *model_key(unit.provider, name), unit.mode or "")
                if key in catalog.units:
                    raise fail(f"{unit.provider}/{name} is priced twice")
                catalog.units[key] = unit
    catalog.patterns = tuple(patterns)
    return catalog


def _read(path: Path, origin: str) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            loaded: dict[str, Any] = tomllib.load(handle)
            return loaded
    except OSError as error:
        raise CatalogError(f"{origin}: cannot read it ({error.strerror or error})") from None
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"{origin}: not valid TOML ({error})") from None


def load_catalog(overrides: str | Path | None = None) -> Catalog:
    """The packaged catalog, with a user's override file on top."""
    packaged = resources.files("turnscope.pricing").joinpath("catalog.toml")
    with resources.as_file(packaged) as path:
        catalog = parse_catalog(_read(path, "catalog.toml"), "catalog.toml", allow_llm=False)
    if overrides is not None:
        origin = str(overrides)
        extra = parse_catalog(_read(Path(overrides), origin), origin, allow_llm=True)
        catalog = catalog.merged(extra)
    return catalog
