"""Polling yields the same sequence as the stream."""

from __future__ import annotations

import anyio
import pytest
from transport_helpers import SleepRecorder, client_for, history_ids, is_final, paced

from agentflow import MemoryCheckpointStore, NotFoundError, TransportError
from agentflow.events import custom_tool_result, user_message
from agentflow.testing import Burst, CustomTool, Emulator, Error, Say, Scenario, Turn

FINISHED = Scenario(
    [
        Turn([Say("hello"), Burst(150)]),
        Turn([Say("calling"), CustomTool("lookup", {"q": "x"}), Say("done")]),
        Turn([Error("model_overloaded_error", "retrying"), Burst(300)]),
    ]
)


async def finish(emu: Emulator, sid: str) -> None:
    """Drive the three turns to the end, then terminate the session."""
    with anyio.fail_after(20):
        emu.send(sid, [user_message("one")])
        await emu.wait_for_event(sid, "session.status_idle", count=1)
        emu.send(sid, [user_message("two")])
        await emu.wait_for_event(sid, "agent.custom_tool_use")
        await emu.wait_for_event(sid, "session.status_idle", count=2)
        call = next(e for e in emu.history(sid) if e["type"] == "agent.custom_tool_use")
        emu.send(sid, [custom_tool_result(call["id"], "42")])
        await emu.wait_for_event(sid, "session.status_idle", count=3)
        emu.send(sid, [user_message("three")])
        await emu.wait_for_event(sid, "session.status_idle", count=4)
    emu.terminate(sid)


async def test_poll_and_stream_over_a_finished_session_yield_identical_ids() -> None:
    async with Emulator(FINISHED) as emu, client_for(emu) as client:
        sid = emu.create_session()
        await finish(emu, sid)
        with anyio.fail_after(20):
            async with client.events.stream(sid) as stream:
                streamed = [e.id async for e in stream]
            async with client.events.poll(sid, interval=0.01) as poller:
                polled = [e.id async for e in poller]
        stored = await history_ids(client, sid)
    assert polled == streamed == stored
    assert len(stored) > 450


async def test_poll_follows_a_live_session_to_the_end_of_the_turn() -> None:
    async with Emulator(paced(bursts=5, size=40, pause=0.05)) as emu, client_for(emu) as client:
        sid = emu.create_session()
        with anyio.fail_after(20):
            poller = client.events.poll(sid, interval=0.02, until=is_final)
            emu.send(sid, [user_message("go")])
            polled = [e.id async for e in poller]
        assert polled == await history_ids(client, sid)
    # it polled repeatedly, resuming from a cursor rather than re-reading everything
    polls = [r.query for r in emu.requests if "limit=1000" in r.query]  # the poller's reads
    assert len(polls) > 2
    assert "created_at" not in polls[0]
    assert all("created_at%5Bgte%5D=" in q for q in polls[1:])


async def test_poll_retries_transient_failures_and_raises_fatal_ones() -> None:
    async with Emulator(Scenario.simple("hi")) as emu:
        sid = emu.create_session()
        emu.send(sid, [user_message("go")])
        with anyio.fail_after(10):
            await emu.wait_for_event(sid, "session.status_idle")
        sleep = SleepRecorder()
        async with client_for(emu, sleep=sleep, max_retries=0) as client:
            emu.fail_next(503, count=2, path=f"/v1/sessions/{sid}/events")
            polled = [e.id async for e in client.events.poll(sid, until=is_final)]
            assert polled == await history_ids(client, sid)
            assert len(sleep.delays) == 2 and all(0 <= d <= 0.05 for d in sleep.delays)
            emu.fail_next(500, count=5, path=f"/v1/sessions/{sid}/events")
            with pytest.raises(TransportError, match="failed 3 times"):
                async for _ in client.events.poll(sid, max_attempts=3):
                    pass
            with pytest.raises(NotFoundError):
                async for _ in client.events.poll("sesn_missing"):
                    pass


async def test_poll_with_a_checkpoint_skips_what_was_dispatched() -> None:
    async with Emulator(paced(bursts=2, size=30)) as emu, client_for(emu) as client:
        sid = emu.create_session()
        emu.send(sid, [user_message("go")])
        with anyio.fail_after(10):
            await emu.wait_for_event(sid, "session.status_idle")
        store = MemoryCheckpointStore()
        first: list[str | None] = []
        async with client.events.poll(sid, checkpoint=store) as poller:
            async for event in poller:
                first.append(event.id)
                if len(first) == 25:
                    break
        rest = [e.id async for e in client.events.poll(sid, checkpoint=store, until=is_final)]
        assert first + rest == await history_ids(client, sid)


async def test_polling_a_terminated_session_that_was_fully_dispatched_ends() -> None:
    async with Emulator(Scenario.simple("hi")) as emu, client_for(emu) as client:
        sid = emu.create_session()
        emu.send(sid, [user_message("go")])
        with anyio.fail_after(10):
            await emu.wait_for_event(sid, "session.status_idle")
        emu.terminate(sid)
        store = MemoryCheckpointStore()
        with anyio.fail_after(10):
            first = [e.type async for e in client.events.poll(sid, checkpoint=store)]
            again = [e async for e in client.events.poll(sid, checkpoint=store, interval=0.01)]
    assert first[-1] == "session.status_terminated"
    assert again == []
