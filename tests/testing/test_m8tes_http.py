"""The m8tes emulator on the wire, read with a raw httpx client: streams, re-attach, errors."""

from __future__ import annotations

import json

import anyio
from m8tes_support import create, decoded, messages, payloads, raw_client, read_all, types

from agentflow.testing import Emit, Emulator, Faults, McpTool, Say, Scenario, Think, Turn, Usage
from agentflow.testing.m8tes import M8tesEmulator
from agentflow.testing.m8tes.frames import encode

TEXT = "The weather in Paris is sunny and mild today, about twenty one degrees."


async def test_a_streaming_create_is_data_only_sse_named_by_x_run_id() -> None:
    scenario = Scenario([Turn([Think(), Say(TEXT), McpTool("crm", "lookup", {"id": 7}), Usage()])])
    async with M8tesEmulator(scenario) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            async with client.stream("POST", "/runs/", json={"message": "hi"}) as response:
                headers = response.headers
                frames = decoded(await read_all(response))
    assert headers["x-run-id"] == "1" and headers["content-type"].startswith("text/event-stream")
    assert frames[0] == {"type": "metadata", "payload": {"run_id": 1}}
    assert frames[-1] == "[DONE]"
    assert frames[-2] == {
        "type": "done",
        "stop_reason": "end_turn",
        "completion_state": "complete",
        "unresolved_tool_use_ids": [],
    }
    assert frames[-3]["type"] == "run_metrics" and frames[-3]["stop_reason"] == "end_turn"
    assert "".join(f["delta"] for f in frames[1:-1] if f["type"] == "text-delta") == TEXT
    seen = types(frames)
    assert seen.index("reasoning-start") < seen.index("reasoning-delta") < seen.index("text-start")
    call = next(f for f in frames[1:-1] if f["type"] == "tool-call-start")
    assert call["toolName"] == "mcp__crm__lookup"
    args = "".join(
        f["delta"] for f in frames[1:-1] if f["type"] == "tool-call-delta"
    )  # JSON fragments of the input
    assert json.loads(args) == {"id": 7}
    end = next(f for f in frames[1:-1] if f["type"] == "tool-result-end")
    assert end == {"type": "tool-result-end", "toolCallId": call["toolCallId"], "result": "ok"}
    starts = [f["messageId"] for f in frames[1:-1] if f["type"] == "message-start"]
    assert starts == [f["messageId"] for f in frames[1:-1] if f["type"] == "message-end"]
    assert emu.frames(1) == frames[:-1]  # the run's history is what was streamed


async def test_reattach_replays_the_whole_run_then_goes_on_live() -> None:
    async with M8tesEmulator(Scenario([Turn([Say(TEXT), Say("More.")])])) as emu:
        emu.hold()
        async with raw_client(emu) as client:
            with anyio.fail_after(10):
                await create(client)
                await emu.wait_held(1)
                before = emu.frames(1)
                async with client.stream("GET", "/runs/1/stream") as response:
                    assert response.headers["x-run-id"] == "1"
                    body = payloads(response)
                    replayed = [json.loads(await body.__anext__()) for _ in before]
                    emu.release(1)
                    live = decoded([p async for p in body])
    assert replayed == before and replayed[0]["type"] == "metadata"
    assert types(live) == ["run_metrics", "done", "[DONE]"]


async def test_an_ended_run_has_no_stream_and_unknown_things_are_404() -> None:
    async with M8tesEmulator(Scenario.simple("Done.")) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            run = await create(client)
            assert run["status"] == "running" and run["id"] == 1
            await emu.wait_for_status(1, "completed")
            ended = await client.get("/runs/1/stream")
            unknown = await client.get("/runs/42/stream")
            no_route = await client.get("/teammates/")
            final = (await client.get("/runs/1")).json()
    assert ended.status_code == 409
    error = ended.json()["error"]
    assert (error["type"], error["code"], error["error_code"]) == (
        "conflict_error",
        409,
        "run_not_active",
    )
    assert error["details"] == {"error_code": "run_not_active"}
    assert error["request_id"] == ended.headers["x-request-id"]
    assert unknown.status_code == 404 and unknown.json()["error"]["error_code"] == "run_not_found"
    assert (no_route.status_code, no_route.json()) == (404, {"detail": "Not Found"})
    assert (final["status"], final["output"], final["stop_reason"]) == (
        "completed",
        "Done.",
        "end_turn",
    )


