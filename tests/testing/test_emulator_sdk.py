"""The official anthropic SDK (2.10.0) drives the emulator unchanged."""

from __future__ import annotations

import json
import typing
from typing import Any

import anyio
import pytest
from anthropic import AsyncAnthropic
from anthropic.lib.tools import beta_async_tool
from anthropic.types.beta.sessions.beta_managed_agents_stream_session_events import (
    BetaManagedAgentsStreamSessionEvents,
)
from emu_support import frames, raw_client, user_message
from pydantic import TypeAdapter

from agentflow.testing import (
    Burst,
    CustomTool,
    Emit,
    Emulator,
    Error,
    McpTool,
    Say,
    Scenario,
    Stop,
    Think,
    Tool,
    Turn,
    Usage,
    Wait,
)


def _class_by_type() -> dict[str, type]:
    union = typing.get_args(BetaManagedAgentsStreamSessionEvents)[0]
    out: dict[str, type] = {}
    for cls in typing.get_args(union):
        (literal,) = typing.get_args(cls.model_fields["type"].annotation)
        out[literal] = cls
    return out


CLASS_BY_TYPE = _class_by_type()
STREAM_UNION: TypeAdapter[Any] = TypeAdapter(BetaManagedAgentsStreamSessionEvents)


def test_the_sdk_union_has_44_types() -> None:
    assert len(CLASS_BY_TYPE) == 44


async def test_sdk_streams_a_turn_and_every_event_has_its_official_class() -> None:
    scenario = Scenario(
        [Turn([Say("Let me think about that.", stream=True, thinking=True), Say("Done.")])]
    )
    async with Emulator(scenario) as emu:
        client = AsyncAnthropic(api_key="test", base_url=emu.base_url, max_retries=0)
        try:
            with anyio.fail_after(10):
                session = await client.beta.sessions.create(agent="agent_1", environment_id="env_1")
                assert session.status == "idle"
                stream = await client.beta.sessions.events.stream(
                    session.id, event_deltas=["agent.message", "agent.thinking"]
                )
                received = []
                async with stream:
                    await client.beta.sessions.events.send(
                        session.id,
                        events=[
                            {"type": "user.message", "content": [{"type": "text", "text": "q"}]}
                        ],
                    )
                    async for event in stream:
                        received.append(event)
                        if event.type == "session.status_idle":
                            break
        finally:
            await client.close()
    types = [e.type for e in received]
    assert types[:3] == ["user.message", "session.status_running", "span.model_request_start"]
    assert types[-1] == "session.status_idle"
    idle = received[-1]
    assert idle.type == "session.status_idle" and idle.stop_reason.type == "end_turn"
    assert {"event_start", "event_delta", "agent.thinking", "agent.message"} <= set(types)
    for event in received:
        assert type(event) is CLASS_BY_TYPE[event.type], event.type
    # previews carry the id of the final event, and the deltas add up to its text
    message = next(e for e in received if e.type == "agent.message")
    deltas = [e for e in received if e.type == "event_delta" and e.event_id == message.id]
    assert "".join(d.delta.content.text for d in deltas) == "Let me think about that."


