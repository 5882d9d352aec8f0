"""Pauses and their answers on the Everruns emulator: tool results, approvals, questions."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
from everruns_support import channel, create_session, management, send

from agentflow.testing import CustomTool, Question, Say, Scenario, Tool, Turn
from agentflow.testing.everruns import EverrunsEmulator

TWO_CALLS = Scenario(
    [Turn([CustomTool("a", {"n": 1}), CustomTool("b", {"n": 2}), Say("Both done.")])]
)


def types(history: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in history]


async def _results(
    client: httpx.AsyncClient, session_id: str, *results: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        f"/sessions/{session_id}/tool-results", json={"tool_results": list(results)}
    )


async def test_tool_results_answer_409_unless_the_session_waits_for_them() -> None:
    async with EverrunsEmulator(Scenario.simple("hi")) as emu, management(emu) as client:
        session_id = await create_session(client)
        before = await _results(client, session_id, {"tool_call_id": "call_x", "result": 1})
        await send(client, session_id)
        with anyio.fail_after(5):
            await emu.wait_for_event(session_id, "session.idled")
        after = await _results(client, session_id, {"tool_call_id": "call_x", "result": 1})
    for response in (before, after):
        assert response.status_code == 409
        assert "not waiting for tool results" in response.json()["error"]["message"]


async def test_partial_results_keep_waiting_then_every_call_completes_in_order() -> None:
    async with EverrunsEmulator(TWO_CALLS) as emu, management(emu) as client:
        session_id = await create_session(client)
        await send(client, session_id)
        with anyio.fail_after(5):
            requested = await emu.wait_for_event(session_id, "tool.call_requested")
            a, b = (c["id"] for c in requested["data"]["tool_calls"])
            wrong = await _results(client, session_id, {"tool_call_id": "call_nope", "result": 1})
            first = await _results(client, session_id, {"tool_call_id": b, "error": "boom"})
            waiting = (await client.get(f"/sessions/{session_id}")).json()["status"]
            blocked = types(emu.history(session_id))
            second = await _results(client, session_id, {"tool_call_id": a, "result": {"x": 1}})
            await emu.wait_for_event(session_id, "session.idled")
        history = emu.history(session_id)
    assert wrong.status_code == 400 and "call_nope" in wrong.json()["error"]["message"]
    assert first.json() == second.json() == {"accepted": 1, "status": "accepted"}
    assert waiting == "waitingfortoolresults"
    assert "tool.completed" not in blocked
    done = [e["data"] for e in history if e["type"] == "tool.completed"]
    assert [(d["tool_call_id"], d["success"]) for d in done] == [(a, True), (b, False)]
    assert json.loads(done[0]["result"][0]["text"]) == {"x": 1}
    assert done[1]["error"] == "boom"
    assert types(history)[-4:] == [
        "output.message.delta",
        "output.message.completed",
        "turn.completed",
        "session.idled",
    ]


async def test_approvals_on_the_channel_surface_allow_and_deny() -> None:
    scenario = Scenario(
        [
            Turn(
                [
                    Tool("rm", {"path": "/a"}, permission="always_ask", result="removed /a"),
                    Tool("rm", {"path": "/b"}, permission="always_ask"),
                    Tool("ls", {}, permission="always_allow", result="a b"),
                ]
            )
        ]
    )
    async with EverrunsEmulator(scenario, agent_key="evr_ak_1") as emu, channel(emu) as agent:
        session_id = await create_session(agent, title="approve")
        await send(agent, session_id)
        with anyio.fail_after(5):
            await emu.wait_for_event(session_id, "tool.approval_requested", count=2)
            pending = (await agent.get(f"/sessions/{session_id}")).json()["pending_approvals"]
            first, second = pending
            url = f"/sessions/{session_id}/tool-approvals"
            bad = await agent.post(url, json={"decisions": [{"tool_call_id": "x"}]})
            allow = {"tool_call_id": first["tool_call_id"], "decision": "allow"}
            deny = {"approval_id": second["id"], "decision": "reject", "reason": "not /b"}
            answered = await agent.post(url, json={"decisions": [allow, deny]})
            await emu.wait_for_event(session_id, "session.idled")
            none_left = await agent.post(url, json={"decisions": [allow]})
        history = emu.history(session_id)
    assert [p["arguments"] for p in pending] == [{"path": "/a"}, {"path": "/b"}]
    assert bad.status_code == 400
    assert answered.json() == {"accepted": 2, "status": "accepted"}
    assert none_left.status_code == 409
    resolved = [e["data"]["decision"] for e in history if e["type"] == "tool.approval_resolved"]
    assert resolved == ["allow", "deny"]
    done = {e["data"]["tool_call_id"]: e["data"] for e in history if e["type"] == "tool.completed"}
    assert done[first["tool_call_id"]]["result"] == [{"type": "text", "text": "removed /a"}]
    assert done[second["tool_call_id"]]["success"] is False
    assert "not /b" in done[second["tool_call_id"]]["error"]
    ls = next(d for d in done.values() if d["tool_name"] == "ls")  # server-run, at once
    assert ls["success"] is True


async def test_questions_on_the_channel_surface() -> None:
    scenario = Scenario([Turn([Question("Ship today?", ("yes", "no"), "Shipping"), Say("OK.")])])
    async with EverrunsEmulator(scenario) as emu, channel(emu) as agent:
        session_id = await create_session(agent)
        url = f"/sessions/{session_id}/question-answers"
        early = await agent.post(url, json={"answers": {"Ship today?": "yes"}})
        await send(agent, session_id)
        with anyio.fail_after(5):
            await emu.wait_for_event(session_id, "question.requested")
            (pending,) = (await agent.get(f"/sessions/{session_id}")).json()["pending_questions"]
            empty = await agent.post(url, json={"answers": {}})
            stray = await agent.post(url, json={"answers": {"Other?": "x"}})
            answered = await agent.post(url, json={"answers": {"Ship today?": "yes"}})
            await emu.wait_for_event(session_id, "session.idled")
        history = emu.history(session_id)
    assert early.status_code == 409
    question = pending["questions"][0]
    assert (question["question"], question["header"]) == ("Ship today?", "Shipping")
    assert [o["label"] for o in question["options"]] == ["yes", "no"]
    assert empty.status_code == stray.status_code == 400
    assert answered.json()["accepted"] == 1
    answered_event = next(e for e in history if e["type"] == "question.answered")
    assert answered_event["data"]["answers"] == {question["id"]: "yes"}
    ask = next(e for e in history if e["type"] == "tool.completed")
    assert ask["data"]["tool_name"] == "ask_user"


async def test_cancel_ends_a_waiting_turn_and_a_new_message_supersedes_a_tool_wait() -> None:
    scenario = Scenario([Turn([CustomTool("slow")]), Turn([CustomTool("slow")])])
    async with EverrunsEmulator(scenario) as emu, management(emu) as client:
        session_id = await create_session(client)
        idle = (await client.post(f"/sessions/{session_id}/cancel", json={})).json()
        await send(client, session_id)
        with anyio.fail_after(5):
            await emu.wait_for_event(session_id, "tool.call_requested")
            await send(client, session_id, "never mind")  # cancels the wait, starts turn 2
            await emu.wait_for_event(session_id, "tool.call_requested", count=2)
            cancelled = (await client.post(f"/sessions/{session_id}/cancel", json={})).json()
        history = emu.history(session_id)
        status = emu.session(session_id).status
    assert idle == {"status": "no_op"} and cancelled == {"status": "cancelled"}
    ends = [e for e in history if e["type"] == "turn.cancelled"]
    assert [e["data"]["reason"] for e in ends] == ["new_message", "cancelled"]
    done = [e["data"] for e in history if e["type"] == "tool.completed"]
    assert [(d["success"], d["status"]) for d in done] == [(False, "cancelled")] * 2
    assert types(history)[-1] == "session.idled" and status == "idle"


async def test_auth_idempotency_and_unknown_routes() -> None:
    async with EverrunsEmulator(api_key="evr_pat_k", agent_key="evr_ak_k") as emu:
        async with management(emu) as client, channel(emu) as agent:
            wrong = await client.get("/sessions", headers={"Authorization": "evr_pat_other"})
            bearer = await client.get("/sessions", headers={"Authorization": "Bearer evr_pat_k"})
            chan_raw = await agent.get("/sessions", headers={"Authorization": "evr_ak_k"})
            chan_pat = await agent.get("/sessions", headers={"Authorization": "Bearer evr_pat_k"})
            headers = {"Idempotency-Key": "idem-1"}
            one = await agent.post("/sessions", json={"title": "x"}, headers=headers)
            two = await agent.post("/sessions", json={"title": "x"}, headers=headers)
            other = await agent.post("/sessions", json={"title": "y"}, headers=headers)
            lost = await client.get("/nope")
            other_channel = await agent.get(emu.base_url + "/v1/channels/apichan_other/sessions")
    assert wrong.status_code == chan_pat.status_code == 401
    assert "evr_pat" not in wrong.text and "evr_pat" not in chan_pat.text
    assert bearer.status_code == chan_raw.status_code == 200
    assert one.json()["id"] == two.json()["id"] and two.headers["idempotent-replay"] == "true"
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reuse"
    assert lost.status_code == 404 and other_channel.status_code == 404
    auth_styles = [(r.surface, r.auth) for r in emu.requests[:4]]
    assert auth_styles == [
        ("management", "raw"),
        ("management", "bearer"),
        ("channel", "raw"),
        ("channel", "bearer"),
    ]
