"""What every command shares: the store options, the call filters and one-line errors."""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from turnscope.config import current_settings, resolve_db_path
from turnscope.report.budgets import BudgetError
from turnscope.report.filters import CallFilter, FilterError, parse_when
from turnscope.report.lookup import AmbiguousCall
from turnscope.report.numbers import rounded
from turnscope.store import StoreError, open_for_reading
from turnscope.store.union import open_union

__all__ = [
    "FilePath",
    "db_option",
    "dbs_option",
    "echo_json",
    "fail",
    "filter_options",
    "one_call_alone",
    "one_line_errors",
    "read_store",
    "read_stores",
]

F = TypeVar("F", bound=Callable[..., Any])


class FilePath(click.Path):
    """A file's path, as ``click.Path(dir_okay=False)``; an empty one is refused as such
    (click would take ``''`` for the current folder, and the error would be about that)."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("the path is empty; name a file", param, ctx)
        return super().convert(value, param, ctx)


db_option = click.option(
    "--db",
    type=FilePath(),
    default=None,
    help="The store file (default: $TURNSCOPE_DB, else .turnscope/turnscope.db).",
)


dbs_option = click.option(
    "--db",
    "dbs",
    multiple=True,
    type=FilePath(),
    help="The store file (default: $TURNSCOPE_DB, else .turnscope/turnscope.db); repeat it to "
    "read several stores as one.",
)

_FILTERS = (
    click.option("--since", help="Calls from this time on: an age (2h, 7d) or a local date/time."),
    click.option("--until", help="Calls before this time: an age (2h, 7d) or a local date/time."),
    click.option("--user", "users", multiple=True, help="Only this user's calls (repeatable)."),
    click.option("--session", "sessions", multiple=True, help="Only this session (repeatable)."),
    click.option("--tag", "tags", multiple=True, help="Only calls with this tag (repeat: all)."),
    click.option(
        "--agent", "agents", multiple=True, help="Only calls this agent spoke in (repeatable)."
    ),
)


def filter_options(command: F) -> F:
    """Add the shared call filters to a command; it receives them as ``filters``."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            since, until = kwargs.pop("since"), kwargs.pop("until")
            filters = CallFilter(
                since=parse_when(since) if since else None,
                until=parse_when(until) if until else None,
                users=tuple(kwargs.pop("users")),
                sessions=tuple(kwargs.pop("sessions")),
                tags=tuple(kwargs.pop("tags")),
                agents=tuple(kwargs.pop("agents")),
            )
        except FilterError as error:
            fail(str(error), code=2)
        return command(*args, filters=filters, **kwargs)

    for option in reversed(_FILTERS):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


def echo_json(payload: dict[str, Any]) -> None:
    """A reading command's ``--json``: its floats rounded to ``JSON_DECIMALS`` places (the
    measurement, without binary noise such as ``2.9999999999999997e-05``); values JSON has
    no type for (a path) as text."""
    click.echo(json.dumps(rounded(payload), indent=2, default=str))


def one_call_alone(call_id: str | None, last: int | None, filters: CallFilter) -> None:
    """``--call`` names one call: with ``--last`` or a filter beside it, one of them would be
    ignored in silence (the user meant something); refuse, exit 2."""
    if call_id is not None and (last is not None or filters.active):
        beside = "--last" if last is not None else "a filter"
        fail(f"--call names one call: {beside} does not apply to it (give one or the other)", 2)


def fail(message: str, code: int = 1) -> None:
    click.echo(f"turnscope: {message}", err=True)
    raise SystemExit(code)


def one_line_errors(command: F) -> F:
    """Turn the errors a user can cause into one line and an exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (BudgetError, AmbiguousCall) as error:
            fail(str(error), code=2)
        except StoreError as error:
            fail(str(error))
        except sqlite3.Error as error:
            fail(f"cannot read the store: {error}")
        except BrokenPipeError:  # `turnscope prices | head`: click ends quietly, exit 1
            raise
        except OSError as error:
            fail(str(error))
        return None

    return wrapper  # type: ignore[return-value]


def read_store(db: Path | None) -> sqlite3.Connection:
    """The store ``--db`` names, else TURNSCOPE_DB's, else the default; a store that cannot
    be read says where its path came from when the environment gave it."""
    if db is not None:
        return open_for_reading(db)
    settings = current_settings(remote=False)
    origin = settings.origins.get("db", "default")
    try:
        return open_for_reading(resolve_db_path())
    except StoreError as error:
        if settings.db is None or origin in ("default", "argument"):
            raise
        raise StoreError(f"{origin}: {error}") from None


def read_stores(dbs: tuple[Path, ...]) -> sqlite3.Connection:
    """One store, or the union of several (``--db`` repeated)."""
    if not dbs:
        return read_store(None)
    return open_union([resolve_db_path(db) for db in dbs])