async def test_sdk_lists_a_long_history_page_by_page() -> None:
    async with Emulator(Scenario([Turn([Burst(120)])])) as emu:
        session_id = emu.create_session()
        emu.send(session_id, [user_message()])
        with anyio.fail_after(10):
            await emu.wait_for_event(session_id, "session.status_idle")
        client = AsyncAnthropic(api_key="test", base_url=emu.base_url, max_retries=0)
        try:
            with anyio.fail_after(10):
                listed = [e async for e in client.beta.sessions.events.list(session_id, limit=25)]
                first = await client.beta.sessions.events.list(session_id, limit=25)
        finally:
            await client.close()
        history = emu.history(session_id)
        pages = [r for r in emu.requests if r.path.endswith("/events") and r.method == "GET"]
    assert len(history) > 120
    assert [e.id for e in listed] == [e["id"] for e in history]
    assert first.next_page is not None
    assert len(pages) == -(-len(history) // 25) + 1  # every page once, plus the single `first`


async def test_sdk_tool_runner_answers_a_custom_tool_exactly_once() -> None:
    scenario = Scenario(
        [
            Turn(
                [
                    Say("Checking."),
                    CustomTool("get_weather", {"city": "Paris"}),
                    Say("Sunny it is."),
                ]
            )
        ]
    )
    calls: list[str] = []

    @beta_async_tool
    async def get_weather(city: str) -> str:
        """Current weather for a city."""
        calls.append(city)
        return f"Sunny in {city}"

    async with Emulator(scenario) as emu:
        client = AsyncAnthropic(api_key="test", base_url=emu.base_url, max_retries=0)
        try:
            with anyio.fail_after(20):
                session = await client.beta.sessions.create(agent="agent_1", environment_id="env_1")
                await client.beta.sessions.events.send(
                    session.id,
                    events=[{"type": "user.message", "content": [{"type": "text", "text": "q"}]}],
                )
                runner = client.beta.sessions.events.tool_runner(
                    session.id, tools=[get_weather], max_idle=0.3
                )
                dispatched = [call async for call in runner]
        finally:
            await client.close()
        history = emu.history(session.id)
    results = [e for e in history if e["type"] == "user.custom_tool_result"]
    use = next(e for e in history if e["type"] == "agent.custom_tool_use")
    assert calls == ["Paris"]
    assert len(dispatched) == 1 and dispatched[0].posted
    assert len(results) == 1
    assert results[0]["custom_tool_use_id"] == use["id"]
    assert results[0]["content"] == [{"type": "text", "text": "Sunny in Paris"}]
    assert history[-1]["type"] == "session.status_idle"
    assert history[-1]["stop_reason"] == {"type": "end_turn"}


ALL_STEPS = Scenario(
    [
        Turn(
            [
                Think(),
                Say("Streaming words one by one here.", stream=True, thinking=True),
                CustomTool("lookup", {"id": 1}),
                Tool("bash", {"command": "ls"}, permission="always_ask"),
                Tool("read", {"path": "a"}, permission="auto_ask"),
                McpTool("github", "create_issue", {"t": 1}, permission="always_ask"),
                Tool("web_fetch", {"url": "u"}, permission="auto"),
                Tool("rm", {}, permission="auto_deny"),
                Tool("glob", {}, permission="deny"),
                McpTool("github", "list", {}, permission="always_allow"),
            ]
        ),
        Turn(
            [
                Error("model_overloaded_error", "retrying"),
                Usage(),
                Burst(3),
                Emit({"type": "agent.thread_context_compacted"}),
                Emit(
                    {
                        "type": "session.thread_created",
                        "session_thread_id": "sthr_c",
                        "agent_name": "helper",
                    }
                ),
                Emit(
                    {
                        "type": "session.thread_status_running",
                        "session_thread_id": "sthr_c",
                        "agent_name": "helper",
                    }
                ),
                Emit(
                    {
                        "type": "agent.thread_message_sent",
                        "to_session_thread_id": "sthr_c",
                        "content": [{"type": "text", "text": "go"}],
                    }
                ),
                Emit(
                    {
                        "type": "agent.thread_message_received",
                        "from_session_thread_id": "sthr_c",
                        "content": [{"type": "text", "text": "done"}],
                    }
                ),
                Emit(
                    {
                        "type": "session.thread_status_idle",
                        "session_thread_id": "sthr_c",
                        "agent_name": "helper",
                        "stop_reason": {"type": "end_turn"},
                    }
                ),
                Emit(
                    {
                        "type": "session.thread_status_rescheduled",
                        "session_thread_id": "sthr_c",
                        "agent_name": "helper",
                    }
                ),
                Emit(
                    {
                        "type": "session.thread_status_terminated",
                        "session_thread_id": "sthr_c",
                        "agent_name": "helper",
                    }
                ),
                Emit(
                    {
                        "type": "workflow_run.created",
                        "workflow_run_id": "wrun_1",
                        "name": "w",
                        "phases": [{"id": "wrph_1", "name": "p"}],
                    }
                ),
                Emit({"type": "workflow_run.status_running", "workflow_run_id": "wrun_1"}),
                Emit(
                    {
                        "type": "workflow_run.phase_started",
                        "workflow_run_id": "wrun_1",
                        "workflow_run_phase_id": "wrph_1",
                    }
                ),
                Emit(
                    {
                        "type": "workflow_run.phase_ended",
                        "workflow_run_id": "wrun_1",
                        "workflow_run_phase_id": "wrph_1",
                        "phase_started_id": "sevt_x",
                    }
                ),
                Emit({"type": "workflow_run.status_idle", "workflow_run_id": "wrun_1"}),
                Emit(
                    {
                        "type": "workflow_run.error",
                        "workflow_run_id": "wrun_1",
                        "error": {"type": "timeout_error", "message": "late"},
                    }
                ),
                Emit(
                    {
                        "type": "workflow_run.status_ended",
                        "workflow_run_id": "wrun_1",
                        "result": {"type": "completed"},
                    }
                ),
                Wait(0.01),
                Say("Second turn."),
            ]
        ),
        Turn([Stop("refusal", "cyber", "no")]),
        Turn([Stop("budget_reached")]),
        Turn([Error("model_request_failed_error", "exhausted")]),
        Turn([Say("outcome work")]),
        Turn([Say("bye"), Error("billing_error", "terminal")]),
    ]
)


async def test_everything_emitted_validates_against_the_sdk_stream_union() -> None:
    async with Emulator(ALL_STEPS) as emu, raw_client(emu) as client:
        session_id = (
            await client.post("/sessions", json={"agent": "a", "environment_id": "e"})
        ).json()["id"]
        sent: list[dict[str, Any]] = []
        with anyio.fail_after(15):
            async with client.stream(
                "GET",
                f"/sessions/{session_id}/events/stream",
                params={"event_deltas[]": ["agent.message", "agent.thinking"]},
            ) as response:

                async def post(*events: dict[str, Any]) -> None:
                    reply = await client.post(
                        f"/sessions/{session_id}/events", json={"events": list(events)}
                    )
                    assert reply.status_code == 200, reply.text

                await post(user_message("one"))
                async for frame in frames(response):
                    if frame.comment is not None:
                        continue
                    event = frame.json()
                    sent.append(event)
                    if event["type"] == "session.status_idle":
                        reason = event["stop_reason"]
                        if reason["type"] == "requires_action":
                            pending = [
                                emu.session(session_id).by_id[i] for i in reason["event_ids"]
                            ]
                            replies = [_answer(e) for e in pending]
                            await post(*replies)
                            continue
                        turns_done = sum(
                            1
                            for e in sent
                            if e["type"] == "session.status_idle"
                            and e["stop_reason"]["type"] != "requires_action"
                        )
                        if turns_done == 1:
                            await post({"type": "user.interrupt"})
                            await post(
                                user_message("two"),
                                {
                                    "type": "system.message",
                                    "content": [{"type": "text", "text": "s"}],
                                },
                            )
                        elif turns_done == 2:
                            update = await client.post(
                                f"/sessions/{session_id}", json={"title": "renamed"}
                            )
                            assert update.status_code == 200
                        elif turns_done in (3, 4, 5):
                            await post(user_message("next"))
                        elif turns_done == 6:
                            await post(
                                {
                                    "type": "user.define_outcome",
                                    "description": "d",
                                    "rubric": {"type": "text", "content": "r"},
                                }
                            )
                        elif turns_done == 7:
                            await post(user_message("last"))
                    if event["type"] == "session.status_terminated":
                        break
        emu.delete(session_id)
        deleted = emu.history(session_id)[-1]
    sent.append(deleted)
    for event in sent:
        model = STREAM_UNION.validate_python(event)
        assert type(model) is CLASS_BY_TYPE[event["type"]], event["type"]
    seen = {e["type"] for e in sent}
    missing = set(CLASS_BY_TYPE) - seen - {"user.tool_result"}
    assert missing == set()


def _answer(event: dict[str, Any]) -> dict[str, Any]:
    if event["type"] == "agent.custom_tool_use":
        return {
            "type": "user.custom_tool_result",
            "custom_tool_use_id": event["id"],
            "content": [{"type": "text", "text": "r"}],
        }
    verdict = "deny" if event["name"] == "read" else "allow"
    reply = {"type": "user.tool_confirmation", "tool_use_id": event["id"], "result": verdict}
    if verdict == "deny":
        reply["deny_message"] = "not that file"
    return reply


def test_the_fixture_file_validates_too() -> None:
    # guard for the test above: the union adapter accepts real-shaped events of every kind
    path = __file__.rsplit("/", 2)[0] + "/fixtures/managed_agents_events.jsonl"
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            event = json.loads(line)
            assert type(STREAM_UNION.validate_python(event)) is CLASS_BY_TYPE[event["type"]]


@pytest.mark.parametrize("bad", [{"type": "agent.message", "id": "x"}, {"type": "nope"}])
def test_the_union_adapter_rejects_bad_events(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        STREAM_UNION.validate_python(bad)
