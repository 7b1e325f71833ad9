"""Settings: keyword argument → environment variable → default, resolved in one place.

``SETTINGS`` is the one table: each row declares a setting's ``configure()`` argument (if it
has one), its environment variables, its default, how a raw value is read, and what it
means. Nothing else in turnscope reads these variables. A value that cannot be read is never
silently replaced: it becomes a ``Problem`` naming the variable, the value (secrets masked)
and the value used instead; ``instrument()`` logs each once and ``turnscope doctor`` lists
them. A privacy switch fails closed: an unreadable ``TURNSCOPE_CAPTURE_CONTENT`` means off.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import urllib.parse
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "DEFAULT_DB",
    "DEFAULT_LANGFUSE",
    "EMF_DIMENSIONS",
    "SETTINGS",
    "Problem",
    "Setting",
    "Settings",
    "aimed_at_langfuse",
    "configure",
    "current_settings",
    "mask",
    "report_problems",
    "resolve_db_path",
    "shown_url",
]

logger = logging.getLogger("turnscope")

DEFAULT_DB = Path(".turnscope") / "turnscope.db"
"""The local store's default location, relative to the working directory."""

DEFAULT_LANGFUSE = "https://cloud.langfuse.com"
"""Langfuse Cloud EU, Langfuse's own default host."""

EMF_DIMENSIONS = ("Agent", "Service", "Environment")
"""The CloudWatch EMF dimensions a user may choose: all low-cardinality."""

LANGFUSE_PATHS = ("/api/public/otel/v1/traces", "/api/public/otel", "/v1/traces")
"""Paths users paste into ``LANGFUSE_BASE_URL``; turnscope adds the OTLP path itself."""

KEY_PREFIXES = ("pk-lf-", "sk-lf-")
"""The fixed prefixes of Langfuse's public and secret keys: safe to show."""

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_ENVIRONMENT = re.compile(r"^(?!langfuse)[a-z0-9_-]{1,40}$")
"""Langfuse's rule for an environment name: lowercase letters, digits, ``-`` and ``_``, at
most 40 characters, not starting with ``langfuse``."""


class Rejected(ValueError):
    """A raw value a setting cannot use; the message says why, in a few words."""


@dataclass(frozen=True)
class Fixed:
    """A raw value accepted after a correction the user should hear about once."""

    value: object
    note: str


# -- casters: a raw value (an environment string or a configure() argument) → the value -----


