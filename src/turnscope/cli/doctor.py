"""``turnscope doctor``: what turnscope will do here, and whether each backend answers."""

from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

import click
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from turnscope.config import current_settings, otlp_configured
from turnscope.export.exporters import langfuse_settings
from turnscope.export.spans import trace_per_from_env

__all__ = ["doctor"]

PROBE_TIMEOUT = 5.0


def mask(secret: str) -> str:
    """Enough of a key to recognise it, never enough to use it."""
    if len(secret) <= 8:
        return "****"
    return f"{secret[:6]}…{secret[-2:]} (masked)"


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


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


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


def _otlp_target() -> tuple[str, dict[str, str], str]:
    protocol = (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )
    explicit = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    base = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    url = explicit or (base.rstrip("/") + "/v1/traces")
    raw = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS") or os.environ.get(
        "OTEL_EXPORTER_OTLP_HEADERS", ""
    )
    headers = {}
    for pair in raw.split(","):
        if "=" in pair:
            key, value = pair.split("=", 1)
            headers[key.strip()] = urllib.parse.unquote(value.strip())
    return url, headers, protocol


def _line(ok: bool, text: str) -> None:
    click.echo(f"  [{'ok' if ok else '!!'}] {text}")


@click.command()
def doctor() -> None:
    """Show the resolved configuration (secrets masked) and test each configured backend."""
    settings = current_settings()
    click.echo("turnscope configuration")
    store = f"on, at {settings.db}" if settings.db is not None else "off"
    click.echo(f"  local store: {store} (size cap {settings.db_max_mb:g} MB)")
    click.echo(f"  content capture: {'on' if settings.capture_content else 'off'}")
    click.echo(f"  traces: one per {trace_per_from_env()}")
    healthy = True
    langfuse = langfuse_settings()
    if langfuse is None:
        click.echo("  Langfuse: not configured (set LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY)")
    else:
        click.echo(f"  Langfuse: {langfuse.endpoint}")
        click.echo(f"    public key {langfuse.public_key}, secret key {mask(langfuse.secret_key)}")
        result = probe(langfuse.endpoint, langfuse.headers())
        healthy &= result.ok
        _line(result.ok, f"Langfuse {result.explanation}")
    if not otlp_configured():
        click.echo("  OTLP: not configured (set OTEL_EXPORTER_OTLP_ENDPOINT)")
    else:
        url, headers, protocol = _otlp_target()
        shown = ", ".join(f"{k}={mask(v)}" for k, v in headers.items()) or "none"
        click.echo(f"  OTLP: {url} ({protocol}; headers: {shown})")
        if protocol == "grpc":
            click.echo("    (gRPC endpoints are not probed; spans go there as configured)")
        else:
            result = probe(url, headers)
            healthy &= result.ok
            _line(result.ok, f"OTLP {result.explanation}")
    click.echo(
        "  LiveKit's built-in tracing: doctor runs outside your agent and cannot see it. If your "
        "agent calls livekit.agents.telemetry.set_tracer_provider, each call appears twice "
        "(LiveKit's tree and turnscope's); see docs/troubleshooting.md."
    )
    raise SystemExit(0 if healthy else 1)
