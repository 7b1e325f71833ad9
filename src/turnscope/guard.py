"""One guard for turnscope's own errors: telemetry must never break the agent.

An internal error (a bug of ours, an odd object from a plugin) is logged once per part and
kind, with its traceback trimmed to turnscope's frames, and the agent goes on. Under
turnscope's own test suite (``raise_internal_errors(True)``, set by its conftest) the same
errors are kept in ``caught`` and set-up errors re-raised, so a test sees them instead of a
log line nobody reads.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["caught", "guarded", "log_internal_error", "raise_internal_errors"]

logger = logging.getLogger("turnscope")

_PACKAGE = str(Path(__file__).parent)
_logged: set[tuple[str, str]] = set()
_lock = threading.Lock()
_strict = False

caught: list[BaseException] = []
"""Internal errors seen while ``raise_internal_errors`` is on (the test suite checks it)."""


def raise_internal_errors(on: bool) -> None:
    """Turn test-suite strictness on or off (turnscope's own tests only)."""
    global _strict
    _strict = on


def strict() -> bool:
    return _strict


def _our_frames(error: BaseException) -> str:
    """The traceback's frames inside turnscope (all of them if none is)."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if f.filename.startswith(_PACKAGE)] or frames
    return "".join(traceback.format_list(ours)).rstrip()


def log_internal_error(error: BaseException, part: str) -> None:
    """Log ``error`` once per part and kind, saying the agent is unaffected; under the test
    suite, keep it in ``caught``."""
    if _strict:
        caught.append(error)
    key = (part, type(error).__name__)
    with _lock:
        if key in _logged:
            return
        _logged.add(key)
    logger.warning(
        "turnscope: internal error in %s (%s: %s); left out, the agent is unaffected. "
        "Please report it.\n%s",
        part,
        type(error).__name__,
        error,
        _our_frames(error),
    )


@contextlib.contextmanager
def guarded(part: str) -> Iterator[None]:
    """Run a part of turnscope's set-up; if it fails, log it and go on without it (re-raise
    under the test suite)."""
    try:
        yield
    except Exception as error:
        log_internal_error(error, part)
        if _strict:
            raise
