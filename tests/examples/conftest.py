"""The example agent is a folder of scripts, not a package: put it on the import path so
its tests import ``assistant`` exactly as ``agent.py`` does."""

from __future__ import annotations

import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "voice_agent"

if str(EXAMPLE) not in sys.path:
    sys.path.insert(0, str(EXAMPLE))
