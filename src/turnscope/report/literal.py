"""Text from a call, shown literally in a terminal.

Transcripts, tool arguments, error messages, ids and model names come from callers, LLMs
and plugins: untrusted. Rendered as rich markup, ``[/bold]`` raises and ``[link=…]`` makes a
live hyperlink; printed raw, an escape sequence (ESC, CSI, OSC 8 hyperlinks, a window
title) or a carriage return reaches the terminal, through a pipe too. ``literal`` is the one
way such text reaches a terminal: a ``rich.text.Text`` (never parsed as markup) with every
control character shown as a visible ``\\xNN`` / ``\\uNNNN`` escape. Newlines stay (a long
reply may have paragraphs); so do tabs, which rich turns into spaces.
"""

from __future__ import annotations

import re
import unicodedata

from rich.text import Text

__all__ = ["literal", "visible"]

_KEPT = {"\n", "\t"}
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
"""C0 and C1 controls, DEL, line/paragraph separators and the bidirectional overrides
(text that would reorder what is shown around it)."""


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: object) -> str:
    """``value`` as a plain string with every control character escaped visibly."""
    text = "" if value is None else str(value)
    text = _CONTROL.sub(_escape, text)
    # Lone surrogates cannot be encoded for the terminal: show them as escapes too.
    return (
        "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) == "Cs" else c for c in text)
        if _has_surrogate(text)
        else text
    )


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def literal(value: object, style: str = "") -> Text:
    """``value`` as rich Text that is shown exactly as written (see the module docstring)."""
    return Text(visible(value), style=style)
