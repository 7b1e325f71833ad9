"""Prices: LLM tokens from genai-prices, STT audio and TTS characters from our catalog.

A model without a known price is *unpriced*, never $0: its cost is ``None`` and the model is
listed, so a report can say what it could not price.
"""

from __future__ import annotations

from turnscope.pricing.catalog import Catalog, CatalogError, UnitPrice, load_catalog
from turnscope.pricing.pricer import (
    CallTotals,
    Pricer,
    prewarm,
    price_call,
    price_turn,
    shared_pricer,
)

__all__ = [
    "CallTotals",
    "Catalog",
    "CatalogError",
    "Pricer",
    "UnitPrice",
    "load_catalog",
    "prewarm",
    "price_call",
    "price_turn",
    "shared_pricer",
]
