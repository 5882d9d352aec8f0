"""``M8tesClient`` against the m8tes emulator on loopback: the runs calls, as the SDK makes them."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from m8tes_app import client_for, released_when_attached

from agentflow import AuthenticationError, ConflictError, NotFoundError, StreamError
from agentflow.m8tes import DEFAULT_BASE_URL, M8tesClient, Run, RunStream
from agentflow.testing import Emulator, Error, Question, Say, Scenario, Tool, Turn
from agentflow.testing.m8tes import M8tesEmulator

TEXT = "I will look at the build host first and then report what I found there."
GATED = Scenario(
    [
        Turn(
            [
                Say(TEXT),
                Tool("bash", {"command": "ls /var/cache"}, permission="always_ask", result="a b"),
                Say("The cache holds two entries, a and b."),
            ]
        ),
        Turn([Say("Here is the breakdown you asked for, by region.")]),
    ]
)


def test_key_and_base_url_come_from_the_sdk_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("M8TES_API_KEY", raising=False)
    monkeypatch.delenv("M8TES_BASE_URL", raising=False)
    with pytest.raises(AuthenticationError, match="M8TES_API_KEY"):
        M8tesClient()
    monkeypatch.setenv("M8TES_API_KEY", "m8_secret_key_123456")
    client = M8tesClient()
    assert client.base_url == DEFAULT_BASE_URL == "https://api.m8tes.ai/api/v2"
    monkeypatch.setenv("M8TES_BASE_URL", "http://127.0.0.1:9/api/v2/")
    client = M8tesClient()
    assert client.base_url == "http://127.0.0.1:9/api/v2"
    assert "m8_secret" not in repr(client)
    assert M8tesClient(base_url="http://127.0.0.1:8/api/v2").base_url.endswith(":8/api/v2")


async def test_a_streaming_create_names_the_run_at_once_and_streams_its_text() -> None:
    emu = Emulator(Scenario([Turn([Say(TEXT)])]), dialect="m8tes")
    assert isinstance(emu, M8tesEmulator)  # the dialect switch builds the m8tes emulator
    async with emu, client_for(emu) as client:
        emu.hold()
        with anyio.fail_after(10):
            stream = await client.runs.create(message="hi", human_in_the_loop=True)
            assert isinstance(stream, RunStream) and stream.id == 1  # from X-Run-Id
            assert [f["type"] for f in emu.frames(1)][-1] != "done"  # before the end
            emu.hold(False)
            async with stream:
                chunks = [chunk async for chunk in stream.iter_text()]
    assert "".join(chunks) == stream.text == TEXT and len(chunks) > 1
    (create,) = [r for r in emu.requests if r.method == "POST"]
    assert create.body == {"message": "hi", "stream": True, "human_in_the_loop": True}
    assert create.idempotency_key and len(create.idempotency_key) == 36  # a UUID, as the SDK


async def test_stream_text_and_a_reply_continue_the_same_run() -> None:
    scenario = Scenario([Turn([Say(TEXT)]), Turn([Say("And the second part of it.")])])
    async with M8tesEmulator(scenario) as emu, client_for(emu) as client:
        with anyio.fail_after(10):
            chunks = [c async for c in client.runs.stream_text(message="hi")]
            reply = await client.runs.reply(1, message="go on")
            assert isinstance(reply, RunStream)
            events = [e async for e in reply]
            run = await client.runs.get(1)
    assert "".join(chunks) == TEXT
    assert reply.text == "And the second part of it." and events[0].type == "metadata"
    assert (run.status, run.output, len(emu.runs)) == ("completed", reply.text, 1)
    posts = [r for r in emu.requests if r.method == "POST"]
    assert [p.path for p in posts] == ["/api/v2/runs/", "/api/v2/runs/1/reply"]
    assert all(p.idempotency_key for p in posts)
    assert posts[0].idempotency_key != posts[1].idempotency_key


async def test_a_non_streaming_create_then_poll() -> None:
    emu = Emulator(Scenario([Turn([Say(TEXT)])]), dialect="m8tes")
    assert isinstance(emu, M8tesEmulator)  # the dialect switch builds the m8tes emulator
    async with emu, client_for(emu) as client:
        with anyio.fail_after(10):
            run = await client.runs.create(message="hi", stream=False, metadata={"job": 3})
            assert isinstance(run, Run) and run.status == "running"
            done = await client.runs.poll(run.id, interval=0.01)
    assert (done.status, done.output, done.stop_reason) == ("completed", TEXT, "end_turn")
    assert emu.requests[0].body == {"message": "hi", "stream": False, "metadata": {"job": 3}}
    assert emu.requests[0].idempotency_key


async def test_a_replayed_key_joins_the_run_and_a_finished_one_is_a_conflict() -> None:
    async with M8tesEmulator(GATED) as emu, client_for(emu) as client:
        with anyio.fail_after(10):
            first = await client.runs.create(message="x", stream=False, idempotency_key="job-1")
            await emu.wait_for_status(first.id, "awaiting_approval")
            joined = await client.runs.create(message="x", idempotency_key="job-1")
            events = [e async for e in joined]  # a replay: from the run's first frame
            (gate,) = await client.runs.permissions(first.id)
            await client.runs.approve(first.id, request_id=gate.request_id)
            await emu.wait_for_status(first.id, "completed")
            with pytest.raises(ConflictError) as finished:
                await client.runs.create(message="x", idempotency_key="job-1")
    assert len(emu.runs) == 1 and joined.id == first.id
    assert events[0].id == "1:0" and events[-1].type == "awaiting_approval"
    assert joined.open_gate == gate.request_id  # it ended quietly at the gate
    assert finished.value.type == "idempotent_replay_terminal"


async def test_gates_are_listed_approved_answered_and_refusals_are_typed() -> None:
    scenario = Scenario(
        [
            Turn(
                [
                    Question("Which channel?", ("#general", "#ops"), header="Channel"),
                    Tool("slack_post", {"channel": "#ops"}, permission="always_ask"),
                    Say("Posted."),
                ]
            )
        ]  # fmt: skip
    )
    async with M8tesEmulator(scenario) as emu, client_for(emu) as client:
        with anyio.fail_after(10):
            run = await client.runs.create(message="post", stream=False)
            await emu.wait_for_status(run.id, "awaiting_approval")
            (question,) = await client.runs.permissions(run.id)
            assert question.is_question and question.status == "pending"
            receipt = await client.runs.answer(
                run.id, answers={"Which channel?": "#ops"}, request_id=question.request_id
            )
            await emu.wait_for_frame(run.id, "permission_request", count=2)
            gate = [g for g in await client.runs.permissions(run.id) if g.status == "pending"][0]
            decided = await client.runs.approve(
                run.id, request_id=gate.request_id, remember=True, reason="fine"
            )
            with pytest.raises(NotFoundError) as other:
                await client.runs.approve(run.id, request_id=gate.request_id, decision="deny")
            final = await client.runs.poll(run.id, interval=0.01)
    assert receipt.resumed is True and (decided.status, decided.remembered) == ("allowed", True)
    assert other.value.status == 404 and "already allowed" in other.value.message
    assert final.output == "Posted."
    approve = next(r for r in emu.requests if r.path.endswith("/approve"))
    assert approve.body == {"request_id": gate.request_id, "decision": "allow",
                            "remember": True, "reason": "fine"}  # fmt: skip
    assert approve.idempotency_key is None  # only run-creating POSTs carry one


async def test_permission_mode_and_cancel() -> None:
    async with M8tesEmulator(GATED) as emu, client_for(emu) as client:
        with anyio.fail_after(10):
            run = await client.runs.create(message="x", stream=False)
            await emu.wait_for_status(run.id, "awaiting_approval")
            mode = await client.runs.update_permission_mode(run.id, permission_mode="autonomous")
            await emu.wait_for_status(run.id, "completed")
            second = await client.runs.create(message="y", stream=False)
            await emu.wait_for_status(second.id, "awaiting_approval")
            cancelled = await client.runs.cancel(second.id)
            with pytest.raises(ConflictError):
                await client.runs.cancel(second.id)
    assert mode.permission_mode == "autonomous" and cancelled.status == "cancelled"


async def test_a_finished_run_re_attached_gives_its_final_state() -> None:
    emu = Emulator(Scenario([Turn([Say(TEXT)])]), dialect="m8tes")
    assert isinstance(emu, M8tesEmulator)  # the dialect switch builds the m8tes emulator
    async with emu, client_for(emu) as client:
        with anyio.fail_after(10):
            run = await client.runs.create(message="x", stream=False)
            await client.runs.poll(run.id, interval=0.01)
            events = [e async for e in client.runs.stream(run.id)]
    (status,) = events
    assert (status.type, status.kind, status.text, status.id) == (
        "run.completed", "turn.completed", TEXT, None,
    )  # fmt: skip


async def test_wrong_key_and_unknown_run_raise_typed_errors_without_the_key() -> None:
    key = "m8_required_key_0123456789"
    async with M8tesEmulator(Scenario.simple("Hi."), api_key=key) as emu:
        bad = M8tesClient(api_key="m8_wrong_key_0123456789", base_url=emu.base_url)
        async with bad, client_for(emu) as good:
            with anyio.fail_after(10):
                with pytest.raises(AuthenticationError) as denied:
                    await bad.runs.get(1)
                with pytest.raises(AuthenticationError):
                    [e async for e in bad.runs.stream(1)]
                with pytest.raises(NotFoundError) as missing:
                    await good.runs.get(99)
                with pytest.raises(NotFoundError):
                    [e async for e in good.runs.stream(99)]
                with pytest.raises(ValueError):
                    good.runs.stream(0)
    assert "m8_wrong_key" not in str(denied.value) + repr(denied.value)
    assert missing.value.request_id and missing.value.request_id.startswith("req_")


async def test_raise_on_error_reports_a_failed_run() -> None:
    scenario = Scenario(
        [Turn([Say("Starting."), Error("rate_limit", "exhausted", "Model limit.")])]
    )
    async with M8tesEmulator(scenario) as emu, client_for(emu) as client:
        with anyio.fail_after(10):
            with pytest.raises(StreamError, match="Model limit."):
                [c async for c in client.runs.stream_text(message="x", raise_on_error=True)]
            quiet = [c async for c in client.runs.stream_text(message="y")]
    assert quiet == ["Starting."]


def test_the_sync_text_helpers_stream_a_run_and_re_attach_to_it() -> None:
    from agentflow.m8tes import iter_text_sync, stream_text_sync

    asking = Scenario([Turn([Say(TEXT), Question("Which one?", ("a", "b")), Say("Thanks.")])])
    with M8tesEmulator(asking).run_in_thread() as emu:
        key, url = emu.api_key, emu.base_url
        chunks = list(
            stream_text_sync(message="hi", human_in_the_loop=True, api_key=key, base_url=url)
        )
        again = list(iter_text_sync(1, api_key=key, base_url=url))  # the run waits on its question
        status = emu.run(1).status
    assert "".join(chunks) == "".join(again) == TEXT and len(chunks) > 1
    assert status == "awaiting_approval"  # both streams ended quietly at the gate


async def test_a_stream_on_its_own_parks_at_a_gate_and_goes_on_when_iterated_again() -> None:
    async with M8tesEmulator(GATED) as emu, client_for(emu) as client:
        emu.hold()
        with anyio.fail_after(10):
            stream = await client.runs.create(message="x")
            first = [e async for e in stream]  # ends quietly: the run waits on the gate
            gate = stream.open_gate
            assert gate is not None and first[-1].type == "awaiting_approval"
            await client.runs.approve(stream.id, request_id=gate)

            async def again() -> list[Any]:
                return [e async for e in stream]  # re-attaches, skips what it delivered

            rest = await released_when_attached(emu, stream.id, again)
    frames = emu.frames(1)
    assert [e.raw for e in first + rest] == frames
    assert [e.id for e in first + rest] == [f"1:{i}" for i in range(len(frames))]
    assert stream.text == emu.run(1).output and stream.open_gate is None
