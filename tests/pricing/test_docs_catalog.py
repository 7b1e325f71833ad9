"""docs/pricing.md lists the catalog exactly as `turnscope prices --markdown` renders it."""

from __future__ import annotations

import re
from pathlib import Path

from turnscope.cli.prices import catalog_markdown
from turnscope.pricing import load_catalog

PAGE = Path(__file__).parents[2] / "docs" / "pricing.md"


def test_the_pricing_page_lists_the_catalog_as_it_is() -> None:
    found = re.search(r"<!-- catalog:.*?-->\n(.*?)<!-- /catalog -->", PAGE.read_text(), re.S)
    assert found is not None, "docs/pricing.md lost its catalog markers"
    catalog = load_catalog()
    assert found[1] == catalog_markdown(catalog), (
        "docs/pricing.md is out of date: paste `turnscope prices --markdown` between the markers"
    )
    for price in catalog.entries():
        assert price.source in found[1]
