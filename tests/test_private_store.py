"""Tests never write into the user's ./.turnscope, whatever the scope of their fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from turnscope.config import DEFAULT_DB
from turnscope.instrument import default_sinks
from turnscope.store.writer import LocalStore


@pytest.fixture(scope="module")
def module_sinks() -> list[object]:
    """Built before any function-scoped fixture runs, as a module's simulated call is."""
    return list(default_sinks())


def test_a_module_scoped_fixture_gets_the_sessions_store_not_the_users(
    module_sinks: list[object], session_store: Path
) -> None:
    (store,) = [s for s in module_sinks if isinstance(s, LocalStore)]
    assert store.path == session_store
    assert store.path.resolve() != (Path.cwd() / DEFAULT_DB).resolve()