async def test_a_replayed_idempotency_key_answers_the_same_run_as_json() -> None:
    async with M8tesEmulator(Scenario.simple("One.", "Two.")) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            key = {"Idempotency-Key": "job-7"}
            first = await client.post("/runs/", json={"message": "a", "stream": False}, headers=key)
            again = await client.post("/runs/", json={"message": "a"}, headers=key)  # streaming
            other = await create(client)
            await emu.wait_for_status(1, "completed")
            reply_key = {"Idempotency-Key": "reply-1"}
            body = {"message": "b", "stream": False}
            replied = await client.post("/runs/1/reply", json=body, headers=reply_key)
            replayed = await client.post("/runs/1/reply", json=body, headers=reply_key)
            await emu.wait_for_frame(1, "done", count=2)
    assert "idempotent-replay" not in first.headers
    assert again.headers["idempotent-replay"] == "true" and again.headers["x-run-id"] == "1"
    assert again.headers["content-type"] == "application/json"  # a replay is never SSE
    assert list(again.json())[0] == "id" and again.json()["id"] == first.json()["id"] == 1
    assert other["id"] == 2 and len(emu.runs) == 2
    assert replied.json()["delivery"] == "resumed" and "idempotent-replay" not in replied.headers
    assert replayed.headers["idempotent-replay"] == "true"
    assert emu.run(1).turn == 2  # the replayed reply did not start a third turn
    logged = [(r.path, r.idempotency_key) for r in emu.requests if r.method == "POST"]
    assert logged[:2] == [("/api/v2/runs/", "job-7")] * 2


async def test_bearer_auth_is_required_and_keys_stay_out_of_the_log() -> None:
    key = "m8_secret_key_value"
    async with M8tesEmulator(Scenario.simple("Hi."), api_key=key) as emu:
        async with raw_client(emu, "m8_wrong") as wrong, raw_client(emu) as right:
            with anyio.fail_after(10):
                bad = await wrong.get("/runs/")
                bare = await right.get("/runs/", headers={"Authorization": ""})
                good = await right.get("/runs/")
    assert bad.status_code == bare.status_code == 401
    assert bad.json()["error"]["type"] == "authentication_error"
    assert good.status_code == 200 and good.json() == {
        "data": [],
        "has_more": False,
        "next_starting_after": None,
    }
    assert key not in repr(emu.requests) and key not in repr(emu)


async def test_bad_input_gets_a_422_naming_the_field() -> None:
    async with M8tesEmulator(Scenario.simple("Hi.")) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            no_message = await client.post("/runs/", json={"stream": False})
            bad_mode = await client.post("/runs/", json={"message": "x", "permission_mode": "yolo"})
            not_json = await client.post("/runs/", content=b"{", headers={"Content-Type": "x"})
            bad_patch = await client.patch("/runs/1/permission-mode", json={})
    assert {r.status_code for r in (no_message, bad_mode, not_json)} == {422}
    assert "message is required" in no_message.json()["error"]["message"]
    assert "permission_mode" in bad_mode.json()["error"]["message"]
    assert bad_patch.status_code == 404  # no run 1: nothing was created
    assert emu.runs == {}
    assert emu.requests[2].body == "{"  # bodies are logged even when they are not JSON


async def test_keep_alive_frames_flow_while_the_run_is_quiet() -> None:
    keepalive = 'data: {"type":"keep-alive"}'
    scenario = Scenario([Turn([Say("Hi.")])], faults=Faults(keepalive_seconds=0.02))
    async with M8tesEmulator(scenario) as emu, raw_client(emu) as client:
        emu.hold()
        with anyio.fail_after(10):
            async with client.stream("POST", "/runs/", json={"message": "x"}) as response:
                seen: list[str] = []
                async for block in messages(response):
                    seen.append(block)
                    if seen.count(keepalive) == 2:
                        break
                frames = emu.frames(1)
                emu.release(1)
    assert [b for b in seen if b != keepalive] == [f"data: {encode(f)}" for f in frames]
    assert types(frames)[-1] == "message-end"  # held before run_metrics: the run was quiet


async def test_emit_steps_and_the_emit_knob_stream_frames_as_given() -> None:
    scenario = Scenario([Turn([Emit({"type": "sandbox-connected", "sandbox_id": "sb_1"})])])
    async with M8tesEmulator(scenario) as emu, raw_client(emu) as client:
        emu.hold()
        with anyio.fail_after(10):
            async with client.stream("POST", "/runs/", json={"message": "x"}) as response:
                await emu.wait_held(1)
                emu.emit(1, {"type": "todo-update", "toolCallId": "t1", "todos": []})
                emu.release(1)
                frames = decoded(await read_all(response))
    assert frames[1] == {"type": "sandbox-connected", "sandbox_id": "sb_1"}
    assert frames[2] == {"type": "todo-update", "toolCallId": "t1", "todos": []}


async def test_a_json_scenario_and_the_dialect_switch_build_the_same_emulator() -> None:
    scenario = {"turns": [{"steps": [{"say": "From JSON."}]}]}
    emu = Emulator(scenario, dialect="m8tes")
    assert isinstance(emu, M8tesEmulator)
    async with emu, raw_client(emu) as client:
        assert emu.base_url.endswith("/api/v2")
        with anyio.fail_after(10):
            await create(client)
            await emu.wait_for_status(1, "completed")
    assert emu.run(1).output == "From JSON."
