"""Which providers the scripted parts present themselves as.

LiveKit's metrics name a provider and a model (``metadata.model_provider`` and
``model_name``), and that pair is all turnscope prices by. A ``Stack`` makes the scripted
STT, LLM and TTS report the exact strings a real plugin reports, so a simulated call is
priced as a real one on that stack would be.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_STACK", "EXAMPLE_STACK", "STACKS", "Stack"]


@dataclass(frozen=True)
class Stack:
    """(provider, model) as each LiveKit plugin reports it on its metrics."""

    stt: tuple[str, str]
    llm: tuple[str, str]
    tts: tuple[str, str]


DEFAULT_STACK = Stack(
    stt=("AssemblyAI", "universal-streaming-english"),
    llm=("api.openai.com", "gpt-4o-mini"),
    tts=("api.openai.com", "tts-1"),
)
"""What the scripted providers have always presented as: LiveKit's AssemblyAI and OpenAI
plugins."""

EXAMPLE_STACK = Stack(
    stt=("Deepgram", "nova-3"),
    llm=("api.openai.com", "gpt-4.1-mini"),
    tts=("Cartesia", "sonic-3"),
)
"""examples/voice_agent's providers as their plugins (livekit-plugins-* 1.8.9) report them:
``deepgram.STT(model="nova-3")`` → "Deepgram"/"nova-3", ``openai.LLM(model="gpt-4.1-mini")``
→ the API host "api.openai.com", ``cartesia.TTS(model="sonic-3")`` → "Cartesia"/"sonic-3"."""

STACKS = {"default": DEFAULT_STACK, "example": EXAMPLE_STACK}
