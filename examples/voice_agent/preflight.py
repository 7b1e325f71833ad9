"""Say what is missing before anything tries to use it: keys, plugins, PortAudio.

Standard library only, and run before the provider plugins are imported, so a missing key
or package gives one clear message and a non-zero exit instead of a traceback from deep
inside a plugin (or a job process that dies after a caller has already joined).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["INSTALL", "problems", "require"]

PROVIDER_KEYS = {
    "DEEPGRAM_API_KEY": "Deepgram speech-to-text (https://console.deepgram.com)",
    "OPENAI_API_KEY": "the OpenAI LLM (https://platform.openai.com/api-keys)",
    "CARTESIA_API_KEY": "Cartesia text-to-speech (https://play.cartesia.ai/keys)",
}
LIVEKIT_KEYS = {
    "LIVEKIT_URL": "--url",
    "LIVEKIT_API_KEY": "--api-key",
    "LIVEKIT_API_SECRET": "--api-secret",
}
"""What ``dev``, ``start`` and ``connect`` need to reach a LiveKit server, each with the
command-line option that can give it instead."""

PLUGINS = (
    "livekit.plugins.deepgram",
    "livekit.plugins.openai",
    "livekit.plugins.cartesia",
    "livekit.plugins.silero",
)
INSTALL = (
    "cd examples/voice_agent && uv sync   "
    "(or: pip install 'livekit-agents[deepgram,openai,cartesia,silero]~=1.8.9')"
)
PORTAUDIO = (
    "console mode plays and records audio through PortAudio, which is not installed: "
    "sudo apt-get install libportaudio2 (Debian/Ubuntu), brew install portaudio (macOS)"
)

SERVER_MODES = ("dev", "start", "connect")
"""Modes that register with a LiveKit server."""
CALL_MODES = ("console", *SERVER_MODES)
"""Modes that take calls, and so need every provider key."""


def _plugin_missing(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is None
    except ModuleNotFoundError:  # the livekit.plugins namespace itself is absent
        return True


def _portaudio_missing() -> bool:
    try:
        importlib.import_module("sounddevice")  # LiveKit's console uses it; it loads PortAudio
    except OSError:
        return True
    except ImportError:  # not our business here: livekit-agents pulls sounddevice in
        return False
    return False


def problems(argv: Sequence[str], environ: dict[str, str] | None = None) -> list[str]:
    """Everything the command in ``argv`` lacks, one line each; empty when ready."""
    env = dict(os.environ) if environ is None else environ
    mode = next((arg for arg in argv if not arg.startswith("-")), None)
    found: list[str] = []
    if mode in CALL_MODES:
        for key, what in PROVIDER_KEYS.items():
            if not env.get(key, "").strip():
                found.append(f"{key} is not set: it is the API key of {what}")
    if mode in SERVER_MODES:
        for key, option in LIVEKIT_KEYS.items():
            given = any(arg == option or arg.startswith(f"{option}=") for arg in argv)
            if not given and not env.get(key, "").strip():
                found.append(
                    f"{key} is not set (or pass {option}): your LiveKit server or LiveKit "
                    "Cloud project (https://cloud.livekit.io)"
                )
    if mode in (*CALL_MODES, "download-files"):
        missing = [name for name in PLUGINS if _plugin_missing(name)]
        if missing:
            found.append(f"plugins not installed ({', '.join(missing)}): {INSTALL}")
    if mode == "console" and _portaudio_missing():
        found.append(PORTAUDIO)
    return found


def require(argv: Sequence[str]) -> None:
    """Exit with status 2 and a short list of what to fix when the command cannot run."""
    found = problems(argv)
    if not found:
        return
    print("voice_agent: cannot start yet:", file=sys.stderr)
    for line in found:
        print(f"  - {line}", file=sys.stderr)
    print("See examples/voice_agent/README.md.", file=sys.stderr)
    raise SystemExit(2)
