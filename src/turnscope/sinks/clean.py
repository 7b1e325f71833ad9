"""Records made safe for every sink, in one place, before any sink sees them.

Anything in a record came from the agent: transcripts streamed in chunks (an emoji split
across two chunks leaves a lone surrogate, which UTF-8 cannot encode), plugin-reported
counts, user metadata. One such value must never kill a sink's worker or fail a whole batch:
SQLite refuses a lone surrogate and any integer beyond 64 bits, the OTLP encoder refuses
the same, JSON refuses NaN. So, before the sinks, ``clean`` makes text valid (each lone
surrogate becomes U+FFFD, the replacement character) and leaves out what no sink can hold
as a measurement (an integer beyond signed 64 bits, a non-finite float): it becomes ``None``,
absent — or, for a count that is never null, its default (0, "not reported"). Each sink
still isolates a record that fails for another reason.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import threading
from typing import Any, TypeVar

__all__ = ["INT64_MAX", "INT64_MIN", "clean", "clean_text", "repaired"]

logger = logging.getLogger("turnscope")

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
"""The range of SQLite's INTEGER and of OTLP's int attributes (both signed 64-bit)."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_T = TypeVar("_T")

_lock = threading.Lock()
_repairs = [0]


def repaired() -> int:
    """How many values ``clean`` has repaired or left out in this process."""
    return _repairs[0]


def _note_repair() -> None:
    with _lock:
        _repairs[0] += 1
        first = _repairs[0] == 1
    if first:
        logger.warning(
            "turnscope: a record held a value no sink can store (a lone surrogate in text, an "
            "integer beyond 64 bits or a non-finite number): the text was repaired with U+FFFD, "
            "the number left out. Recording goes on."
        )


def clean_text(text: str) -> str:
    """``text`` as valid Unicode: each lone surrogate replaced by U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        _note_repair()
        return _SURROGATE.sub("\ufffd", text)
    return text


_fields: dict[type, tuple[tuple[str, Any], ...]] = {}


def _field_defaults(kind: type) -> tuple[tuple[str, Any], ...]:
    """Each field's name and its default (None when it has none)."""
    found = _fields.get(kind)
    if found is None:
        found = _fields[kind] = tuple(
            (f.name, None if f.default is dataclasses.MISSING else f.default)
            for f in dataclasses.fields(kind)
            if f.init
        )
    return found


def clean(value: _T) -> _T:
    """``value`` (a record, or anything inside one) with every string valid and every
    number storable; the same object when nothing needed repair."""
    return _clean(value)  # type: ignore[no-any-return]


def _clean(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, int):
        if INT64_MIN <= value <= INT64_MAX:
            return value
        _note_repair()
        return None
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        _note_repair()
        return None
    if isinstance(value, (tuple, list)):
        items = [_clean(item) for item in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return type(value)(items)
    if isinstance(value, dict):
        pairs = [(_clean(k), _clean(v)) for k, v in value.items()]
        if all(a is k and b is v for (a, b), (k, v) in zip(pairs, value.items(), strict=True)):
            return value
        return dict(pairs)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _clean_record(value)
    return value


def _clean_record(record: Any) -> Any:
    changes = {}
    for name, default in _field_defaults(type(record)):
        old = getattr(record, name)
        new = _clean(old)
        if new is not old:
            # a count that is never null (tokens, characters) falls back to its default:
            # 0, which is what "not reported" already is for it
            changes[name] = default if new is None else new
    return dataclasses.replace(record, **changes) if changes else record
