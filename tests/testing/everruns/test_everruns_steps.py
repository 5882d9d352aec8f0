"""Scenario steps rendered as Everruns events, and the session resources around them."""

from __future__ import annotations

from typing import Any

import anyio
from everruns_support import create_session, management, message, send

from agentflow.testing import (
    Burst,
    Emit,
    Error,
    McpTool,
    Say,
    Scenario,
    Stop,
    Tool,
    Turn,
    Usage,
    Wait,
)
from agentflow.testing.everruns import EverrunsEmulator


async def _history(scenario: Scenario, *texts: str) -> list[dict[str, Any]]:
    texts = texts or ("hi",)
    async with EverrunsEmulator(scenario) as emu, management(emu) as client:
        session_id = await create_session(client)
        for text in texts:
            await send(client, session_id, text)
        with anyio.fail_after(5):
            await emu.wait_for_event(session_id, "session.idled", count=len(texts))
        return emu.history(session_id)


def _types(history: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in history]


async def test_say_streams_deltas_with_accumulated_text_and_a_usage_bearing_turn_end() -> None:
    history = await _history(Scenario([Turn([Say("a b c d e f g", thinking=True)])]))
    assert _types(history)[:4] == [
        "input.message",
        "turn.started",
        "reason.thinking.started",
        "reason.thinking.delta",
    ]
    deltas = [e["data"] for e in history if e["type"] == "output.message.delta"]
    assert [d["delta"] for d in deltas] == ["a b c", " d e f", " g"]
    assert [d["accumulated"] for d in deltas] == ["a b c", "a b c d e f", "a b c d e f g"]
    done = next(e["data"] for e in history if e["type"] == "output.message.completed")
    assert done["message"]["role"] == "agent"
    assert done["message"]["content"] == [{"type": "text", "text": "a b c d e f g"}]
    completed, idled = history[-2]["data"], history[-1]["data"]
    assert completed["final_message_id"] == done["message"]["id"]
    assert completed["usage"]["input_tokens"] == 100 and idled["usage"] == completed["usage"]
    thinking = next(e["data"] for e in history if e["type"] == "reason.thinking.completed")
    assert thinking["thinking"]


async def test_error_fails_the_turn_and_stop_ends_it_early() -> None:
    scenario = Scenario(
        [
            Turn([Say("x"), Error("llm_error", message="Model down."), Say("never")]),
            Turn([Stop("refusal"), Say("never")]),
        ]
    )
    history = await _history(scenario, "one", "two")
    failed = next(e["data"] for e in history if e["type"] == "turn.failed")
    assert (failed["error"], failed["error_code"]) == ("Model down.", "llm_error")
    texts = [e["data"]["message"]["content"][0]["text"] for e in history if "message" in e["data"]]
    assert "never" not in texts
    ends = [t for t in _types(history) if t.startswith("turn.") and t != "turn.started"]
    assert ends == ["turn.failed", "turn.completed"]
    assert _types(history).count("session.idled") == 2


async def test_server_tools_bursts_emits_and_usage() -> None:
    scenario = Scenario(
        [
            Turn(
                [
                    Tool("ls", {}, result="a b"),
                    Tool("rm", {}, permission="deny"),
                    McpTool("github", "search", {"q": "x"}),
                    Usage(),
                    Burst(5),
                    Emit({"type": "custom.note", "data": {"note": 1}}),
                ]
            )
        ]
    )
    history = await _history(scenario)
    started = [e["data"]["tool_call"]["name"] for e in history if e["type"] == "tool.started"]
    done = [e["data"] for e in history if e["type"] == "tool.completed"]
    assert started == ["ls", "rm", "search"]
    assert [(d["tool_name"], d["success"]) for d in done] == [
        ("ls", True),
        ("rm", False),
        ("search", True),
    ]
    assert _types(history).count("output.message.completed") == 5
    note = next(e for e in history if e["type"] == "custom.note")
    assert note["data"] == {"note": 1} and note["context"]["turn_id"]
    assert history[-2]["data"]["tool_call_count"] == 3


async def test_messages_queue_behind_a_running_turn_and_resources_render() -> None:
    scenario = Scenario([Turn([Wait(0.2), Say("first")]), Turn([Say("second")])])
    async with EverrunsEmulator(scenario) as emu, management(emu) as client:
        tools = [
            {"type": "client_side", "name": "f", "description": "d", "parameters": {}},
            {"type": "builtin", "name": "web", "description": "d", "parameters": {}},
        ]
        session_id = await create_session(client, title="t", tools=tools)
        await send(client, session_id, "one")
        await send(client, session_id, "two")  # arrives while turn one runs
        bad_role = await client.post(
            f"/sessions/{session_id}/messages",
            json={"message": {"role": "agent", "content": [{"type": "text", "text": "x"}]}},
        )
        bad_body = await client.post(f"/sessions/{session_id}/messages", json={"nope": 1})
        with anyio.fail_after(5):
            await emu.wait_for_event(session_id, "session.idled", count=2)
        resource = (await client.get(f"/sessions/{session_id}")).json()
        messages = (await client.get(f"/sessions/{session_id}/messages")).json()["data"]
        listed = (await client.get("/sessions")).json()["data"]
        deleted = await client.delete(f"/sessions/{session_id}")
        gone = await client.get(f"/sessions/{session_id}")
        not_json = await client.post("/sessions", content=b"{oops")
        history = emu.history(session_id)
    turns = [e for e in history if e["type"] == "turn.started"]
    assert len(turns) == 2 and history.index(turns[1]) > _types(history).index("session.idled")
    assert bad_role.status_code == bad_body.status_code == not_json.status_code == 400
    assert [t["name"] for t in resource["tools"]] == ["f"]  # only client_side tools are kept
    assert resource["status"] == "idle" and resource["title"] == "t"
    assert resource["pending_approvals"] == [] and resource["pending_questions"] == []
    assert [m["role"] for m in messages] == ["user", "user", "agent", "agent"]
    assert [s["id"] for s in listed] == [session_id]
    assert deleted.status_code == 204 and gone.status_code == 404
    assert message("x")["message"]["role"] == "user"
