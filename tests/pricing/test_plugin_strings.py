"""Each provider's model as LiveKit's plugins (and LiveKit Inference) put it on metrics
resolves to its catalog price.

The (provider, model) strings were read in the plugins' source, livekit-agents and
livekit-plugins-* 1.8.9 (each plugin's ``provider`` and ``model`` properties; file:line in
the comments), and confirmed on 2026-12-06 by constructing each plugin with its defaults
in a scratch environment with the real plugins installed (they cannot be installed for CI:
the strings are recorded here instead). Expected prices are the catalog's figures as sources
state them, converted by hand: USD per minute of audio for STT, per million characters for
TTS.
"""

from __future__ import annotations

import pytest

from turnscope.pricing import load_catalog

CATALOG = load_catalog()

STT_PER_MINUTE = [
    # deepgram/stt.py:229-234, default "nova-3"; streaming vs pre-recorded differ
    ("Deepgram", "nova-3", True, 0.0048),
    ("Deepgram", "nova-3", False, 0.0077),
    # deepgram/stt_v2.py:211-216 (Flux)
    ("Deepgram", "flux-general-en", True, 0.0065),
    ("Deepgram", "flux-general-multi", True, 0.0078),
    # cartesia/stt.py:251-256: 1 credit/s streaming, 1 per 2 s batch, ink-2 3 credits/s;
    # a credit at $5 per 100,000
    ("Cartesia", "ink-whisper", True, 60 * 1 * 0.00005),
    ("Cartesia", "ink-whisper", False, 60 * 0.5 * 0.00005),
    ("Cartesia", "ink-2", True, 60 * 3 * 0.00005),
    # elevenlabs/stt.py:270-275, $/hour
    ("ElevenLabs", "scribe_v1", False, 0.22 / 60),
    ("ElevenLabs", "scribe_v2", False, 0.22 / 60),
    ("ElevenLabs", "scribe_v2_realtime", True, 0.39 / 60),
    # google/stt.py:313-318: V1 default latest_long; V2 chirp_3
    ("Google Cloud Platform", "latest_long", True, 0.024),
    ("Google Cloud Platform", "chirp_3", True, 0.016),
    # azure/stt.py:178-183: the model is always "unknown"; $1/hour
    ("Azure STT", "unknown", True, 1.0 / 60),
    # openai/stt.py:329-334: provider is the API host
    ("api.openai.com", "gpt-4o-mini-transcribe", True, 0.003),
    ("api.openai.com", "gpt-4o-transcribe", True, 0.006),
    ("api.openai.com", "whisper-1", False, 0.006),
    # assemblyai/stt.py:396-401, default "universal-3-6-pro"; session hours
    ("AssemblyAI", "universal-3-6-pro", True, 0.45 / 60),
    ("AssemblyAI", "u3-rt-pro", True, 0.45 / 60),
    ("AssemblyAI", "universal-streaming-english", True, 0.15 / 60),
    ("AssemblyAI", "universal-streaming-multilingual", True, 0.15 / 60),
    # inference/stt.py:800-805: provider "livekit", ":language" stripped
    ("livekit", "deepgram/nova-3", True, 0.0048),
    ("livekit", "deepgram/flux-general-en", True, 0.0065),
    ("livekit", "assemblyai/universal-streaming", True, 0.0025),
    ("livekit", "cartesia/ink-whisper", True, 0.003),
]

TTS_PER_MILLION = [
    # deepgram/tts.py:126-131: the model string is the voice
    ("Deepgram", "aura-2-andromeda-en", 30.0),
    ("Deepgram", "aura-2-thalia-es", 30.0),
    ("Deepgram", "aura-asteria-en", 15.0),
    # cartesia/tts.py:215-220: ~1 credit per character at $5 per 100,000 credits
    ("Cartesia", "sonic-3", 50.0),
    ("Cartesia", "sonic-2", 50.0),
    ("Cartesia", "sonic-turbo", 50.0),
    # elevenlabs/tts.py:225-230, default eleven_turbo_v2_5
    ("ElevenLabs", "eleven_turbo_v2_5", 50.0),
    ("ElevenLabs", "eleven_flash_v2_5", 50.0),
    ("ElevenLabs", "eleven_multilingual_v2", 100.0),
    ("ElevenLabs", "eleven_v3", 100.0),
    # google/tts.py:209-214: model_name, or "Chirp3" when none
    ("Google Cloud Platform", "chirp_3", 30.0),
    ("Google Cloud Platform", "Chirp3", 30.0),
    # azure/tts.py:202-218: "<region or host>:<voice>"
    ("Azure TTS", "eastus:en-US-JennyNeural", 15.0),
    ("Azure TTS", "westeurope:de-DE-KatjaNeural", 15.0),
    ("Azure TTS", "my-speech.cognitiveservices.azure.com:en-US-AvaMultilingualNeural", 15.0),
    ("Azure TTS", "eastus:en-US-Ava:DragonHDLatestNeural", 22.0),
    # inworld/tts.py:750-755, default inworld-tts-1.5-max
    ("Inworld", "inworld-tts-1.5-max", 25.0),
    ("Inworld", "inworld-tts-1.5-mini", 15.0),
    ("Inworld", "inworld-tts-2", 35.0),
    # openai/tts.py:138-143
    ("api.openai.com", "tts-1", 15.0),
    ("api.openai.com", "tts-1-hd", 30.0),
    # inference/tts.py:513-518: provider "livekit", ":voice" stripped
    ("livekit", "cartesia/sonic-3", 50.0),
    ("livekit", "deepgram/aura-2", 30.0),
    ("livekit", "inworld/inworld-tts-1.5-max", 35.0),
    ("livekit", "rime/mistv3", 30.0),
]

