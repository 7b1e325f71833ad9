"""Settings: keyword argument → environment variable → default, resolved in one place.

Each setting is documented once, here; the README lists the environment variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEFAULT_DB",
    "Settings",
    "configure",
    "current_settings",
    "langfuse_configured",
    "otlp_configured",
    "resolve_db_path",
    "settings_from_env",
]

DEFAULT_DB = Path(".turnscope") / "turnscope.db"
"""The local store's default location, relative to the working directory."""

_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Settings:
    db: Path | None
    """The local store's file; None when the store is off."""
    capture_content: bool
    """Whether transcripts, agent text, prompts and tool arguments reach any sink."""
    db_max_mb: float
    """Size cap of the local store: the oldest calls are pruned beyond it."""
    remote_export: bool
    """Whether Langfuse or a generic OTLP endpoint is configured."""
    prices: str | None = None
    """A price override file (``TURNSCOPE_PRICES``)."""


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() not in _FALSE


def langfuse_configured() -> bool:
    return bool(
        os.environ.get("LANGFUSE_PUBLIC_KEY", "").strip()
        and os.environ.get("LANGFUSE_SECRET_KEY", "").strip()
    )


def otlp_configured() -> bool:
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    )


def remote_export_configured() -> bool:
    return langfuse_configured() or otlp_configured()


def resolve_db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Where the store is read from by the CLI: ``--db``, else ``TURNSCOPE_DB``, else the
    default. (``off`` means nothing to read; the caller reports it.)"""
    if explicit is not None:
        return Path(explicit)
    configured = os.environ.get("TURNSCOPE_DB", "").strip()
    if configured and configured.lower() not in _FALSE:
        return Path(configured)
    return DEFAULT_DB


def settings_from_env(
    *, db: str | os.PathLike[str] | None = None, remote: bool | None = None
) -> Settings:
    """The settings an instrumented session uses when no argument overrides them.

    The store is on by default when no remote exporter is configured, and whenever
    ``TURNSCOPE_DB`` names a file; ``TURNSCOPE_DB=off`` turns it off.
    """
    if remote is None:
        remote = remote_export_configured()
    configured = os.environ.get("TURNSCOPE_DB", "").strip()
    path: Path | None
    if db is not None:
        path = Path(db)
    elif configured.lower() in _FALSE and configured:
        path = None
    elif configured:
        path = Path(configured)
    else:
        path = None if remote else DEFAULT_DB
    try:
        cap = float(os.environ.get("TURNSCOPE_DB_MAX_MB", "") or 500.0)
    except ValueError:
        cap = 500.0
    return Settings(
        db=path,
        capture_content=_flag("TURNSCOPE_CAPTURE_CONTENT", True),
        db_max_mb=cap,
        remote_export=remote,
        prices=os.environ.get("TURNSCOPE_PRICES", "").strip() or None,
    )


_configured: dict[str, object] = {}


def configure(
    *,
    db: str | os.PathLike[str] | None = None,
    capture_content: bool | None = None,
    db_max_mb: float | None = None,
    prices: str | os.PathLike[str] | None = None,
) -> None:
    """Set process-wide options in code; each overrides its environment variable.

    ``db``: the local store's file (``"off"`` turns it off) — ``TURNSCOPE_DB``.
    ``capture_content``: keep transcripts, agent text and tool arguments —
    ``TURNSCOPE_CAPTURE_CONTENT``.
    ``db_max_mb``: the store's size cap — ``TURNSCOPE_DB_MAX_MB``.
    ``prices``: a price override file — ``TURNSCOPE_PRICES``.
    """
    options = (
        ("db", db),
        ("capture_content", capture_content),
        ("db_max_mb", db_max_mb),
        ("prices", str(prices) if prices is not None else None),
    )
    for name, value in options:
        if value is not None:
            _configured[name] = value


def current_settings(*, remote: bool | None = None) -> Settings:
    """Arguments given to ``configure``, else the environment, else the defaults.
    ``remote`` says a remote exporter is in use (e.g. a tracer provider was passed)."""
    db = _configured.get("db")
    if isinstance(db, str) and db.strip().lower() in _FALSE:
        base = settings_from_env(remote=remote)
        base = Settings(None, base.capture_content, base.db_max_mb, base.remote_export, base.prices)
    else:
        chosen = db if isinstance(db, (str, os.PathLike)) else None
        base = settings_from_env(db=chosen, remote=remote)
    capture = _configured.get("capture_content")
    cap = _configured.get("db_max_mb")
    prices = _configured.get("prices")
    return Settings(
        db=base.db,
        capture_content=capture if isinstance(capture, bool) else base.capture_content,
        db_max_mb=float(cap) if isinstance(cap, (int, float)) else base.db_max_mb,
        remote_export=base.remote_export,
        prices=prices if isinstance(prices, str) else base.prices,
    )
