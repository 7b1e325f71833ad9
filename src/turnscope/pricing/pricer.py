"""What each request, turn and call cost, in USD.

LLM tokens are priced by genai-prices (cached and cache-write tokens at their own rates) unless
an override prices the model; STT audio and TTS characters by the catalog. Whatever has no
price stays unpriced — ``None`` and named — never a silent $0.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from turnscope.pricing.linear import FIELDS, LinearRates, linear_rates
from turnscope.recording import plausibility as pl
from turnscope.records import MODEL_KINDS, CallCost, TurnCost

if TYPE_CHECKING:
    from turnscope.pricing.catalog import Catalog, LLMPrice
    from turnscope.records import Call, ComponentRequest, Turn

__all__ = ["CallTotals", "Pricer", "prewarm", "price_call", "price_turn", "shared_pricer"]

_PROVIDER_IDS = {
    # LiveKit plugins report some providers by their API host
    "api.openai.com": "openai",
    "api.anthropic.com": "anthropic",
    "api.groq.com": "groq",
    "api.deepseek.com": "deepseek",
    "api.mistral.ai": "mistral",
    "api.x.ai": "x-ai",
    "generativelanguage.googleapis.com": "google",
    "azure openai": "azure",
    "gemini": "google",
}


_INFERENCE_VENDORS = {"xai": "x-ai", "deepseek-ai": "deepseek"}
"""LiveKit Inference's vendor prefixes that genai-prices spells differently."""


def model_label(provider: str | None, model: str | None) -> str:
    return f"{provider or 'unknown'}/{model or 'unknown'}"


@dataclass(frozen=True, slots=True)
class _ModelPricing:
    price: Any
    """genai-prices' ``ModelPrice``."""
    rates: LinearRates | None
    """Its per-token rates when it is linear (untiered): the fast path."""


def _usage(counts: tuple[int, ...]) -> Any:
    from genai_prices import Usage

    return Usage(**dict(zip(FIELDS, counts, strict=True)))


class Pricer:
    """Looks prices up once per model and prices requests; safe to share across threads."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._models: dict[tuple[str, str], _ModelPricing | None] = {}
        self._lock = threading.Lock()

    # -- LLM -------------------------------------------------------------------------------

    def _model_price(self, provider: str | None, model: str | None) -> _ModelPricing | None:
        key = ((provider or "").lower(), (model or "").lower())
        with self._lock:
            if key in self._models:
                return self._models[key]
        price = _genai_model_price(provider, model)
        found = _ModelPricing(price, linear_rates(price)) if price is not None else None
        with self._lock:
            self._models[key] = found
        return found

    def model_price(self, provider: str | None, model: str | None) -> Any:
        """genai-prices' price for an LLM or realtime model, or None: it is unpriced."""
        found = self._model_price(provider, model)
        return found.price if found is not None else None

    def llm(self, r: ComponentRequest) -> tuple[float | None, dict[str, float]]:
        """USD for one LLM request or realtime response and its split (input, output,
        total); None: unpriced. Audio tokens are priced at their own rates."""
        override = self.catalog.llm_price(r.provider, r.model)
        if override is not None:
            return _override_cost(override, r)
        pricing = self._model_price(r.provider, r.model)
        if pricing is None:
            return None, {}
        counts = (
            r.prompt_tokens,
            r.cached_tokens,
            r.cache_creation_tokens,
            r.input_audio_tokens,
            r.cached_audio_tokens,
            r.completion_tokens,
            r.output_audio_tokens,
        )
        if pricing.rates is not None:
            usd_in, usd_out = pricing.rates.price(counts)
        else:
            try:
                result = pricing.price.calc_price(_usage(counts))
            except (ValueError, ArithmeticError):
                return None, {}
            usd_in, usd_out = float(result["input_price"]), float(result["output_price"])
        return usd_in + usd_out, {"input": usd_in, "output": usd_out, "total": usd_in + usd_out}

    # -- STT / TTS -----------------------------------------------------------------------------

    def stt_seconds(
        self,
        provider: str | None,
        model: str | None,
        seconds: float,
        *,
        streamed: bool | None = None,
    ) -> float | None:
        """USD for metered STT audio that is not one whole request (a stream's audio, the
        call's idle audio): no per-request rounding; the streaming price where a model has
        two."""
        price = self.catalog.unit_price("stt", provider, model, streamed=streamed)
        if price is None:
            return None
        return price.cost(seconds, whole_request=False)

    def stt(self, r: ComponentRequest) -> float | None:
        """USD for a turn's share of one STT usage report. A report that is not part of a
        stream is one billed request: it is rounded up to its provider's increment (and
        minimum), and the turn pays its share of the rounded amount."""
        price = self.catalog.unit_price("stt", r.provider, r.model, streamed=r.streamed)
        if price is None:
            return None
        metered = max(r.metered_audio, r.audio_duration)
        if r.streamed or metered <= 0:
            return price.cost(r.audio_duration, whole_request=False)
        return price.cost(metered, whole_request=True) * (r.audio_duration / metered)

    def tts(self, r: ComponentRequest) -> float | None:
        """USD for one synthesis request, rounded as its provider bills a request."""
        price = self.catalog.unit_price("tts", r.provider, r.model, streamed=r.streamed)
        if price is None:
            return None
        quantity = r.characters if price.per == "character" else r.audio_duration
        return price.cost(quantity, whole_request=True)

    def request(self, r: ComponentRequest) -> ComponentRequest:
        """The request with its cost: None with a reason when its usage is not a
        measurement (``r.unknown`` names ``cost_usd``) or its model has no price; a cost
        that comes out negative is never kept (None, flagged suspect)."""
        if any(f == "cost_usd" for f, _ in r.unknown):
            return replace(r, cost_usd=None, cost_details=())
        if r.kind in MODEL_KINDS:
            usd, details = self.llm(r)
        elif r.kind == "tts":
            usd = self.tts(r)
            details = {"total": usd} if usd is not None else {}
        else:
            usd = self.stt(r)
            details = {"total": usd} if usd is not None else {}
        if usd is None:
            unknown = (*r.unknown, ("cost_usd", pl.UNPRICED))
            return replace(r, cost_usd=None, cost_details=(), unpriced=True, unknown=unknown)
        usd, negative = pl.non_negative("cost_usd", usd)
        if negative is not None:
            return replace(r, cost_usd=None, cost_details=(), suspect=(*r.suspect, negative))
        return replace(r, cost_usd=usd, cost_details=tuple(details.items()))


