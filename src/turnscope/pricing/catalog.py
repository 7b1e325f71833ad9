"""The STT/TTS price catalog (a TOML file beside this module) and user overrides.

Entries are validated when loaded: a bad one is a ``CatalogError`` naming the file, the
entry and what is wrong with it. Overrides (``TURNSCOPE_PRICES`` or ``prices=``) use the same
format and may also price LLMs (``[[llm]]``, USD per million tokens), replacing genai-prices.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["Catalog", "CatalogError", "LLMPrice", "UnitPrice", "load_catalog", "model_key"]

Kind = Literal["stt", "tts", "llm"]
UNITS: dict[str, tuple[str, ...]] = {
    "stt": ("minute", "connection_second"),
    "tts": ("million_characters", "minute"),
}
LLM_FIELDS = ("input", "output", "cached_input", "cache_write")
_SNAPSHOT = re.compile(r"(-|@)(\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$")


class CatalogError(ValueError):
    """A price entry that cannot be used; the message names it."""


def model_key(provider: str | None, model: str | None) -> tuple[str, str]:
    """How names are compared: case-insensitive, without a dated snapshot suffix
    (``gpt-4o-mini-2024-07-18`` prices as ``gpt-4o-mini``)."""
    name = (model or "").strip().lower()
    return ((provider or "").strip().lower(), _SNAPSHOT.sub("", name))


@dataclass(frozen=True)
class UnitPrice:
    kind: Literal["stt", "tts"]
    provider: str
    model: str
    unit: str
    usd: float
    source: str
    as_of: str


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


@dataclass
class Catalog:
    units: dict[tuple[str, str, str], UnitPrice]
    """(kind, provider, model) → price."""
    llm: dict[tuple[str, str], LLMPrice]

    def unit_price(
        self, kind: Literal["stt", "tts"], provider: str | None, model: str | None
    ) -> UnitPrice | None:
        key = model_key(provider, model)
        found = self.units.get((kind, *key))
        if found is None and key[0]:
            # a plugin may report the provider differently; the model name alone is unique enough
            matches = [p for (k, _, m), p in self.units.items() if k == kind and m == key[1]]
            found = matches[0] if len(matches) == 1 else None
        return found

    def llm_price(self, provider: str | None, model: str | None) -> LLMPrice | None:
        return self.llm.get(model_key(provider, model))

    def merged(self, other: Catalog) -> Catalog:
        """This catalog with ``other``'s entries taking precedence."""
        return Catalog({**self.units, **other.units}, {**self.llm, **other.llm})


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


def _positive(
    entry: dict[str, Any], field: str, fail: Any, *, required: bool = True
) -> float | None:
    value = entry.get(field)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise fail(f"'{field}' must be a positive number of USD")
    return float(value)


def _sourced(entry: dict[str, Any], fail: Any, *, required: bool) -> tuple[str, str]:
    if not required and "source" not in entry and "as_of" not in entry:
        return "user override", date.today().isoformat()
    source = _text(entry, "source", fail)
    if not source.startswith(("https://", "http://", "file:", "user")):
        raise fail("'source' must say where the price comes from (a URL)")
    as_of = entry.get("as_of")
    if isinstance(as_of, date):
        as_of = as_of.isoformat()
    if not isinstance(as_of, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", as_of):
        raise fail("'as_of' must be a date, YYYY-MM-DD")
    return source, as_of


def parse_catalog(data: dict[str, Any], origin: str, *, allow_llm: bool) -> Catalog:
    units: dict[tuple[str, str, str], UnitPrice] = {}
    llm: dict[tuple[str, str], LLMPrice] = {}
    unknown = set(data) - {"stt", "tts", "llm"}
    if unknown or ("llm" in data and not allow_llm):
        extra = sorted(unknown | ({"llm"} if "llm" in data and not allow_llm else set()))
        raise CatalogError(f"{origin}: unknown section(s) {', '.join(extra)}")
    for kind in ("stt", "tts"):
        entries = data.get(kind, [])
        if not isinstance(entries, list):
            raise CatalogError(f"{origin}: '{kind}' must be a list of [[{kind}]] entries")
        for index, entry in enumerate(entries):

            def fail(
                problem: str, _k: str = kind, _i: int = index, _e: Any = entry
            ) -> CatalogError:
                return _entry_error(origin, _k, _i, _e, problem)

            if not isinstance(entry, dict):
                raise fail("must be a table")
            provider, model = _text(entry, "provider", fail), _text(entry, "model", fail)
            unit = entry.get("unit")
            if unit not in UNITS[kind]:
                raise fail(f"'unit' must be one of {', '.join(UNITS[kind])}")
            usd = _positive(entry, "usd", fail)
            assert usd is not None
            source, as_of = _sourced(entry, fail, required=not allow_llm)
            price = UnitPrice(kind, provider, model, unit, usd, source, as_of)
            names = [model, *entry.get("aliases", [])]
            for name in names:
                key = (kind, *model_key(provider, name))
                if key in units:
                    raise fail(f"{provider}/{name} is priced twice")
                units[key] = price
    for index, entry in enumerate(data.get("llm", []) if allow_llm else []):

        def fail_llm(problem: str, _i: int = index, _e: Any = entry) -> CatalogError:
            return _entry_error(origin, "llm", _i, _e, problem)

        if not isinstance(entry, dict):
            raise fail_llm("must be a table")
        provider, model = _text(entry, "provider", fail_llm), _text(entry, "model", fail_llm)
        prices = {
            f: _positive(entry, f"{f}_per_million", fail_llm, required=f in ("input", "output"))
            for f in LLM_FIELDS
        }
        source = str(entry.get("source") or "user override")
        llm[model_key(provider, model)] = LLMPrice(
            provider, model, prices["input"] or 0.0, prices["output"] or 0.0,
            prices["cached_input"], prices["cache_write"], source,
        )  # fmt: skip
    return Catalog(units, llm)


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
