"""Conformance: everruns-sdk 0.3.1 drives the Everruns emulator unchanged."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from agentflow.testing import CustomTool, Emulator, Say, Scenario, Turn, Wait
from agentflow.testing.everruns import EverrunsEmulator

try:
    from everruns_sdk import AgentClient, AuthenticationError, Everruns
    from everruns_sdk.models import ContentPart, Event, ToolDefinition
except ImportError as exc:  # pragma: no cover - the dev extra pins it
    raise RuntimeError("these tests need everruns-sdk==0.3.1 (the dev extra)") from exc

# The management client's sessions.create / messages.create warn that apps should use
# AgentClient; driving the management surface is the point of these tests.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:Everruns\.(sessions|messages)\.create with a personal access token:DeprecationWarning"
)

WEATHER = ToolDefinition(
    type="client_side",
    name="get_weather",
    description="Current weather for a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)
SCENARIO = Scenario(
    [
        Turn(
            [
                Say("Let me look that up for you."),
                CustomTool("get_weather", {"city": "Oslo"}),
                Say("It is 21 degrees in Oslo."),
            ]
        )
    ]
)


async def _collect(stream: Any, until: str = "session.idled") -> list[Event]:
    got: list[Event] = []
    async for event in stream:
        got.append(event)
        if event.type == until:
            break
    stream.stop()
    await stream.aclose()
    return got


async def test_sdk_streams_typed_events_answers_its_call_and_resumes_by_since_id() -> None:
    async with EverrunsEmulator(SCENARIO, api_key="evr_pat_test") as emu:
        client = Everruns(api_key="evr_pat_test", base_url=emu.base_url)
        try:
            session = await client.sessions.create(title="weather", tools=[WEATHER])
            assert session.status == "started"
            await client.messages.create(session.id, "Weather in Oslo?")
            got: list[Event] = []
            with anyio.fail_after(10):
                stream = client.events.stream(session.id)
                async for event in stream:
                    got.append(event)
                    if event.type == "tool.call_requested":
                        (call,) = event.tool_calls()
                        assert (call.name, call.arguments) == ("get_weather", {"city": "Oslo"})
                        part = ContentPart.make_tool_result(call.id, {"temp_c": 21})
                        answer = await client.messages.create_tool_results(session.id, [part])
                        assert (answer.accepted, answer.status) == (1, "accepted")
                    if event.type == "session.idled":
                        break
                stream.stop()
                await stream.aclose()
                final = await client.sessions.get(session.id)
                cut = next(e for e in got if e.type == "tool.call_requested")
                later = await _collect(client.events.stream(session.id, since_id=cut.id))
        finally:
            await client.close()
        history = emu.history(session.id)
        requests = emu.requests
    assert all(isinstance(e, Event) for e in got)
    assert [e.id for e in got] == [e["id"] for e in history]
    assert [e.sequence for e in got] == list(range(1, len(history) + 1))
    types = [e.type for e in got]
    assert types[:2] == ["input.message", "turn.started"]
    assert types[-2:] == ["turn.completed", "session.idled"]
    completed = next(e for e in got if e.type == "tool.completed")
    assert completed.data["success"] is True
    assert json.loads(completed.data["result"][0]["text"]) == {"temp_c": 21}
    turn_id = got[1].data["turn_id"]
    assert all(e.context.turn_id == turn_id for e in got[1:])
    assert final.status == "idle"
    position = [e.id for e in got].index(cut.id)
    assert [e.id for e in later] == [e.id for e in got[position + 1 :]]
    posted = next(r for r in requests if r.path.endswith("/tool-results"))
    call_id = cut.tool_calls()[0].id
    assert posted.body == {"tool_results": [{"tool_call_id": call_id, "result": {"temp_c": 21}}]}
    assert {r.auth for r in requests} == {"raw"}  # the management client sends no Bearer
    streams = [r for r in requests if r.path.endswith("/sse")]
    assert streams[-1].query == f"since_id={cut.id}"


async def test_sdk_stream_survives_connection_cycles_without_gaps_or_duplicates() -> None:
    scenario = Scenario([Turn([Say("First part."), Wait(0.8), Say("Second part.")])])
    async with EverrunsEmulator(scenario.with_faults(cycle_seconds=0.25)) as emu:
        client = Everruns(api_key=emu.api_key, base_url=emu.base_url)
        try:
            session = await client.sessions.create()
            with anyio.fail_after(10):
                stream = client.events.stream(session.id)
                await client.messages.create(session.id, "go")
                got = await _collect(stream)
        finally:
            await client.close()
        history = emu.history(session.id)
        streams = [r for r in emu.requests if r.path.endswith("/sse")]
    assert [e.id for e in got] == [e["id"] for e in history]
    assert len(streams) >= 2  # the stream was cycled at least once and resumed
    assert all(r.query.startswith("since_id=event_") for r in streams[1:] if r.query)


async def test_sdk_filters_on_the_stream_and_the_listing() -> None:
    async with EverrunsEmulator(Scenario.simple("One two three four five six seven.")) as emu:
        client = Everruns(api_key=emu.api_key, base_url=emu.base_url)
        try:
            session = await client.sessions.create()
            await client.messages.create(session.id, "hi")
            with anyio.fail_after(10):
                await emu.wait_for_event(session.id, "session.idled")
                kept = await _collect(
                    client.events.stream(session.id, exclude=["output.message.delta"])
                )
                only = await client.events.list(session.id, types=["turn.started", "session.idled"])
                tail = await client.events.list(session.id, since_id=kept[1].id, limit=2)
        finally:
            await client.close()
        history = emu.history(session.id)
    assert [e.id for e in kept] == [e["id"] for e in history if e["type"] != "output.message.delta"]
    assert [e.type for e in only] == ["turn.started", "session.idled"]
    assert [e.id for e in tail] == [e["id"] for e in history[2:4]]


async def test_agent_client_runs_a_turn_on_the_channel_surface() -> None:
    scenario = Scenario([Turn([Say("Order 42 shipped yesterday.")])])
    async with Emulator(scenario, dialect="everruns", api_key="evr_pat_x") as emu:
        assert isinstance(emu, EverrunsEmulator)
        agent = AgentClient(agent_url=emu.agent_url, credential="evr_pat_x")
        try:
            with anyio.fail_after(10):
                reply = await agent.for_end_user("customer-42").run("Where is order 42?")
                first = await agent.create_session("t", idempotency_key="k-1")
                again = await agent.create_session("t", idempotency_key="k-1")
        finally:
            await agent.close()
        requests = emu.requests
    assert reply == "Order 42 shipped yesterday."
    assert first["id"] == again["id"]
    run = [r for r in requests if r.surface == "channel"]
    assert {r.auth for r in run} == {"bearer"}
    assert run[0].end_user == "customer-42"
    sse = next(r for r in run if r.path.endswith("/sse"))
    assert sse.query == "after_sequence=0"


async def test_wrong_credentials_are_refused_on_both_surfaces() -> None:
    async with EverrunsEmulator(api_key="evr_pat_right", agent_key="evr_ak_right") as emu:
        session_id = emu.create_session()
        client = Everruns(api_key="evr_pat_wrong", base_url=emu.base_url)
        agent = AgentClient(agent_url=emu.agent_url, credential="evr_pat_right")
        try:
            with pytest.raises(AuthenticationError) as mgmt:
                await client.sessions.get(session_id)
            with pytest.raises(AuthenticationError) as chan:
                await agent.get_session(session_id)
        finally:
            await client.close()
            await agent.close()
    assert mgmt.value.code == chan.value.code == "unauthorized"
    assert "right" not in str(mgmt.value) and "wrong" not in str(mgmt.value)
