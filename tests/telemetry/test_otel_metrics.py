"""The OpenTelemetry observer's metrics, read with the SDK's in-memory metric reader."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from otel_support import API_KEY, Telemetry, one_turn, run_turn

from agentflow import Allow, MemoryCheckpointStore
from agentflow.testing import CustomTool, Say, Scenario, Tool, Turn


@pytest.fixture
def otel() -> Iterator[Telemetry]:
    telemetry = Telemetry()
    yield telemetry
    telemetry.shutdown()


def _by(points: list[Any], *keys: str) -> dict[tuple[Any, ...], Any]:
    return {tuple(p.attributes.get(k) for k in keys): p for p in points}


async def test_events_tools_replies_and_verdicts_are_counted(otel: Telemetry) -> None:
    app = otel.app()

    @app.tool
    def lookup(key: str) -> str:
        """Look a key up."""
        return key

    @app.tool
    def explode() -> str:
        """Always fails."""
        raise RuntimeError("no")

    @app.confirm("read*")
    def allow_reads(event: Any) -> Allow:
        return Allow()

    scen = one_turn(
        CustomTool("lookup", {"key": "a"}),
        CustomTool("lookup", {"key": "b"}),
        CustomTool("explode", {}),
        Tool("read_file", {"path": "x"}, permission="always_ask"),
        Say("Done."),
    )
    result, _ = await run_turn(app, scen)

    events = _by(otel.points("agentflow.events"), "agentflow.dialect", "agentflow.event.type")
    assert {t: p.value for (_, t), p in events.items()} == result.counts
    assert {d for d, _ in events} == {"managed_agents"}

    durations = _by(otel.points("agentflow.tool.duration"), "gen_ai.tool.name", "error.type")
    assert durations[("lookup", None)].count == 2
    assert durations[("explode", "RuntimeError")].count == 1
    assert durations[("lookup", None)].attributes["agentflow.tool.outcome"] == "ok"

    (replies,) = otel.points("agentflow.replies.sent")
    assert (replies.value, replies.attributes["agentflow.dialect"]) == (4, "managed_agents")
    (verdict,) = otel.points("agentflow.policy.verdicts")
    assert verdict.value == 1
    assert verdict.attributes["agentflow.policy.verdict"] == "allow"
    assert otel.points("agentflow.reconnects") == []


async def test_the_events_counter_sees_a_run_still_going(otel: Telemetry) -> None:
    # Counts come from the run's live tally at collection time, not at the run's end.
    app = otel.app()
    seen_during: list[dict[str, int]] = []

    @app.on("agent.message")
    def collect(event: Any) -> None:
        points = otel.points("agentflow.events")
        seen_during.append({p.attributes["agentflow.event.type"]: p.value for p in points})

    await run_turn(app, one_turn(Say("First."), Say("Second.")))
    assert [seen["agent.message"] for seen in seen_during] == [1, 2]
    # finished runs are folded into totals: the counter stays monotonic across runs
    app.actions.checkpoint = MemoryCheckpointStore()  # the new emulator reuses the ids
    await run_turn(app, one_turn(Say("Third.")))
    after = {p.attributes["agentflow.event.type"]: p.value for p in otel.points("agentflow.events")}
    assert after["agent.message"] == 3


async def test_reconnects_are_counted_and_noted_on_the_run_span(otel: Telemetry) -> None:
    app = otel.app()
    scen = Scenario([Turn([Say(f"part {i}") for i in range(12)])]).with_faults(drop_every=5)
    result, _ = await run_turn(app, scen, timeout=20)
    assert result.stop_reason == "end_turn"
    (reconnects,) = otel.points("agentflow.reconnects")
    assert reconnects.value >= 1
    assert reconnects.attributes == {"agentflow.dialect": "managed_agents"}
    run = otel.one("agentflow.run")
    noted = [e for e in run.events if e.name == "agentflow.reconnect"]
    assert len(noted) == reconnects.value
    assert (
        noted[0].attributes is not None and noted[0].attributes["agentflow.reconnect.attempt"] == 1
    )
    assert not any(API_KEY in str(e.attributes) for e in noted)
