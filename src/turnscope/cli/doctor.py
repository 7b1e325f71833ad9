"""``turnscope doctor``: what turnscope will do here, and whether each backend answers."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

import click
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from turnscope.config import SETTINGS, Settings, current_settings, mask, shown_url, shown_value
from turnscope.export.exporters import langfuse_settings

__all__ = ["doctor"]

PROBE_TIMEOUT = 5.0


@dataclass(frozen=True)
class Probe:
    ok: bool
    status: int | None
    explanation: str


def probe(url: str, headers: dict[str, str]) -> Probe:
    """POST an empty, valid OTLP export: a healthy backend accepts it and stores nothing."""
    body = ExportTraceServiceRequest().SerializeToString()
    request = urllib.request.Request(
        url, data=body, method="POST", headers={**headers, "Content-Type": "application/x-protobuf"}
    )
    try:
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT) as response:
            return Probe(True, response.status, "accepted")
    except urllib.error.HTTPError as error:
        return Probe(False, error.code, _explain_status(error.code, url))
    except urllib.error.URLError as error:
        return Probe(
            False,
            None,
            f"cannot reach {_host(url)}: {error.reason} (wrong host or port, or no network)",
        )
    except TimeoutError:
        return Probe(False, None, f"{_host(url)} did not answer within {PROBE_TIMEOUT:.0f} s")
    except ValueError as error:  # not a URL urllib can send to (no scheme, a bad port)
        return Probe(False, None, f"{shown_url(url)} is not a usable URL ({error})")


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc.rpartition("@")[2] or shown_url(url)


def _explain_status(code: int, url: str) -> str:
    if code in (401, 403):
        return (
            f"HTTP {code}: the keys were refused — check them, and that the host is your "
            "project's region"
        )
    if code == 404:
        return (
            f"HTTP 404: nothing at {urllib.parse.urlsplit(url).path} on {_host(url)} — wrong host "
            "or path (Langfuse's is /api/public/otel/v1/traces; an old self-hosted Langfuse "
            "may lack OTLP, which came in v3.22)"
        )
    return f"HTTP {code} from {_host(url)}"


def _headers(raw: str | None) -> dict[str, str]:
    headers = {}
    for pair in (raw or "").split(","):
        if "=" in pair:
            key, value = pair.split("=", 1)
            headers[key.strip()] = urllib.parse.unquote(value.strip())
    return headers


def _line(ok: bool, text: str) -> None:
    click.echo(f"  [{'ok' if ok else '!!'}] {text}")


def _origin(name: str, settings: Settings) -> str:
    origin = settings.origins.get(name, "default")
    if name == "db" and origin == "default" and settings.db is None:
        return "default: off, a remote backend is configured (set TURNSCOPE_DB to keep a store)"
    return origin if origin in ("default", "argument") else f"from {origin}"


def _show_settings(settings: Settings) -> None:
    """Every setting, its value (secrets masked) and where it came from."""
    click.echo("settings (value, and where it came from)")
    for setting in SETTINGS:
        value = shown_value(setting.name, settings)
        click.echo(f"  {setting.name:<22} {value:<34} {_origin(setting.name, settings)}")


def _prices_problem(settings: Settings) -> str | None:
    """What the agent would warn about its price file, loaded (None when it is usable)."""
    if settings.prices is None:
        return None
    from turnscope.pricing.catalog import CatalogError, load_catalog

    try:
        load_catalog(settings.prices)
    except CatalogError as error:
        return f"TURNSCOPE_PRICES: {error}; the packaged prices are used instead"
    return None


def _store_problem(settings: Settings) -> str | None:
    """What the agent's store would refuse at its first write (then it runs without one)."""
    if settings.db is None:
        return None
    from turnscope.store import why_unwritable

    reason = why_unwritable(settings.db)
    if reason is None:
        return None
    origin = settings.origins.get("db", "default")
    where = origin if origin not in ("default", "argument") else "local store"
    return f"{where}: {reason}; an agent would run without its local store"


def _store_line(settings: Settings, unusable: bool) -> str:
    """The header's store line: on (where, its size cap), off, or unusable (why: below)."""
    if settings.db is None:
        return "off"
    if unusable:
        return f"unusable: {settings.db} (see problems below; an agent would run without it)"
    return f"on, at {settings.db} (size cap {settings.db_max_mb:g} MB)"


def _check_langfuse(settings: Settings) -> bool:
    langfuse = langfuse_settings(settings)
    if langfuse is None:
        if settings.langfuse_public_key or settings.langfuse_secret_key:
            click.echo("Langfuse: off (both keys and a usable LANGFUSE_BASE_URL are needed)")
        else:
            click.echo("Langfuse: not configured (set LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY)")
        return True
    click.echo(f"Langfuse traces: {shown_url(langfuse.endpoint)}")
    click.echo(
        f"  public key {mask(langfuse.public_key)}, secret key {mask(langfuse.secret_key)} (masked)"
    )
    result = probe(langfuse.endpoint, langfuse.headers())
    _line(result.ok, f"Langfuse {result.explanation}")
    return result.ok


def _check_otlp(settings: Settings) -> bool:
    url = settings.otlp_traces_url
    if url is None:
        click.echo("OTLP traces: not configured (set OTEL_EXPORTER_OTLP_ENDPOINT)")
        return True
    if not settings.otlp_traces:
        click.echo(f"OTLP traces: not sent to {shown_url(url)}: it is the Langfuse above")
        return True
    headers = _headers(settings.otlp_headers)
    shown = ", ".join(f"{k}={mask(v)}" for k, v in headers.items()) or "none"
    click.echo(f"OTLP traces: {shown_url(url)} ({settings.otlp_protocol}; headers: {shown})")
    if settings.otlp_protocol == "grpc":
        click.echo("  (gRPC endpoints are not probed; spans go there as configured)")
        return True
    result = probe(url, headers)
    _line(result.ok, f"OTLP {result.explanation}")
    return result.ok


def _show_metrics(settings: Settings) -> None:
    url = settings.otlp_metrics_url
    if url is not None:
        click.echo(f"OTLP metrics: {shown_url(url)}")
    elif settings.otlp_metrics_endpoint or settings.otlp_endpoint:
        click.echo("OTLP metrics: not sent (the endpoint is Langfuse, which accepts traces only)")
    else:
        click.echo("OTLP metrics: not configured (set OTEL_EXPORTER_OTLP_ENDPOINT)")


@click.command()
def doctor() -> None:
    """Show every resolved setting and where it came from (secrets masked), name the
    mistakes it recognises, and test each configured backend."""
    settings = current_settings()
    store_problem = _store_problem(settings)
    click.echo("turnscope configuration")
    click.echo(f"  local store: {_store_line(settings, store_problem is not None)}")
    click.echo(f"  content capture: {'on' if settings.capture_content else 'off'}")
    click.echo(f"  traces: one per {settings.trace_per}")
    _show_settings(settings)
    found = [p.message for p in settings.problems]
    found += [p for p in (store_problem, _prices_problem(settings)) if p is not None]
    healthy = not found
    if found:
        click.echo("problems")
    for message in found:
        _line(False, message)
    healthy &= _check_langfuse(settings)
    healthy &= _check_otlp(settings)
    _show_metrics(settings)
    click.echo(
        "LiveKit's built-in tracing: doctor runs outside your agent and cannot see it. If your "
        "agent calls livekit.agents.telemetry.set_tracer_provider, each call appears twice "
        "(LiveKit's tree and turnscope's); see docs/troubleshooting.md."
    )
    raise SystemExit(0 if healthy else 1)