def _boolean(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Rejected("not a boolean (true/false, 1/0, yes/no, on/off)")


def _megabytes(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise Rejected("not a number of megabytes")
    try:
        value = float(raw)
    except ValueError:
        raise Rejected("not a number of megabytes") from None
    if not 0 < value < float("inf"):
        raise Rejected("not a positive number of megabytes")
    return value


def _text(raw: object) -> str | None:
    return str(raw).strip() or None


def _store(raw: object) -> Path | None:
    """A path, or ``off`` (or false, no, 0) for no store."""
    if not isinstance(raw, (str, os.PathLike)):
        raise Rejected("not a path")
    text = os.fspath(raw).strip()
    return None if text.lower() in _FALSE else Path(text)


def _prices(raw: object) -> str:
    """A readable TOML file; its entries are checked by the pricing room when it loads."""
    if not isinstance(raw, (str, os.PathLike)):
        raise Rejected("not a path")
    path = Path(os.fspath(raw).strip())
    try:
        with path.open("rb") as handle:
            tomllib.load(handle)
    except OSError as error:
        raise Rejected(f"not a readable file ({error.strerror or error})") from None
    except tomllib.TOMLDecodeError as error:
        raise Rejected(f"not valid TOML ({error})") from None
    return str(path)


def _choice(*allowed: str) -> Callable[[object], str]:
    def cast(raw: object) -> str:
        text = str(raw).strip().lower()
        if text not in allowed:
            raise Rejected(f"not one of {', '.join(allowed)}")
        return text

    return cast


def _environment(raw: object) -> str | None:
    text = str(raw).strip()
    if text and not _ENVIRONMENT.match(text):
        raise Rejected(
            "not a Langfuse environment name (lowercase letters, digits, - and _, at most 40, "
            "not starting with 'langfuse')"
        )
    return text or None


def _emf_target(raw: object) -> str | None:
    text = str(raw).strip()
    return None if not text or text.lower() in _FALSE else text


def _dimensions(raw: object) -> tuple[str, ...]:
    if isinstance(raw, str):
        names = [d.strip() for d in raw.split(",") if d.strip()]
    elif isinstance(raw, (tuple, list)):
        names = [str(d).strip() for d in raw]
    else:
        raise Rejected("not a comma-separated list of EMF dimensions")
    unknown = [d for d in names if d not in EMF_DIMENSIONS]
    if unknown or not names:
        raise Rejected(
            f"not a list of EMF dimensions from {', '.join(EMF_DIMENSIONS)} "
            f"({', '.join(unknown) or 'empty'}; a per-call dimension would make a metric per "
            "call)"
        )
    return tuple(dict.fromkeys(names))


def _key(raw: object) -> object:
    """A Langfuse key: surrounding quotes or spaces (a ``.env`` habit) are removed, with a
    note; a space inside means it is not a key."""
    text = str(raw)
    cleaned = text.strip().strip("'\"").strip()
    if not cleaned:
        return None
    if any(c.isspace() for c in cleaned):
        raise Rejected("not a key: it has a space inside")
    if cleaned != text:
        return Fixed(cleaned, "has quotes or spaces around it; they are not part of the key")
    return cleaned


def _langfuse_base(raw: object) -> object:
    """A Langfuse host. Without a scheme, ``https://`` is assumed; the OTLP path users paste
    (``/api/public/otel``, ``/v1/traces``) and credentials in the URL are removed, with a note
    saying exactly what to remove."""
    text = str(raw).strip().strip("'\"").strip()
    notes = []
    if "://" not in text:
        text = "https://" + text
        notes.append("has no scheme, so https:// is assumed")
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in text:
        raise Rejected("not an http(s) URL")
    netloc = parts.netloc
    if "@" in netloc:
        netloc = netloc.rpartition("@")[2]
        notes.append("holds credentials, which were removed (the keys authenticate)")
    path = parts.path.rstrip("/")
    for suffix in LANGFUSE_PATHS:
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            notes.append(f"ends in {suffix}: remove '{suffix}' (turnscope adds the path itself)")
            break
    url = urllib.parse.urlunsplit((parts.scheme, netloc, path, "", ""))
    return Fixed(url, "; ".join(notes)) if notes else url


def _shown_headers(raw: str) -> str:
    """``name=value`` pairs with each value masked: the names say what is configured."""
    pairs = [p.split("=", 1) for p in raw.split(",") if "=" in p]
    return ",".join(f"{k.strip()}={mask(urllib.parse.unquote(v.strip()))}" for k, v in pairs)


# -- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One row of the settings table."""

    name: str
    """The ``Settings`` field, and the ``configure()`` argument when ``argument`` is true."""
    env: tuple[str, ...]
    """Environment variables, read in this order; the first one set (non-empty) wins."""
    cast: Callable[[object], Any]
    """Reads a raw value; raises ``Rejected`` with the reason, or returns ``Fixed``."""
    default: Any
    doc: str
    argument: bool = False
    """Whether ``configure()`` takes it (secrets and the OTel standard variables: no)."""
    secret: bool = False
    """Shown masked everywhere: logs, doctor, reprs."""
    on_reject: Any = None
    """The value used when the given one is rejected: the default unless a row says (a
    privacy switch fails closed)."""
    rejected_means: str = ""
    """What using ``on_reject`` means, said in the warning."""
    show: Callable[[str], str] | None = None
    """How a secret is shown, when masking it whole would hide what a user must recognise."""

    def fallback(self) -> Any:
        return self.default if self.on_reject is None else self.on_reject


# fmt: off
SETTINGS: tuple[Setting, ...] = (
    Setting("db", ("TURNSCOPE_DB",), _store, DEFAULT_DB, argument=True,
            doc="The local store's file; off (or false, no, 0) turns it off. By default on "
                "at .turnscope/turnscope.db unless a remote backend is configured."),
    Setting("capture_content", ("TURNSCOPE_CAPTURE_CONTENT",), _boolean, True, argument=True,
            on_reject=False, rejected_means="content capture off: a privacy switch fails closed",
            doc="Whether transcripts, agent text, prompts and tool arguments reach any sink."),
    Setting("db_max_mb", ("TURNSCOPE_DB_MAX_MB",), _megabytes, 500.0, argument=True,
            doc="Size cap of the local store in MB: the oldest calls are pruned beyond it."),
    Setting("prices", ("TURNSCOPE_PRICES",), _prices, None, argument=True,
            rejected_means="the packaged prices only",
            doc="A price override file (TOML)."),
    Setting("trace_per", ("TURNSCOPE_TRACE_PER",), _choice("turn", "call"), "turn",
            argument=True, doc="One trace per turn (grouped by the session) or per call."),
    Setting("release", ("TURNSCOPE_RELEASE",), _text, None, argument=True,
            doc="Your agent's release: service.version and the Langfuse release."),
    Setting("environment", ("LANGFUSE_TRACING_ENVIRONMENT",), _environment, None,
            argument=True,
            doc="The Langfuse environment (also deployment.environment.name, EMF Environment)."),
    Setting("service_name", ("OTEL_SERVICE_NAME",), _text, "livekit-agent",
            doc="service.name of the spans and EMF's Service dimension."),
    Setting("emf", ("TURNSCOPE_EMF",), _emf_target, None,
            doc="stdout or a file path: one CloudWatch EMF line per turn."),
    Setting("emf_namespace", ("TURNSCOPE_EMF_NAMESPACE",), _text, "VoiceAgent",
            doc="The EMF namespace."),
    Setting("emf_dimensions", ("TURNSCOPE_EMF_DIMENSIONS",), _dimensions, ("Agent",),
            doc="EMF dimensions, from Agent, Service, Environment."),
    Setting("langfuse_public_key", ("LANGFUSE_PUBLIC_KEY",), _key, None, secret=True,
            rejected_means="Langfuse export off", doc="The Langfuse project's pk-lf- key."),
    Setting("langfuse_secret_key", ("LANGFUSE_SECRET_KEY",), _key, None, secret=True,
            rejected_means="Langfuse export off", doc="The Langfuse project's sk-lf- key."),
    Setting("langfuse_base_url", ("LANGFUSE_BASE_URL", "LANGFUSE_HOST"), _langfuse_base,
            DEFAULT_LANGFUSE, on_reject="", rejected_means="Langfuse export off",
            doc="The Langfuse host (the host only: turnscope adds the OTLP path)."),
    Setting("otlp_endpoint", ("OTEL_EXPORTER_OTLP_ENDPOINT",), _text, None,
            doc="Any OTLP backend's base URL: traces to /v1/traces, metrics to /v1/metrics."),
    Setting("otlp_traces_endpoint", ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",), _text, None,
            doc="The OTLP traces URL, used verbatim."),
    Setting("otlp_metrics_endpoint", ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",), _text, None,
            doc="The OTLP metrics URL, used verbatim."),
    Setting("otlp_protocol",
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"),
            _choice("http/protobuf", "grpc"), "http/protobuf",
            doc="The OTLP traces protocol (metrics always go over OTLP/HTTP)."),
    Setting("otlp_headers",
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"), _text, None,
            secret=True, show=_shown_headers,
            doc="key=value,... headers of the OTLP traces requests."),
)
# fmt: on
"""Every setting turnscope reads, in the order ``turnscope doctor`` shows them."""

_ROWS = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Problem:
    """A value turnscope could not use as given: what was given, and what it uses."""

    variable: str
    """Where the value came from: an environment variable, or ``configure(name=…)``."""
    message: str
    """One sentence naming the variable, the value (secrets masked) and the value used."""


@dataclass(frozen=True)
class Settings:
    """Every setting, resolved: see ``SETTINGS`` for what each means."""

    db: Path | None
    capture_content: bool
    db_max_mb: float
    remote_export: bool
    """Whether spans go to a remote backend (Langfuse, OTLP, or a given tracer provider)."""
    prices: str | None = None
    trace_per: Literal["turn", "call"] = "turn"
    release: str | None = None
    environment: str | None = None
    service_name: str = "livekit-agent"
    emf: str | None = None
    emf_namespace: str = "VoiceAgent"
    emf_dimensions: tuple[str, ...] = ("Agent",)
    langfuse_public_key: str | None = field(default=None, repr=False)
    langfuse_secret_key: str | None = field(default=None, repr=False)
    langfuse_base_url: str | None = DEFAULT_LANGFUSE
    otlp_endpoint: str | None = None
    otlp_traces_endpoint: str | None = None
    otlp_metrics_endpoint: str | None = None
    otlp_protocol: str = "http/protobuf"
    otlp_headers: str | None = field(default=None, repr=False)
    origins: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Where each value came from: ``argument``, the environment variable's name, or
    ``default``."""
    problems: tuple[Problem, ...] = ()

    @property
    def langfuse(self) -> bool:
        """Both keys and a usable host: spans and scores go to Langfuse."""
        return bool(
            self.langfuse_public_key and self.langfuse_secret_key and self.langfuse_base_url
        )

    @property
    def otlp_traces_url(self) -> str | None:
        """Where the generic OTLP exporter sends traces (None: no generic OTLP export)."""
        if self.otlp_traces_endpoint:
            return self.otlp_traces_endpoint
        if self.otlp_endpoint:
            if self.otlp_protocol == "grpc":
                return self.otlp_endpoint
            return self.otlp_endpoint.rstrip("/") + "/v1/traces"
        return None

    @property
    def otlp_traces(self) -> bool:
        """Whether traces go to the generic OTLP endpoint: not when it is the Langfuse that
        turnscope already sends to (every trace would arrive twice)."""
        url = self.otlp_traces_url
        return url is not None and not (self.langfuse and aimed_at_langfuse(url, self))

    @property
    def otlp_metrics_url(self) -> str | None:
        """Where metrics go: never to Langfuse, which accepts traces only."""
        if self.otlp_metrics_endpoint:
            url = self.otlp_metrics_endpoint
        elif self.otlp_endpoint:
            url = self.otlp_endpoint.rstrip("/") + "/v1/metrics"
        else:
            return None
        return None if aimed_at_langfuse(url, self) else url


def aimed_at_langfuse(url: str, settings: Settings | None = None) -> bool:
    """Whether ``url`` is a Langfuse endpoint: its OTLP path, a langfuse.com host, or the
    host of the configured ``LANGFUSE_BASE_URL``."""
    parts = urllib.parse.urlsplit(url if "://" in url else "https://" + url)
    host = (parts.hostname or "").lower()
    if "/api/public/otel" in parts.path or host == "langfuse.com" or host.endswith(".langfuse.com"):
        return True
    if settings is None or not settings.langfuse or not settings.langfuse_base_url:
        return False
    base = urllib.parse.urlsplit(settings.langfuse_base_url)
    return (base.hostname, base.port) == (parts.hostname, parts.port)


# -- showing values --------------------------------------------------------------------------


def mask(secret: str) -> str:
    """At most a key's fixed prefix (``pk-lf-``, ``sk-lf-``) and its last four characters,
    and only those of a key long enough that four characters give nothing away."""
    prefix = next((p for p in KEY_PREFIXES if secret.startswith(p)), "")
    rest = secret[len(prefix) :]
    if len(rest) >= 16:
        return f"{prefix}…{rest[-4:]}"
    return f"{prefix}…" if prefix else "****"


def shown_url(url: str) -> str:
    """A URL without the credentials it may hold (``user:password@``)."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))


def _shown(setting: Setting, value: object) -> str:
    if value is None or value == "":
        return "none"
    if setting.secret:
        return setting.show(str(value)) if setting.show else mask(str(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    return shown_url(text) if "://" in text else text


def shown_value(name: str, settings: Settings) -> str:
    """A resolved setting as ``turnscope doctor`` prints it (secrets masked)."""
    return _shown(_ROWS[name], getattr(settings, name))


# -- resolution -----------------------------------------------------------------------------

_configured: dict[str, object] = {}
_configured_lock = threading.Lock()


def _given(setting: Setting, explicit: object) -> tuple[str, object] | None:
    """The value that wins and where it came from: the argument, else the first environment
    variable set (an empty one counts as unset), else None."""
    if explicit is not None:
        return "argument", explicit
    for name in setting.env:
        raw = os.environ.get(name)
        if raw is not None and raw.strip():
            return name, raw
    return None


def _resolve(setting: Setting, explicit: object) -> tuple[Any, str, Problem | None]:
    """The setting's value, where it came from, and what was wrong with the value given."""
    given_at = _given(setting, explicit)
    if given_at is None:
        return setting.default, "default", None
    origin, raw = given_at
    where = f"configure({setting.name}=…)" if origin == "argument" else origin
    if isinstance(raw, str):
        raw_text = raw.strip().strip("'\"").strip() if setting.secret else raw.strip()
        given = _shown(setting, raw_text)
    else:
        given = _shown(setting, raw)
    try:
        value = setting.cast(raw)
    except Rejected as why:
        used = setting.fallback()
        means = f" ({setting.rejected_means})" if setting.rejected_means else ""
        text = f"{where}={given!r} is {why}; using {_shown(setting, used)}{means}"
        return used, origin, Problem(where, text)
    if isinstance(value, Fixed):
        text = f"{where}={given!r} {value.note}; using {_shown(setting, value.value)}"
        return value.value, origin, Problem(where, text)
    return value, origin, None


def _swapped_keys(values: dict[str, Any], problems: list[Problem]) -> None:
    """Keys pasted into each other's variable: used the right way round, and said so."""
    public, secret = values.get("langfuse_public_key"), values.get("langfuse_secret_key")
    if not (isinstance(public, str) and isinstance(secret, str)):
        return
    if public.startswith("sk-lf-") and secret.startswith("pk-lf-"):
        values["langfuse_public_key"], values["langfuse_secret_key"] = secret, public
        problems.append(
            Problem(
                "LANGFUSE_PUBLIC_KEY",
                f"LANGFUSE_PUBLIC_KEY holds the secret key ({mask(public)}) and "
                f"LANGFUSE_SECRET_KEY the public key ({mask(secret)}): the two are swapped; "
                "using them the right way round (swap them where you set them)",
            )
        )
    elif public.startswith("sk-lf-") or secret.startswith("pk-lf-"):
        which = "LANGFUSE_PUBLIC_KEY" if public.startswith("sk-lf-") else "LANGFUSE_SECRET_KEY"
        problems.append(
            Problem(
                which,
                f"{which} holds the wrong kind of key (the public key starts pk-lf-, the "
                "secret key sk-lf-): Langfuse will refuse them",
            )
        )


def _double_export(settings: Settings) -> list[Problem]:
    """OTel variables aimed at Langfuse: traces sent once, metrics not sent there."""
    problems = []
    url = settings.otlp_traces_url
    if url is not None and settings.langfuse and aimed_at_langfuse(url, settings):
        if settings.otlp_traces_endpoint:
            variable, given = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", settings.otlp_traces_endpoint
        else:
            variable, given = "OTEL_EXPORTER_OTLP_ENDPOINT", settings.otlp_endpoint or url
        problems.append(
            Problem(
                variable,
                f"{variable}={shown_url(given)!r} points at Langfuse, which turnscope already "
                "sends to with LANGFUSE_PUBLIC_KEY/LANGFUSE_SECRET_KEY: every trace would "
                f"arrive twice; sending each once, to Langfuse (unset {variable})",
            )
        )
    metrics = settings.otlp_metrics_endpoint or settings.otlp_endpoint
    if metrics and settings.otlp_metrics_url is None:
        variable = (
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
            if settings.otlp_metrics_endpoint
            else "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
        problems.append(
            Problem(
                variable,
                f"{variable}={shown_url(metrics)!r} points at Langfuse, which accepts traces "
                "only: metrics are not sent there (set OTEL_EXPORTER_OTLP_METRICS_ENDPOINT to "
                "a metrics backend to get them)",
            )
        )
    return problems


def _half_langfuse(settings: Settings) -> list[Problem]:
    """Langfuse set up by halves: a key without the other, or a host without keys. Nothing
    goes to Langfuse then, and nothing else would say so outside ``turnscope doctor``."""
    origins = settings.origins
    given = {
        name: origins.get(field, "default") != "default"
        for name, field in (
            ("LANGFUSE_PUBLIC_KEY", "langfuse_public_key"),
            ("LANGFUSE_SECRET_KEY", "langfuse_secret_key"),
        )
    }
    missing = [name for name, set_ in given.items() if not set_]
    if len(missing) == 1:
        (other,) = set(given) - set(missing)
        text = f"{other} is set but {missing[0]} is not: nothing is sent to Langfuse (set both)"
        return [Problem(missing[0], text)]
    host = origins.get("langfuse_base_url", "default")
    if missing and host != "default" and settings.langfuse_base_url:
        shown = shown_url(settings.langfuse_base_url)
        text = (
            f"{host} is set ({shown}) but LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are not: "
            "nothing is sent to Langfuse (set both keys)"
        )
        return [Problem(host, text)]
    return []


def current_settings(*, remote: bool | None = None) -> Settings:
    """Every setting: ``configure()``'s arguments, else the environment, else the defaults.

    ``remote`` says a remote exporter is in use (e.g. a tracer provider was passed); by
    default it is whether Langfuse or an OTLP endpoint is configured. Never raises: a value
    that cannot be used is listed in ``problems`` with the value used instead.
    """
    with _configured_lock:
        explicit = dict(_configured)
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    problems: list[Problem] = []
    for setting in SETTINGS:
        value, origin, problem = _resolve(setting, explicit.get(setting.name))
        values[setting.name], origins[setting.name] = value, origin
        if problem is not None:
            problems.append(problem)
    _swapped_keys(values, problems)
    if values["langfuse_base_url"] == "":
        values["langfuse_base_url"] = None
    settings = Settings(remote_export=False, origins=origins, **values)
    if remote is None:
        remote = settings.langfuse or settings.otlp_traces
    # a remote backend is the record; the store is then on only when asked for
    db = None if origins["db"] == "default" and remote else settings.db
    settings = replace(settings, remote_export=remote, db=db)
    found = (*problems, *_double_export(settings), *_half_langfuse(settings))
    return replace(settings, problems=found)


_reported: set[str] = set()


def report_problems(settings: Settings) -> None:
    """Log each problem once per process (``instrument()`` and ``configure()`` call it)."""
    for problem in settings.problems:
        with _configured_lock:
            if problem.message in _reported:
                continue
            _reported.add(problem.message)
        logger.warning("turnscope: %s", problem.message)


def configure(
    *,
    db: str | os.PathLike[str] | None = None,
    capture_content: bool | None = None,
    db_max_mb: float | str | None = None,
    prices: str | os.PathLike[str] | None = None,
    trace_per: Literal["turn", "call"] | None = None,
    release: str | None = None,
    environment: str | None = None,
) -> None:
    """Set process-wide options in code; each overrides its environment variable.

    Args:
        db: the local store's file (``"off"`` turns it off) — ``TURNSCOPE_DB``.
        capture_content: keep transcripts, agent text and tool arguments —
            ``TURNSCOPE_CAPTURE_CONTENT``.
        db_max_mb: the store's size cap in MB (a number, or a string holding one) —
            ``TURNSCOPE_DB_MAX_MB``.
        prices: a price override file — ``TURNSCOPE_PRICES``.
        trace_per: ``"turn"`` or ``"call"`` — ``TURNSCOPE_TRACE_PER``.
        release: your agent's release — ``TURNSCOPE_RELEASE``.
        environment: the Langfuse environment — ``LANGFUSE_TRACING_ENVIRONMENT``.

    Never raises: a value that cannot be used is logged once, naming the argument, the
    value and the value used instead (the default; for ``capture_content``, off).
    """
    given = {
        "db": db,
        "capture_content": capture_content,
        "db_max_mb": db_max_mb,
        "prices": prices,
        "trace_per": trace_per,
        "release": release,
        "environment": environment,
    }
    with _configured_lock:
        _configured.update({k: v for k, v in given.items() if v is not None})
    report_problems(current_settings())


def resolve_db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Where the store is read from by the CLI: ``--db``, else ``TURNSCOPE_DB``, else the
    default. (``off`` means nothing to read; the caller reports it.)"""
    if explicit is not None:
        return Path(explicit)
    db = current_settings(remote=False).db
    return db if db is not None else DEFAULT_DB