UNPRICED = [
    # no source for these; they must stay unpriced, never borrow another model's price
    ("stt", "Deepgram", "nova-2"),
    ("stt", "livekit", "unknown"),  # inference.STT without a model
    ("stt", "Inworld", "inworld/inworld-stt-1"),
    ("tts", "Deepgram", "flux-alexis-en"),  # Flux TTS
    ("tts", "Google Cloud Platform", "gemini-2.5-flash-tts"),  # billed in audio tokens
    ("tts", "Azure TTS", "eastus:en-US-JennyNeural:my-custom-deployment"),  # custom voice
    ("tts", "Azure TTS", "unknown"),
    ("tts", "ElevenLabs", "eleven_v4"),
    ("tts", "AssemblyAI", "assemblyai-tts-1"),
    ("tts", "livekit", "cartesia"),  # a bare vendor: LiveKit picks the model
]


@pytest.mark.parametrize(("provider", "model", "streamed", "usd_per_minute"), STT_PER_MINUTE)
def test_plugin_stt_strings_resolve_to_their_price(
    provider: str, model: str, streamed: bool, usd_per_minute: float
) -> None:
    price = CATALOG.unit_price("stt", provider, model, streamed=streamed)
    assert price is not None, f"{provider}/{model} is unpriced"
    assert price.cost(60.0, whole_request=False) == pytest.approx(usd_per_minute)


@pytest.mark.parametrize(("provider", "model", "usd_per_million"), TTS_PER_MILLION)
def test_plugin_tts_strings_resolve_to_their_price(
    provider: str, model: str, usd_per_million: float
) -> None:
    price = CATALOG.unit_price("tts", provider, model, streamed=True)
    assert price is not None, f"{provider}/{model} is unpriced"
    assert price.cost(1_000_000, whole_request=True) == pytest.approx(usd_per_million)


def test_openai_gpt_4o_mini_tts_is_priced_by_the_minute_of_audio() -> None:
    price = CATALOG.unit_price("tts", "api.openai.com", "gpt-4o-mini-tts")
    assert price is not None
    assert price.per == "second"
    assert price.cost(120.0, whole_request=True) == pytest.approx(0.030)


@pytest.mark.parametrize(("kind", "provider", "model"), UNPRICED)
def test_models_without_a_source_stay_unpriced(kind: str, provider: str, model: str) -> None:
    assert CATALOG.unit_price(kind, provider, model) is None  # type: ignore[arg-type]


def test_livekit_inference_prices_are_livekits_own_not_the_vendors() -> None:
    direct = CATALOG.unit_price("tts", "Inworld", "inworld-tts-1.5-max")
    resold = CATALOG.unit_price("tts", "livekit", "inworld/inworld-tts-1.5-max")
    assert direct is not None
    assert resold is not None
    assert (direct.usd, resold.usd) == (25.0, 35.0)
    stt = CATALOG.unit_price("stt", "livekit", "deepgram/nova-3")
    assert stt is not None
    assert stt.billed_on == "connection"
    assert stt.increment == 1


@pytest.mark.parametrize(
    ("model", "vendor_model"),
    [("openai/gpt-4o-mini", "gpt-4o-mini"), ("openai/gpt-4.1", "gpt-4.1")],
)
def test_livekit_inference_llm_tokens_cost_the_vendors_rates(model: str, vendor_model: str) -> None:
    """LiveKit's table lists gpt-4o-mini at $0.15/$0.075/$0.60 and gpt-4.1 at $2/$0.50/$8 per
    1M tokens: OpenAI's own rates, so genai-prices prices them under the vendor's name."""
    from turnscope.pricing import Pricer
    from turnscope.records import ComponentRequest

    pricer = Pricer(CATALOG)

    def cost(provider: str, name: str) -> float | None:
        request = ComponentRequest(
            kind="llm", request_id="r", provider=provider, model=name, started_at=0.0,
            ended_at=1.0, prompt_tokens=1000, cached_tokens=200, completion_tokens=100,
        )  # fmt: skip
        return pricer.request(request).cost_usd

    via_livekit = cost("livekit", model)
    assert via_livekit is not None
    assert via_livekit > 0
    assert via_livekit == pytest.approx(cost("api.openai.com", vendor_model))
