"""The resource of turnscope's spans says only what is known: no invented service.version."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.export.conftest import replay_call
from tests.otlp_receiver import OTLPReceiver

if TYPE_CHECKING:
    from tests.conftest import SimulationCache
    from tests.export.conftest import Exported


def test_without_a_release_service_version_is_left_out(langfuse_call: Exported) -> None:
    resources = [s.resource for s in langfuse_call.spans()]
    assert resources
    assert all("service.version" not in r for r in resources)
    assert {r["service.name"] for r in resources} == {"livekit-agent"}


def test_a_release_and_an_environment_are_on_every_span(simulations: SimulationCache) -> None:
    receiver = OTLPReceiver().start()
    try:
        exported = replay_call(
            receiver,
            simulations.recorded("basic"),
            env={"TURNSCOPE_RELEASE": "2026.12.1", "LANGFUSE_TRACING_ENVIRONMENT": "staging"},
        )
    finally:
        receiver.stop()
    spans = exported.spans()
    assert spans
    assert {s.resource.get("service.version") for s in spans} == {"2026.12.1"}
    assert {s.resource.get("deployment.environment.name") for s in spans} == {"staging"}
    assert {s.attributes.get("langfuse.release") for s in spans} == {"2026.12.1"}
    assert {s.attributes.get("langfuse.environment") for s in spans} == {"staging"}
