"""What every command shares: the store option and one-line errors."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from turnscope.config import resolve_db_path
from turnscope.report.budgets import BudgetError
from turnscope.store import StoreError, open_for_reading

__all__ = ["db_option", "fail", "one_line_errors", "read_store"]

F = TypeVar("F", bound=Callable[..., Any])

db_option = click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The store file (default: $TURNSCOPE_DB, else .turnscope/turnscope.db).",
)


def fail(message: str, code: int = 1) -> None:
    click.echo(f"turnscope: {message}", err=True)
    raise SystemExit(code)


def one_line_errors(command: F) -> F:
    """Turn the errors a user can cause into one line and an exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except BudgetError as error:
            fail(str(error), code=2)
        except StoreError as error:
            fail(str(error))
        except sqlite3.Error as error:
            fail(f"cannot read the store: {error}")
        except OSError as error:
            fail(str(error))
        return None

    return wrapper  # type: ignore[return-value]


def read_store(db: Path | None) -> sqlite3.Connection:
    return open_for_reading(resolve_db_path(db))
