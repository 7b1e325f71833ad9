"""Offline simulation of a LiveKit voice call, driving a REAL ``AgentSession``.

Scripted VAD, STT, LLM, TTS and audio I/O stand in for the caller and the providers, so a
whole call runs in-process with no LiveKit server, no network and no keys. The simulation
measures what really happened on its own clocks (``SimulationTruth``), independently of
LiveKit, so turnscope's records can be checked against it.

Only the tests, the demo and the ``simulate`` room itself import this package; the
library's recording path never does.
"""

from __future__ import annotations

from turnscope.simulate.llm import Reply, ToolCall
from turnscope.simulate.profiles import PROFILES, LatencyProfile
from turnscope.simulate.runner import RecordedEvent, SimulationResult, SimulationTimeout, run
from turnscope.simulate.scenarios import SCENARIOS, Scenario, Utterance, build_scenario
from turnscope.simulate.stack import DEFAULT_STACK, EXAMPLE_STACK, STACKS, Stack
from turnscope.simulate.truth import SimulationTruth

__all__ = [
    "DEFAULT_STACK",
    "EXAMPLE_STACK",
    "PROFILES",
    "SCENARIOS",
    "STACKS",
    "LatencyProfile",
    "RecordedEvent",
    "Reply",
    "Scenario",
    "SimulationResult",
    "SimulationTimeout",
    "SimulationTruth",
    "Stack",
    "ToolCall",
    "Utterance",
    "build_scenario",
    "run",
]
