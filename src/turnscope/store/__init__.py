"""The local SQLite store: one file, shared by every process that writes it.

LiveKit runs each job in its own process, so several processes write one file at once:
the store uses WAL (readers never block the writer) and a ``busy_timeout`` (writers wait
their turn instead of failing). The schema is created and evolved by numbered migrations,
recorded in the file itself and applied on open.
"""

from __future__ import annotations

import os
import sqlite3
import time
from typing import TYPE_CHECKING

from turnscope.store.histograms import ensure as ensure_histograms
from turnscope.store.migrations import AFTER, MIGRATIONS

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "StoreError",
    "connect",
    "open_for_reading",
    "open_for_writing",
    "why_unwritable",
]

BUSY_TIMEOUT_MS = 10_000

GITIGNORE = "# created by turnscope: the store holds transcripts\n*\n"
"""Written into a store folder turnscope creates, so ``git add .`` leaves it out."""


class StoreError(Exception):
    """The store cannot be used; the message says why in one line."""


def connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return connection


SQLITE_HEADER = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file."""


def open_for_writing(path: Path) -> sqlite3.Connection:
    """Open and migrate the store, creating it (and its folder) private to the user.

    Only what turnscope creates is made private (file 0600, folder 0700): an existing file or
    folder keeps its mode. Raises StoreError, in one line, when ``path`` is a folder, a file
    that is not SQLite (a ``.env``), or another program's SQLite database.
    """
    folder = path.parent
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        # the folder is ours and holds transcripts: never committed by accident
        (folder / ".gitignore").write_text(GITIGNORE)
    _refuse_folder(path)
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(descriptor)
    except FileExistsError:
        _refuse_foreign_file(path)
    connection = connect(path)
    try:
        _refuse_foreign_database(connection, path)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        migrate(connection)
        ensure_histograms(connection)
    except BaseException:
        connection.close()
        raise
    return connection


def why_unwritable(path: Path) -> str | None:
    """Why the store could not be written at ``path`` (a folder, or a file that is not
    SQLite), in the words ``open_for_writing`` would raise; None when nothing there stands in
    the way. Creates nothing and reads at most a file's first 16 bytes (``turnscope doctor``)."""
    try:
        _refuse_folder(path)
        if path.is_file():
            _refuse_foreign_file(path)
    except StoreError as error:
        return str(error)
    except OSError as error:
        return f"{path} cannot be read ({error.strerror or error})"
    return None


def _refuse_folder(path: Path) -> None:
    if path.is_dir():
        raise StoreError(
            f"{path} is a folder; point TURNSCOPE_DB at a file (e.g. {path}/turnscope.db)"
        )


def _refuse_foreign_file(path: Path) -> None:
    with open(path, "rb") as file:
        header = file.read(len(SQLITE_HEADER))
    if header and header != SQLITE_HEADER:
        raise StoreError(
            f"{path} exists and is not a SQLite file; turnscope will not write into it "
            "(point TURNSCOPE_DB at a new file)"
        )


def _refuse_foreign_database(connection: sqlite3.Connection, path: Path) -> None:
    """A database with tables but no turnscope schema is another program's. Only an empty
    ``schema_migrations`` is ours: another process creating the store at this moment (it
    makes that table, then each migration in its own transaction; ``migrate`` waits for it)."""
    if schema_version(connection) > 0:
        return
    names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    if names - {"schema_migrations"}:
        raise StoreError(
            f"{path} is another program's SQLite database; turnscope will not write into it "
            "(point TURNSCOPE_DB at a new file)"
        )


def open_for_reading(path: Path, *, upgrade: bool = True) -> sqlite3.Connection:
    """Open an existing store read-only, upgraded first when an older turnscope wrote it;
    StoreError if there is none, or it cannot be read."""
    if path.is_dir():
        raise StoreError(f"{path} is a folder; name the store's file (e.g. {path}/turnscope.db)")
    if not path.is_file():
        raise StoreError(
            f"no turnscope store at {path} (run `turnscope demo`, or set TURNSCOPE_DB)"
        )
    try:
        connection = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000
        )
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = schema_version(connection)
    except sqlite3.DatabaseError as error:
        raise StoreError(f"{path} is not a turnscope store ({error})") from None
    if version == 0:
        raise StoreError(f"{path} is not a turnscope store (it has no turnscope schema)")
    if version > len(MIGRATIONS):
        raise StoreError(f"{path} was written by a newer turnscope; upgrade to read it")
    if version < len(MIGRATIONS) and upgrade:
        connection.close()
        _upgrade(path, version)
        return open_for_reading(path, upgrade=False)
    return connection


def _upgrade(path: Path, version: int) -> None:
    """Migrate a store an older turnscope wrote, as its next write would: the readers query
    today's columns (a report over last month's store must not fail on a column added
    since). Migrations only add (10 moves state changes from `events` into their calls'
    rows, losing nothing), each in its own transaction."""
    try:
        open_for_writing(path).close()
    except (OSError, sqlite3.Error) as error:
        raise StoreError(
            f"{path} was written by an older turnscope (schema {version}, this one reads "
            f"{len(MIGRATIONS)}) and could not be upgraded ({error}); read a writable copy "
            "of it"
        ) from None


def schema_version(connection: sqlite3.Connection) -> int:
    exists = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if not exists:
        return 0
    row = connection.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


def migrate(connection: sqlite3.Connection) -> None:
    """Apply every migration the file lacks, each in its own transaction."""
    connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, applied_at REAL)"
    )
    for version, script in enumerate(MIGRATIONS, start=1):
        if schema_version(connection) >= version:
            continue
        connection.execute("BEGIN IMMEDIATE")
        try:
            if schema_version(connection) < version:  # another process may have won the race
                for statement in script.split(";\n"):
                    if statement.strip():
                        connection.execute(statement)
                if version in AFTER:
                    AFTER[version](connection)
                connection.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    (version, time.time()),
                )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