def _override_cost(price: LLMPrice, r: ComponentRequest) -> tuple[float, dict[str, float]]:
    fresh = max(0, r.prompt_tokens - r.cached_tokens - r.cache_creation_tokens)
    cached_rate = price.cached_input if price.cached_input is not None else price.input
    write_rate = price.cache_write if price.cache_write is not None else price.input
    input_usd = (
        fresh * price.input + r.cached_tokens * cached_rate + r.cache_creation_tokens * write_rate
    ) / 1e6
    output_usd = r.completion_tokens * price.output / 1e6
    return input_usd + output_usd, {
        "input": input_usd,
        "output": output_usd,
        "total": input_usd + output_usd,
    }


def _genai_model_price(provider: str | None, model: str | None) -> Any:
    """genai-prices' price for a model, or None when it does not know it."""
    if not model:
        return None
    from genai_prices import Usage, calc_price

    provider_id = _PROVIDER_IDS.get((provider or "").lower(), (provider or "").lower() or None)
    if provider_id == "livekit" and "/" in model:
        # LiveKit Inference ("openai/gpt-4o-mini") passes LLM tokens through at the model
        # provider's rates (livekit.com/pricing/inference as read by secondary sources,
        # 2026-09; see catalog.toml's header)
        vendor, model = model.split("/", 1)
        provider_id = _INFERENCE_VENDORS.get(vendor, vendor)
    for candidate in (provider_id, None):
        try:
            return calc_price(
                Usage(input_tokens=0), model_ref=model, provider_id=candidate
            ).model_price
        except (LookupError, ValueError):
            continue
    return None


def price_turn(turn: Turn, pricer: Pricer) -> Turn:
    """The turn with every request priced and its cost summed by component. What has no
    price is listed (``unpriced``), what has no usage or a suspect cost too
    (``uncounted``); neither is counted, and a turn where nothing was priced has no total
    (never a $0 that looks like a price)."""
    requests = tuple(pricer.request(r) for r in turn.requests)
    by_component: dict[str, float] = {}
    unpriced: list[str] = []
    uncounted: list[str] = []
    discarded = 0.0
    for r in requests:
        if r.cost_usd is None:
            label = f"{r.kind}:{model_label(r.provider, r.model)}"
            if r.unpriced:
                unpriced.append(label)
            else:
                uncounted.append(f"{label} ({_why_uncounted(r)})")
            continue
        by_component[r.kind] = by_component.get(r.kind, 0.0) + r.cost_usd
        if r.discarded:
            discarded += r.cost_usd
    nothing_priced = not by_component and bool(unpriced or uncounted)
    cost = TurnCost(
        total=None if nothing_priced else sum(by_component.values()),
        by_component=tuple(sorted(by_component.items())),
        discarded=discarded,
        unpriced=tuple(dict.fromkeys(unpriced)),
        uncounted=tuple(dict.fromkeys(uncounted)),
    )
    unknown = turn.unknown
    if nothing_priced:
        reason = pl.UNPRICED if unpriced else _why_uncounted(requests[0])
        unknown = (*unknown, ("cost_usd", reason))
    return replace(turn, requests=requests, cost=cost, unknown=unknown)


