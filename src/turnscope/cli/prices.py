"""``turnscope prices``: what turnscope can price, and which recorded models it could not.

The listing is the packaged catalog (plus your override file): provider, model, the unit as
billed, the price, its billing rules, its source and the date it was read, and whether the
figure comes from the provider's own page (primary) or a third party (secondary).
``--check`` reads a store and names every model of its recorded calls that still has no
price, with the entry to add to your price file.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import click

from turnscope.cli.common import FilePath, db_option, fail, one_line_errors, read_store
from turnscope.config import current_settings
from turnscope.pricing.catalog import CatalogError, load_catalog
from turnscope.pricing.pricer import Pricer
from turnscope.report.numbers import counted

if TYPE_CHECKING:
    import sqlite3
    from pathlib import Path

    from turnscope.pricing.catalog import Catalog, UnitPrice

__all__ = ["SCHEMA_VERSION", "catalog_markdown", "prices"]

SCHEMA_VERSION = 1
"""Version of ``turnscope prices --json``'s shape; it changes only when a field does."""

_UNIT_LABELS = {
    "second": "second",
    "minute": "minute",
    "hour": "hour",
    "connection_second": "second",
    "character": "character",
    "thousand_characters": "1K characters",
    "million_characters": "1M characters",
}


def describe_unit(price: UnitPrice) -> str:
    """The unit as the provider bills it, in words: ``$0.0048 / minute of audio``."""
    if price.unit == "credit":
        per = "second of audio" if price.per == "second" else "character"
        return f"{price.credits:g} credit / {per} at ${_usd(price.usd)} a credit"
    what = {"audio": "of audio", "connection": "of connection time", "text": ""}[price.billed_on]
    if price.kind == "tts" and price.per == "second":
        what = "of audio produced"
    return f"${_usd(price.usd)} / {_UNIT_LABELS[price.unit]} {what}".rstrip()


def _usd(value: float) -> str:
    """A price as written on a price page: no exponent, no trailing zeros."""
    return f"{value:.10f}".rstrip("0").rstrip(".")


def describe_rules(price: UnitPrice) -> str:
    rules: list[str] = []
    if price.mode:
        rules.append(price.mode)
    what = "s" if price.per == "second" else " characters"
    if price.increment:
        rules.append(f"rounded up to {price.increment:g}{what} per request")
    if price.minimum:
        rules.append(f"at least {price.minimum:g}{what} per request")
    return ", ".join(rules)


def model_names(price: UnitPrice) -> str:
    names = price.model
    if price.pattern:
        names += f" (model ~ {price.pattern})"
    if price.aliases:
        names += f" (also {', '.join(price.aliases)})"
    return names


def price_json(price: UnitPrice) -> dict[str, Any]:
    return {
        "kind": price.kind,
        "provider": price.provider,
        "model": price.model,
        "aliases": list(price.aliases),
        "model_pattern": price.pattern,
        "mode": price.mode,
        "unit": price.unit,
        "usd": price.usd,
        "credits_per_unit": price.credits,
        f"usd_per_{price.per}": price.usd_per,
        "billed_on": price.billed_on,
        "increment": price.increment,
        "minimum": price.minimum,
        "source": price.source,
        "as_of": price.as_of,
        "secondary": price.secondary,
        "secondary_source": price.secondary_source,
        "source_date": price.source_date,
        "credit_source": price.credit_source,
        "alternatives": list(price.alternatives),
        "note": price.note,
        "packaged": price.packaged,
    }


def catalog_markdown(catalog: Catalog) -> str:
    """The catalog as the Markdown table docs/pricing.md shows (a test keeps them equal)."""
    lines = [
        "| kind | provider | model | price as billed | billing rules | source | read | read from |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in catalog.entries():
        names = model_names(p).replace("|", "\\|")
        origin = _origin(p)
        if p.secondary_source:
            origin += f": {p.secondary_source}".replace("|", "\\|")
        row = [p.kind, p.provider, f"`{names}`", describe_unit(p), describe_rules(p),
               f"[{_host(p.source)}]({p.source})", p.as_of, origin]  # fmt: skip
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def _origin(price: UnitPrice) -> str:
    if not price.packaged:
        return "your file"
    return "secondary" if price.secondary else "primary"


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]


def _load(prices_file: Path | None) -> Catalog:
    """The catalog with the chosen price file on top: ``--prices``, else TURNSCOPE_PRICES.
    This command is how a price file is checked, so a file it cannot use stops it (exit 2)
    whichever way it was named, where an agent would warn and use the packaged prices."""
    chosen: str | Path | None = prices_file
    named = "price overrides unusable"
    if chosen is None:
        settings = current_settings(remote=False)
        origin = settings.origins.get("prices", "default")
        given = os.environ.get(origin, "").strip() if origin != "default" else ""
        chosen = given or settings.prices
        named = f"{origin}: price overrides unusable" if given else named
    try:
        return load_catalog(chosen)
    except CatalogError as error:
        fail(f"{named}: {error}", 2)
        raise  # unreachable: fail exits


@click.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--check",
    is_flag=True,
    help="List the models of the store's calls that have no price; exit 1 if there are any.",
)
@click.option(
    "--prices",
    "prices_file",
    type=FilePath(),
    help="Your price file (default: $TURNSCOPE_PRICES), on top of the packaged catalog.",
)
@click.option("--markdown", is_flag=True, help="The catalog as docs/pricing.md's table.")
@one_line_errors
def prices(
    db: Path | None, as_json: bool, check: bool, prices_file: Path | None, markdown: bool
) -> None:
    """What turnscope prices (and from which source); --check: what your calls used that
    it could not price."""
    catalog = _load(prices_file)
    if check:
        _check(read_store(db), catalog, as_json=as_json)
        return
    if markdown:
        click.echo(catalog_markdown(catalog), nl=False)
        return
    if as_json:
        payload = {
            "schema_version": SCHEMA_VERSION,
            "stt_tts": [price_json(p) for p in catalog.entries()],
            "llm": "genai-prices (https://pypi.org/project/genai-prices/), unless your file "
            "prices the model",
            "llm_overrides": [vars(price) for price in catalog.llm.values()],
        }
        click.echo(json.dumps(payload, indent=2))
        return
    _print_listing(catalog)


