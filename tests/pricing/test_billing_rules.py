"""Billing rules that change the number: per-request increments and minimums, credits,
streaming vs pre-recorded, audio vs connection time, and overrides of all of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from turnscope.pricing import CatalogError, Pricer, load_catalog
from turnscope.records import ComponentRequest

if TYPE_CHECKING:
    from pathlib import Path

RULES = """
[[stt]]
provider = "acme"
model = "per-15s"
unit = "minute"
usd = 0.06
increment = 15

[[stt]]
provider = "acme"
model = "per-second"
unit = "minute"
usd = 0.06
increment = 1

[[tts]]
provider = "acme"
model = "voice"
unit = "character"
usd = 0.001
minimum = 100

[[tts]]
provider = "acme"
model = "credits"
unit = "credit"
usd = 0.002
credits_per_character = 0.5
"""


@pytest.fixture(scope="module")
def pricer(tmp_path_factory: pytest.TempPathFactory) -> Pricer:
    path = tmp_path_factory.mktemp("rules") / "prices.toml"
    path.write_text(RULES)
    return Pricer(load_catalog(path))


def stt(
    model: str, share: float, metered: float, *, streamed: bool, provider: str = "acme"
) -> ComponentRequest:
    return ComponentRequest(
        kind="stt", request_id="s", provider=provider, model=model, started_at=0.0,
        ended_at=share, audio_duration=share, metered_audio=metered, streamed=streamed,
    )  # fmt: skip


def tts(model: str, characters: int, provider: str = "acme") -> ComponentRequest:
    return ComponentRequest(
        kind="tts", request_id="t", provider=provider, model=model, started_at=0.0,
        ended_at=1.0, characters=characters,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("model", "seconds", "billed"),
    [
        ("per-15s", 2.0, 15.0),  # a short utterance is billed a whole increment
        ("per-15s", 16.2, 30.0),
        ("per-15s", 15.0, 15.0),  # exactly one increment stays one
        ("per-second", 2.0, 2.0),
        ("per-second", 16.2, 17.0),
    ],
)
def test_a_whole_stt_request_is_rounded_up_to_its_increment(
    pricer: Pricer, model: str, seconds: float, billed: float
) -> None:
    priced = pricer.request(stt(model, seconds, seconds, streamed=False))
    assert priced.cost_usd == pytest.approx(billed * 0.001)  # $0.06/min = $0.001/s


def test_a_turn_pays_its_share_of_a_rounded_request(pricer: Pricer) -> None:
    # 2 s of a 4 s request billed as 15 s: the turn pays half of 15 s
    priced = pricer.request(stt("per-15s", 2.0, 4.0, streamed=False))
    assert priced.cost_usd == pytest.approx(7.5 * 0.001)


def test_a_streams_audio_is_not_rounded_per_usage_report(pricer: Pricer) -> None:
    # a stream reports usage every few seconds: the reports are not billed requests
    priced = pricer.request(stt("per-15s", 2.0, 5.0, streamed=True))
    assert priced.cost_usd == pytest.approx(2.0 * 0.001)


def test_a_tts_request_is_billed_at_least_its_minimum(pricer: Pricer) -> None:
    assert pricer.request(tts("voice", 10)).cost_usd == pytest.approx(100 * 0.001)
    assert pricer.request(tts("voice", 250)).cost_usd == pytest.approx(250 * 0.001)
    assert pricer.request(tts("voice", 0)).cost_usd == 0.0  # nothing sent, nothing billed


def test_credits_are_priced_at_the_credits_dollar_value(pricer: Pricer) -> None:
    # 1,000 characters at half a credit each, $0.002 a credit
    assert pricer.request(tts("credits", 1000)).cost_usd == pytest.approx(1.0)


def test_packaged_credits_cartesia_sonic_and_ink() -> None:
    catalog = load_catalog()
    sonic = catalog.unit_price("tts", "Cartesia", "sonic-3")
    ink = catalog.unit_price("stt", "Cartesia", "ink-2")
    assert sonic is not None
    assert ink is not None
    assert (sonic.unit, sonic.credits, sonic.usd) == ("credit", 1.0, 0.00005)
    assert sonic.credit_source == "https://cartesia.ai/pricing"
    # a 300-character reply: 300 credits; 20 s of ink-2: 60 credits
    assert sonic.cost(300, whole_request=True) == pytest.approx(300 * 0.00005)
    assert ink.cost(20.0, whole_request=False) == pytest.approx(60 * 0.00005)


def test_streaming_and_prerecorded_prices_are_chosen_by_the_request() -> None:
    pricer = Pricer(load_catalog())
    streamed = pricer.request(stt("nova-3", 60.0, 60.0, streamed=True, provider="Deepgram"))
    recorded = pricer.request(stt("nova-3", 60.0, 60.0, streamed=False, provider="Deepgram"))
    assert streamed.cost_usd == pytest.approx(0.0048)
    assert recorded.cost_usd == pytest.approx(0.0077)


def test_connection_billed_models_say_so() -> None:
    catalog = load_catalog()
    for provider, model in [
        ("AssemblyAI", "universal-streaming-english"),
        ("AssemblyAI", "universal-3-6-pro"),
        ("livekit", "deepgram/nova-3"),
    ]:
        price = catalog.unit_price("stt", provider, model)
        assert price is not None, model
        assert price.billed_on == "connection", model
    deepgram = catalog.unit_price("stt", "Deepgram", "nova-3")
    assert deepgram is not None
    assert deepgram.billed_on == "audio"


def test_an_override_replaces_a_model_in_every_mode(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(
        '[[stt]]\nprovider = "Deepgram"\nmodel = "nova-3"\nunit = "minute"\nusd = 0.0058\n'
    )
    pricer = Pricer(load_catalog(path))
    for streamed in (True, False):
        priced = pricer.request(stt("nova-3", 60.0, 60.0, streamed=streamed, provider="Deepgram"))
        assert priced.cost_usd == pytest.approx(0.0058)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('unit = "credit"\nusd = 0.1\n', "'credits_per_character' must be a positive"),
        ('unit = "character"\nusd = 0.1\nmode = "batch"\n', "'mode' must be streaming or"),
        ('unit = "character"\nusd = 0.1\nmodel_pattern = "("\n', "not a regular expression"),
        ('unit = "character"\nusd = 0.1\nbilled_on = "connection"\n', "applies to STT only"),
        ('unit = "character"\nusd = 0.1\nincrement = 0\n', "'increment' must be a positive"),
        ('unit = "character"\nusd = 0.1\naliases = "x"\n', "'aliases' must be a list"),
    ],
)
def test_a_bad_billing_rule_is_one_clear_error(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(f'[[tts]]\nprovider = "x"\nmodel = "m"\n{text}')
    with pytest.raises(CatalogError, match=problem.replace("(", r"\(")):
        load_catalog(path)


def test_audio_outside_turns_is_priced_whichever_mode_the_model_has(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(
        '[[stt]]\nprovider = "acme"\nmodel = "batch-only"\nmode = "prerecorded"\n'
        'unit = "minute"\nusd = 0.06\n'
    )
    pricer = Pricer(load_catalog(path))
    assert pricer.stt_seconds("acme", "batch-only", 30.0) == pytest.approx(0.03)
    assert pricer.stt_seconds("acme", "batch-only", 30.0, streamed=True) is None
    both = Pricer(load_catalog())  # nova-3 has both: idle audio is a stream's
    assert both.stt_seconds("Deepgram", "nova-3", 60.0) == pytest.approx(0.0048)