def _why_uncounted(r: ComponentRequest) -> str:
    reasons = dict(r.unknown)
    if "cost_usd" in reasons:
        return reasons["cost_usd"]
    return r.suspect[-1].reason if r.suspect else pl.UNPRICED


class CallTotals:
    """A call's costs so far, summed as its priced turns go by."""

    def __init__(self) -> None:
        self.by_component: dict[str, float] = {}
        self.by_model: dict[str, float] = {}
        self.unpriced: list[str] = []
        self.uncounted = 0
        """Requests with no usage or a suspect cost: not counted, not unpriced either."""

    def add(self, turn: Turn) -> None:
        for r in turn.requests:
            label = model_label(r.provider, r.model)
            if r.cost_usd is None:
                if r.unpriced:
                    self.unpriced.append(f"{r.kind}:{label}")
                else:
                    self.uncounted += 1
                continue
            self.by_component[r.kind] = self.by_component.get(r.kind, 0.0) + r.cost_usd
            self.by_model[label] = self.by_model.get(label, 0.0) + r.cost_usd


def price_call(call: Call, totals: CallTotals, pricer: Pricer) -> Call:
    """The call with its total: every turn's cost plus the STT audio that fell in no turn."""
    by_component = dict(totals.by_component)
    by_model = dict(totals.by_model)
    unpriced = list(totals.unpriced)
    idle: float | None = 0.0
    over_metered = any(s.reason == pl.OVER_METERED for s in call.suspect)
    unknown = list(call.unknown)
    for provider, model, _total, idle_seconds in call.stt_by_model:
        label = model_label(provider, model)
        if over_metered:  # the plugin over-reported: its idle audio is not priced blindly
            idle = None
            unknown.append(("cost_idle_stt", pl.OVER_METERED))
            continue
        usd = pricer.stt_seconds(provider, model, idle_seconds)
        if usd is None:
            idle = None
            unpriced.append(f"stt:{label}")
            continue
        if idle is not None:
            idle += usd
        by_component["stt"] = by_component.get("stt", 0.0) + usd
        by_model[label] = by_model.get(label, 0.0) + usd
    nothing_priced = not by_component and bool(unpriced or totals.uncounted)
    if nothing_priced:
        unknown.append(("cost_usd", pl.UNPRICED))
    cost = CallCost(
        total=None if nothing_priced else sum(by_component.values()),
        by_component=tuple(sorted(by_component.items())),
        by_model=tuple(sorted(by_model.items())),
        idle_stt=idle,
        unpriced=tuple(dict.fromkeys(unpriced)),
    )
    return replace(call, cost=cost, unknown=tuple(dict.fromkeys(unknown)))


_pricers: dict[str | None, Pricer] = {}
_pricers_lock = threading.Lock()


_warm = threading.Event()


def prewarm() -> None:
    """Load the LLM price data now (about half a second of CPU, once per process).

    Done lazily it would compete with a live call for the interpreter; ``instrument()`` does
    it before the session starts, and LiveKit's prewarm hook is a better place still.
    """
    if _warm.is_set():
        return
    _genai_model_price("openai", "gpt-4o-mini")
    _warm.set()


def shared_pricer(overrides: str | None) -> Pricer:
    """One pricer per override file for the whole process. A bad override file logs one clear
    line and is ignored — the agent keeps running, priced by the packaged catalog."""
    import logging

    from turnscope.pricing.catalog import CatalogError, load_catalog

    with _pricers_lock:
        found = _pricers.get(overrides)
        if found is None:
            try:
                catalog = load_catalog(overrides)
            except CatalogError as error:
                logging.getLogger("turnscope").error(
                    "turnscope: price overrides ignored: %s "
                    "(fix the file, or unset TURNSCOPE_PRICES)",
                    error,
                )
                catalog = load_catalog(None)
            found = _pricers[overrides] = Pricer(catalog)
        return found