def _print_listing(catalog: Catalog) -> None:
    """Two lines an entry, readable in 80 columns: what is priced and how much; then its
    billing rules, whether it is primary or secondary, the date read and the source."""
    entries = catalog.entries()
    click.echo("STT and TTS prices (LLM tokens: genai-prices, unless your file prices them)")
    for p in entries:
        click.echo(f"{p.kind}  {p.provider:<10} {model_names(p)}")
        origin = _origin(p)
        details = [describe_unit(p), describe_rules(p), origin, f"read {p.as_of}", p.source]
        click.echo("      " + " · ".join(d for d in details if d))
    for llm in catalog.llm.values():
        click.echo(f"llm  {llm.provider:<10} {llm.model}")
        click.echo(
            f"      ${_usd(llm.input)} in / ${_usd(llm.output)} out per 1M tokens · {llm.source}"
        )
    secondary = sum(p.secondary for p in entries)
    click.echo(
        f"{len(entries)} prices, {secondary} secondary (the provider's page was not available: "
        "`turnscope prices --json` names the source). Your own prices: docs/pricing.md"
    )


_KINDS = ("stt", "tts", "llm", "realtime")


def unpriced_models(connection: sqlite3.Connection, catalog: Catalog) -> list[dict[str, Any]]:
    """The (kind, provider, model) of every recorded STT/LLM/TTS/realtime request that the
    catalog (with overrides) and genai-prices cannot price, with how many requests used it."""
    rows = connection.execute(
        "SELECT kind, provider, model, streamed, COUNT(*) FROM components "
        f"WHERE kind IN ({', '.join('?' * len(_KINDS))}) "
        "GROUP BY kind, provider, model, streamed ORDER BY kind, provider, model",
        _KINDS,
    ).fetchall()
    rows += _outside_turns(connection, {(kind, p, m) for kind, p, m, _, _ in rows})
    pricer = Pricer(catalog)
    missing: dict[tuple[str, str | None, str | None], dict[str, Any]] = {}
    for kind, provider, model, streamed, count in rows:
        if kind in ("stt", "tts"):
            found: object = catalog.unit_price(kind, provider, model, streamed=bool(streamed))
        else:
            found = catalog.llm_price(provider, model) or pricer.model_price(provider, model)
        if found is None:
            entry = missing.setdefault((kind, provider, model), {
                "kind": kind, "provider": provider, "model": model, "requests": 0,
                "snippet": override_snippet(kind, provider, model),
            })  # fmt: skip
            entry["requests"] += count
    return list(missing.values())


def _outside_turns(
    connection: sqlite3.Connection, seen: set[tuple[str, str | None, str | None]]
) -> list[tuple[str, str | None, str | None, int, int]]:
    """Models a call could not price that no turn's request names: STT audio that fell in no
    turn (a call where nobody spoke). Read from the calls' ``unpriced`` labels,
    ``kind:provider/model``; priced as a stream's audio is."""
    found = []
    for (labels,) in connection.execute("SELECT unpriced FROM calls WHERE unpriced IS NOT NULL"):
        for label in json.loads(labels):
            kind, _, name = str(label).partition(":")
            provider, _, model = name.partition("/")
            key = (kind, None if provider == "unknown" else provider, model or None)
            if kind in _KINDS and key not in seen:
                seen.add(key)
                found.append((*key, 1, 0))
    return found


def override_snippet(kind: str, provider: str | None, model: str | None) -> str:
    """The entry to add to a TURNSCOPE_PRICES file, with the price left for the user."""
    head = f'provider = "{provider or "unknown"}"\nmodel = "{model or "unknown"}"\n'
    if kind in ("llm", "realtime"):
        return (
            f"[[llm]]\n{head}input_per_million = 0.0   # your price, USD per 1M tokens\n"
            "output_per_million = 0.0\n"
        )
    unit = "minute" if kind == "stt" else "million_characters"
    return (
        f'[[{kind}]]\n{head}unit = "{unit}"   # as billed: see docs/pricing.md\n'
        "usd = 0.0   # your price (must be above 0)\n"
    )


def _check(connection: sqlite3.Connection, catalog: Catalog, *, as_json: bool) -> None:
    calls = connection.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
    if not calls:
        fail("the store has no calls yet: nothing to check")
    missing = unpriced_models(connection, catalog)
    if as_json:
        payload = {"schema_version": SCHEMA_VERSION, "calls": calls, "unpriced": missing}
        click.echo(json.dumps(payload, indent=2))
    elif not missing:
        click.echo(f"every model of the {calls} recorded call(s) is priced")
    else:
        click.echo(f"{len(missing)} model(s) in {calls} recorded call(s) have no price:")
        for m in missing:
            used = counted(m["requests"], "request") if m["requests"] else "outside turns"
            click.echo(f"  {m['kind']:<8} {m['provider']}/{m['model']}  ({used})")
        click.echo("\nAdd them to your price file (TURNSCOPE_PRICES=prices.toml):\n")
        click.echo("\n".join(m["snippet"] for m in missing), nl=False)
    raise SystemExit(1 if missing else 0)
