"""Streams cut mid-run or at a gate are re-attached; nothing is dispatched twice."""

from __future__ import annotations

import anyio
import httpx
import pytest
from m8tes_app import QUICK, CutAfter, Recorder, client_for, released_when_attached

from agentflow import Deny, TransportError
from agentflow.core.context import Context
from agentflow.core.events import Event
from agentflow.m8tes import M8tesClient
from agentflow.testing import Burst, Faults, Say, Scenario, Tool, Turn
from agentflow.testing.m8tes import M8tesEmulator

TEXT = "I will look at the build host first and then report what I found there."
LONG = Scenario([Turn([Say(TEXT), Burst(40, "line"), Say("That is all of it.")])])
GATED = Scenario(
    [
        Turn(
            [
                Say(TEXT),
                Tool("bash", {"command": "ls /var/cache"}, permission="always_ask", result="a b"),
                Say("The cache holds two entries, a and b."),
            ]
        )
    ]
)


def _stream_gets(emu: M8tesEmulator, run_id: int = 1) -> int:
    return [r.path for r in emu.requests].count(f"/api/v2/runs/{run_id}/stream")


async def test_a_stream_cut_mid_run_is_re_attached_and_nothing_is_dispatched_twice() -> None:
    rec = Recorder()
    async with M8tesEmulator(LONG) as emu, client_for(emu) as client:
        emu.hold()
        with anyio.fail_after(15):
            run = await client.runs.create(message="go")
            async with anyio.create_task_group() as tg:
                results = []

                async def go() -> None:
                    results.append(await rec.app.run(client, run.id))

                tg.start_soon(go)
                await emu.wait_held(run.id)
                await emu.wait_for_streams(run.id)
                before = len(rec.seen)
                assert emu.drop_streams(run.id) == 1  # cut: no [DONE], no terminal frame
                await emu.wait_for_streams(run.id)  # re-attached
                emu.release(run.id)
        frames = emu.frames(run.id)
    (result,) = results
    assert 0 < before < len(frames)
    assert rec.frames(run.id) == frames and rec.ids == [f"1:{i}" for i in range(len(frames))]
    assert _stream_gets(emu) == 1 and result.stop_reason == "end_turn"
    assert result.text == "That is all of it."


async def test_a_cut_while_a_gate_is_open_waits_for_the_answer_then_re_attaches() -> None:
    rec = Recorder()
    cutter = CutAfter(b'"type":"permission_request"')
    order: list[str] = []

    @rec.app.confirm("bash")
    async def slow_denial(event: Event, ctx: Context) -> Deny:
        await cutter.cut.wait()  # the connection is already broken while this decides
        order.append(f"deciding, {_stream_gets(emu)} re-attaches so far")
        return Deny("Not on this host.")

    async with M8tesEmulator(GATED) as emu:
        http = httpx.AsyncClient(transport=cutter, timeout=10)
        client = client_for(emu, http_client=http)
        emu.hold()
        async with http, client:
            with anyio.fail_after(15):
                run = await client.runs.create(message="go")
                result = await released_when_attached(
                    emu, run.id, lambda: rec.app.run(client, run.id)
                )
        frames = emu.frames(run.id)
        paths = [r.path for r in emu.requests]
    assert order == ["deciding, 0 re-attaches so far"]
    assert paths.count("/api/v2/runs/1/approve") == 1
    assert paths.index("/api/v2/runs/1/approve") < paths.index("/api/v2/runs/1/stream")
    # The cut came between permission_request and awaiting_approval: the replay brought
    # awaiting_approval (no second answer) and the rest, each once.
    assert rec.frames(run.id) == frames and rec.ids == [f"1:{i}" for i in range(len(frames))]
    assert result.stop_reason == "end_turn" and [c.outcome for c in result.tool_calls] == ["denied"]


async def test_a_run_that_finished_while_cut_off_ends_with_its_final_state() -> None:
    rec = Recorder()
    parked = anyio.Event()
    go_on = anyio.Event()

    async def sleep(seconds: float) -> None:  # the client's backoff, held by the test
        parked.set()
        await go_on.wait()

    async with M8tesEmulator(LONG) as emu:
        async with client_for(emu, sleep=sleep) as client:
            emu.hold()
            with anyio.fail_after(15):
                run = await client.runs.create(message="go")
                async with anyio.create_task_group() as tg:
                    results = []

                    async def go() -> None:
                        results.append(await rec.app.run(client, run.id))

                    tg.start_soon(go)
                    await emu.wait_held(run.id)
                    await emu.wait_for_streams(run.id)
                    emu.drop_streams(run.id)
                    await parked.wait()  # the client waits before re-attaching ...
                    emu.release(run.id)  # ... while the run finishes
                    await emu.wait_for_status(run.id, "completed")
                    go_on.set()
        frames = emu.frames(run.id)
    (result,) = results
    # The 409 made the client read the run: its end, from the run itself.
    assert (result.stop_reason, rec.events[-1].type, rec.events[-1].id) == (
        "end_turn", "run.completed", None,
    )  # fmt: skip
    assert rec.events[-1].text == emu.run(run.id).output
    dispatched = rec.frames(run.id)
    assert dispatched == frames[: len(dispatched)] and len(dispatched) < len(frames)


@pytest.mark.parametrize(
    "faults",
    [Faults(drop_every=7), Faults(stall_after=7, stall_seconds=5.0)],
    ids=["drop_every", "stall"],
)
async def test_re_attaches_that_bring_nothing_new_give_up_after_max_attempts(
    faults: Faults,
) -> None:
    rec = Recorder()
    async with M8tesEmulator(LONG.with_faults(**faults.__dict__)) as emu:
        client = M8tesClient(
            api_key=emu.api_key, base_url=emu.base_url, backoff=QUICK, max_attempts=3,
            stale_after=0.3,
        )  # fmt: skip
        emu.hold()  # the run stays live: each re-attach is a replay, cut as early
        async with client:
            with anyio.fail_after(20):
                run = await client.runs.create(message="go")
                with pytest.raises(TransportError, match="3 attempts with no new frame") as gave_up:
                    await rec.app.run(client, run.id)
        frames = emu.frames(run.id)
    assert rec.frames(run.id) == frames[:7]  # each connection brings the same 7 frames: once
    assert _stream_gets(emu) == 3
    assert gave_up.value.run_result.events == 7


async def test_transient_http_errors_on_every_call_are_retried_and_change_nothing() -> None:
    rec = Recorder()

    @rec.app.confirm("bash")
    def no() -> Deny:
        return Deny("Not here.")

    flaky = GATED.with_faults(http_error_rate=0.3, http_error_statuses=(503, 429), seed=7)
    async with M8tesEmulator(flaky) as emu, client_for(emu, max_retries=6) as client:
        emu.hold()
        with anyio.fail_after(20):
            run = await client.runs.create(message="go")
            result = await released_when_attached(emu, run.id, lambda: rec.app.run(client, run.id))
        frames = emu.frames(run.id)
        statuses = [r.status for r in emu.requests]
    assert {503, 429} & set(statuses)  # the faults did hit
    assert rec.frames(run.id) == frames and rec.ids == [f"1:{i}" for i in range(len(frames))]
    approves = [r for r in emu.requests if r.path.endswith("/approve") and r.status == 200]
    assert len(approves) == 1 and result.stop_reason == "end_turn"
