"""The single-file HTML report: our template, Chart.js and the data, inlined and locked down.

A call's words are data, never markup. They reach the page only as JSON inside a
``<script type="application/json">`` block, with ``<``, ``>``, ``&``, U+2028 and U+2029
written as ``\\uXXXX`` so no text can close the block or start a comment; the page's own
script reads them with ``JSON.parse`` and puts them into the DOM with ``textContent``.
The one place the template takes text directly (the title) is HTML-escaped. A
Content-Security-Policy allows only the exact scripts and stylesheet of this file (by
hash) and no network at all, so even a mistake above could not run or fetch anything.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
import re
from importlib import resources
from typing import Any

__all__ = ["CHARTJS_VERSION", "render_html", "script_json"]

CHARTJS_VERSION = "4.6.1"

_JSON_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)
_SLOT = re.compile(r"\{\{(\w+)\}\}")
_SOURCE_MAP = re.compile(r"\n//# sourceMappingURL=\S+\s*$")


def script_json(payload: Any) -> str:
    """JSON that is inert inside a ``<script>`` element and valid for ``JSON.parse``."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).translate(_JSON_ESCAPES)


def _asset(name: str) -> str:
    return (resources.files("turnscope.report") / "assets" / name).read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


@functools.lru_cache(maxsize=1)
def _static() -> dict[str, str]:
    """The template and the page's own code, with the policy that admits exactly them."""
    # The source map comment would make developer tools fetch a file that is not there.
    chartjs = _SOURCE_MAP.sub("\n", _asset("vendor/chart.umd.min.js"))
    app = _asset("report.js")
    style = _asset("report.css")
    policy = "; ".join(
        (
            "default-src 'none'",
            f"script-src {_sha256(chartjs)} {_sha256(app)}",
            f"style-src {_sha256(style)}",
            "base-uri 'none'",
            "form-action 'none'",
        )
    )
    return {
        "template": _asset("report.html"),
        "chartjs": chartjs,
        "app": app,
        "style": style,
        "csp": html.escape(policy, quote=True),
    }


def render_html(payload: dict[str, Any], *, title: str) -> str:
    """The whole report as one HTML document (no external resource of any kind)."""
    static = _static()
    slots = {
        "csp": static["csp"],
        "title": html.escape(title, quote=True),
        "style": static["style"],
        "data": script_json(payload),
        "chartjs": static["chartjs"],
        "app": static["app"],
    }
    # One pass over the template only: nothing inserted is ever searched for slots again.
    return _SLOT.sub(lambda m: slots[m[1]], static["template"])
