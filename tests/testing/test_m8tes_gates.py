"""Human gates, questions, cancel and replies on the m8tes emulator, on the raw wire."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
from m8tes_support import create, decoded, raw_client, read_all, types

from agentflow.testing import Question, Say, Scenario, Tool, Turn
from agentflow.testing.m8tes import M8tesEmulator

GATED = Scenario(
    [
        Turn(
            [
                Say("Clearing the cache."),
                Tool(
                    "bash",
                    {"command": "rm -rf /var/cache/build"},
                    permission="always_ask",
                    result="ok",
                ),
                Say("Cleared."),
            ]
        ),
        Turn([Say("Second turn.")]),
    ]
)


async def _parked(client: httpx.AsyncClient, **body: Any) -> list[Any]:
    """Stream a new run until the gate closes the stream; returns its frames."""
    async with client.stream("POST", "/runs/", json={"message": "x", **body}) as response:
        return decoded(await read_all(response))


async def test_a_gate_ends_the_stream_cleanly_and_approve_resumes_the_run() -> None:
    async with M8tesEmulator(GATED) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            frames = await _parked(client)
            status = (await client.get("/runs/1")).json()["status"]
            async with client.stream("GET", "/runs/1/stream") as response:
                parked_replay = decoded(await read_all(response))
            (gate,) = (await client.get("/runs/1/permissions")).json()
            answer = await client.post(
                "/runs/1/answer", json={"answers": {"q": "a"}}
            )  # a tool gate is not a question
            body = {"request_id": gate["request_id"], "decision": "allow", "remember": False}
            approved = await client.post("/runs/1/approve", json=body)
            repeated = await client.post("/runs/1/approve", json=body)
            await emu.wait_for_status(1, "completed")
    call = next(f for f in frames if f["type"] == "tool-call-start")
    ids = {"request_id": gate["request_id"], "tool_use_id": call["toolCallId"], "tool_name": "bash"}
    assert frames[-2:] == [
        {"type": "permission_request", **ids, "tool_input": {"command": "rm -rf /var/cache/build"}},
        {"type": "awaiting_approval", **ids},
    ]  # and no [DONE]: the run is parked, not over
    assert status == "awaiting_approval" and parked_replay == frames
    assert (gate["status"], gate["tool_use_id"], gate["timeout_seconds"]) == (
        "pending",
        call["toolCallId"],
        55,
    )
    assert answer.status_code == 404 and answer.json()["error"]["error_code"] == "gate_not_found"
    assert approved.json()["status"] == "allowed" and approved.json()["resumed"] is True
    assert repeated.status_code == 200 and repeated.json()["resumed"] is False
    after = emu.frames(1)[len(frames) :]
    assert after[0] == {
        "type": "permission_resolved",
        "request_id": gate["request_id"],
        "tool_use_id": call["toolCallId"],
        "resolved_status": "allowed",
    }
    assert types(after)[1:3] == ["tool-result-start", "tool-result-end"]
    assert types(after)[-2:] == ["run_metrics", "done"]


async def test_approve_refuses_what_it_cannot_apply() -> None:
    async with M8tesEmulator(GATED) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            await _parked(client)
            request_id = emu.run(1).open_gate().request_id  # type: ignore[union-attr]
            bad = await client.post("/runs/1/approve", json={"request_id": request_id})
            unknown = await client.post(
                "/runs/1/approve", json={"request_id": "perm_x", "decision": "allow"}
            )
            await client.post("/runs/1/cancel")
            cancelled = await client.post(
                "/runs/1/approve", json={"request_id": request_id, "decision": "allow"}
            )
            again = await client.post("/runs/1/cancel")
            stream = await client.get("/runs/1/stream")
    assert bad.status_code == 422 and "decision" in bad.json()["error"]["message"]
    assert unknown.json()["error"]["error_code"] == "gate_not_found"
    assert cancelled.json()["error"]["error_code"] == "gate_cancelled"
    assert again.status_code == 409 and stream.status_code == 409
    assert emu.frames(1)[-1] == {"type": "cancelled", "run_id": 1}
    assert emu.run(1).status == "cancelled"


async def test_a_question_gate_is_answered_by_answer() -> None:
    scenario = Scenario([Turn([Question("Which region?", ("EU", "US")), Say("EU it is.")])])
    async with M8tesEmulator(scenario) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            frames = await _parked(client, human_in_the_loop=True)
            approve = await client.post(
                "/runs/1/approve",
                json={"request_id": frames[-1]["request_id"], "decision": "allow"},
            )
            answered = await client.post(
                "/runs/1/answer", json={"answers": {"Which region?": "EU"}}
            )
            late = await client.post("/runs/1/answer", json={"answers": {"Which region?": "US"}})
            await emu.wait_for_status(1, "completed")
            (gate,) = (await client.get("/runs/1/permissions")).json()
            await create(client, human_in_the_loop=False)  # no human: the question is said
            await emu.wait_for_status(2, "completed")
    call = next(f for f in frames if f["type"] == "tool-call-start")
    assert call["toolName"] == "AskUserQuestion" and frames[-1]["type"] == "awaiting_approval"
    assert approve.status_code == 422  # questions take answers, not decisions
    assert answered.json() == {"status": "ok", "resumed": True}
    assert late.status_code == 409  # the run is no longer waiting
    assert gate["tool_input"]["answers"] == {"Which region?": "EU"}
    assert gate["tool_input"]["questions"][0]["options"][1] == {"label": "US", "description": ""}
    result = next(f for f in emu.frames(1) if f["type"] == "tool-result-end")
    assert "Which region? -> EU" in result["result"]
    assert emu.run(2).output == "Which region?EU it is." and emu.run(2).gates == {}


async def test_a_reply_while_parked_is_queued_and_runs_after_the_turn() -> None:
    async with M8tesEmulator(GATED) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            await _parked(client)
            queued = await client.post("/runs/1/reply", json={"message": "m", "stream": False})
            state = (await client.get("/runs/1")).json()
            request_id = emu.run(1).open_gate().request_id  # type: ignore[union-attr]
            await client.post(
                "/runs/1/approve", json={"request_id": request_id, "decision": "allow"}
            )
            await emu.wait_for_frame(1, "done", count=2)
            final = (await client.get("/runs/1")).json()
    receipt = queued.json()
    assert (receipt["delivery"], receipt["queued_message_id"]) == ("queued", 1)
    assert state["pending_queued_message_ids"] == [1]
    assert (final["status"], final["output"], final["pending_queued_message_ids"]) == (
        "completed",
        "Second turn.",
        [],
    )


async def test_remember_allows_the_tool_on_later_gates_and_autonomous_skips_them() -> None:
    async with M8tesEmulator(GATED) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            frames = await _parked(client)
            body = {"request_id": frames[-1]["request_id"], "decision": "allow", "remember": True}
            remembered = (await client.post("/runs/1/approve", json=body)).json()["remembered"]
            await emu.wait_for_status(1, "completed")
            await create(client)
            await emu.wait_for_status(2, "completed")
    assert remembered is True
    auto = next(f for f in emu.frames(2) if f["type"] == "permission_auto_allowed")
    assert auto["tool_name"] == "bash" and emu.run(2).gates == {}


async def test_a_streaming_reply_streams_the_next_turn_only() -> None:
    async with M8tesEmulator(Scenario.simple("One.", "Two.")) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            await create(client)
            await emu.wait_for_status(1, "completed")
            async with client.stream("POST", "/runs/1/reply", json={"message": "m"}) as response:
                assert response.headers["x-run-id"] == "1"
                frames = decoded(await read_all(response))
    assert frames[0] == {"type": "metadata", "payload": {"run_id": 1}}
    assert [f["delta"] for f in frames if f != "[DONE]" and f["type"] == "text-delta"] == ["Two."]
    assert frames[-1] == "[DONE]"
