"""Running the example without its keys: one clear message naming what is missing, a
non-zero exit, no traceback, and never the value of a key that is set."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.examples.conftest import EXAMPLE

PROVIDER_KEYS = ("DEEPGRAM_API_KEY", "OPENAI_API_KEY", "CARTESIA_API_KEY")
LIVEKIT_KEYS = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PROVIDER_KEYS + LIVEKIT_KEYS}
    return subprocess.run(
        [sys.executable, "agent.py", *args],
        cwd=EXAMPLE,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_console_without_keys_names_each_missing_key() -> None:
    done = _run("console")
    assert done.returncode != 0
    for key in PROVIDER_KEYS:
        assert f"{key} is not set" in done.stderr
    assert "LIVEKIT_URL" not in done.stderr  # console mode needs no LiveKit server
    assert "Traceback" not in done.stderr + done.stdout


def test_dev_mode_also_needs_the_livekit_server() -> None:
    done = _run("dev", OPENAI_API_KEY="sk-test-not-a-real-key")
    assert done.returncode != 0
    for key in ("DEEPGRAM_API_KEY", "CARTESIA_API_KEY", *LIVEKIT_KEYS):
        assert f"{key} is not set" in done.stderr
    assert "OPENAI_API_KEY" not in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_keys_set_but_plugins_missing_gives_the_install_command() -> None:
    """turnscope's own environment deliberately lacks the provider plugins."""
    keys = {key: f"secret-{key.lower()}-value" for key in PROVIDER_KEYS + LIVEKIT_KEYS}
    done = _run("start", **keys)
    assert done.returncode != 0
    assert "livekit.plugins.deepgram" in done.stderr
    assert "uv sync" in done.stderr
    assert "livekit-agents[deepgram,openai,cartesia,silero]~=1.8.9" in done.stderr
    assert "is not set" not in done.stderr
    assert not any(value in done.stderr + done.stdout for value in keys.values())
    assert "Traceback" not in done.stderr + done.stdout
