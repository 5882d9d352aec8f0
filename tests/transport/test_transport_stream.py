"""The resilient stream against the emulator: exactly once, in order, through every fault."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest
from transport_helpers import client_for, history_ids, is_final, paced

from agentflow import MemoryCheckpointStore, StreamError
from agentflow.events import Event, user_message
from agentflow.testing import Emulator, Faults, Say, Scenario, Turn, Wait

FAULTS = {
    "drop_every=7": {"drop_every": 7},
    "drop_every=50": {"drop_every": 50},
    "drop_every=333": {"drop_every": 333},
    "duplicate_every=3": {"duplicate_every": 3},
    "stall_after=40": {"stall_after": 40, "stall_seconds": 30.0, "keepalive_seconds": 0.05},
    "http_error_rate=0.3": {"http_error_rate": 0.3, "seed": 7},
    "everything": {
        "drop_every": 13,
        "duplicate_every": 4,
        "malformed_every": 9,
        "http_error_rate": 0.15,
        "seed": 3,
    },
}


async def consume(stream: Any, into: list[Event]) -> None:
    async for event in stream:
        into.append(event)


@pytest.mark.parametrize("faults", list(FAULTS.values()), ids=list(FAULTS))
async def test_2000_events_exactly_once_in_history_order(faults: dict[str, Any]) -> None:
    async with Emulator(paced(**faults)) as emu, client_for(emu) as client:
        sid = emu.create_session()
        got: list[Event] = []
        with anyio.fail_after(60):
            stream = client.events.stream(sid, stale_after=0.5, max_attempts=30, until=is_final)
            async with stream:
                emu.send(sid, [user_message("go")])
                await consume(stream, got)
            stored = await history_ids(client, sid)
    ids = [e.id for e in got]
    assert len(stored) > 2000
    assert ids == stored  # every stored event once, in order, and nothing else
    if "drop_every" in faults or "stall_after" in faults:
        assert stream.reconnects > 0  # the fault really happened


async def test_events_right_after_a_send_are_observed(emulator: Emulator) -> None:
    async with client_for(emulator) as client:
        for _ in range(10):
            sid = emulator.create_session()
            with anyio.fail_after(10):
                async with client.events.stream(sid, until=is_final) as stream:
                    assert emulator.stream_count(sid) == 1  # connected when the block starts
                    await client.events.send(sid, [user_message("hi")])
                    got = [e.id async for e in stream]
            assert got == await history_ids(client, sid)
            assert stream.reconnects == 0


async def test_live_tail_is_delivered_without_a_reconnect() -> None:
    scenario = Scenario([Turn([Say("one"), Wait(0.2), Say("two")])])
    async with Emulator(scenario) as emu, client_for(emu) as client:
        sid = emu.create_session()
        with anyio.fail_after(10):
            async with client.events.stream(sid, until=is_final) as stream:
                emu.send(sid, [user_message("go")])
                texts = [e.text async for e in stream if e.type == "agent.message"]
    assert texts == ["one", "two"]
    assert stream.reconnects == 0


@pytest.mark.parametrize("how", ["terminate", "delete"])
async def test_stream_ends_cleanly_on_terminate_and_delete(emulator: Emulator, how: str) -> None:
    sid = emulator.create_session()
    async with client_for(emulator) as client:
        with anyio.fail_after(10):
            async with client.events.stream(sid) as stream:
                emulator.send(sid, [user_message("hi")])
                types = []
                async for event in stream:
                    types.append(event.type)
                    if event.type == "session.status_idle":
                        getattr(emulator, how)(sid)
                with pytest.raises(StopAsyncIteration):
                    await stream.__anext__()
    expected = "session.status_terminated" if how == "terminate" else "session.deleted"
    assert types[-1] == expected and types.count(expected) == 1
    assert not stream.connected


async def test_stale_connection_is_detected_and_replaced() -> None:
    faults = Faults(stall_after=3, stall_seconds=60.0, keepalive_seconds=0.05)
    scenario = Scenario([Turn([Say(f"m{i}") for i in range(10)])], faults=faults)
    async with Emulator(scenario) as emu, client_for(emu) as client:
        sid = emu.create_session()
        with anyio.fail_after(20):
            async with client.events.stream(sid, stale_after=0.3, until=is_final) as stream:
                emu.send(sid, [user_message("go")])
                got = [e.id async for e in stream]
        assert got == await history_ids(client, sid)
    assert stream.reconnects >= 1


async def test_keepalives_keep_a_quiet_stream_alive() -> None:
    scenario = Scenario([Turn([Wait(1.5), Say("late")])], faults=Faults(keepalive_seconds=0.05))
    async with Emulator(scenario) as emu, client_for(emu) as client:
        sid = emu.create_session()
        with anyio.fail_after(20):
            async with client.events.stream(sid, stale_after=0.75, until=is_final) as stream:
                emu.send(sid, [user_message("go")])
                texts = [e.text async for e in stream if e.type == "agent.message"]
    assert texts == ["late"]
    assert stream.reconnects == 0  # 1.5 s without events, but keep-alives every 50 ms


async def test_transient_stream_error_reconnects_and_loses_nothing(emulator: Emulator) -> None:
    sid = emulator.create_session()
    async with client_for(emulator) as client:
        with anyio.fail_after(10):
            async with client.events.stream(sid, until=is_final) as stream:
                assert emulator.stream_error(sid, "overloaded_error") == 1
                emulator.send(sid, [user_message("hi")])
                got = [e.id async for e in stream]
            assert got == await history_ids(client, sid)
    assert stream.reconnects == 1


async def test_fatal_stream_error_raises_with_its_type(emulator: Emulator) -> None:
    sid = emulator.create_session()
    async with client_for(emulator) as client:
        with anyio.fail_after(10), pytest.raises(StreamError) as info:
            async with client.events.stream(sid) as stream:
                emulator.stream_error(sid, "invalid_request_error", "no such thing")
                async for _ in stream:
                    pass
    err = info.value
    assert (err.type, err.status, err.message) == ("invalid_request_error", 200, "no such thing")
    assert err.request_id and err.request_id.startswith("req_")
    assert not stream.connected


async def test_previews_only_when_asked_and_never_deduplicated() -> None:
    scenario = Scenario([Turn([Say("streamed text here", stream=True)])])
    async with Emulator(scenario) as emu, client_for(emu) as client:
        results = {}
        for deltas in (None, ["agent.message"]):
            sid = emu.create_session()
            with anyio.fail_after(10):
                async with client.events.stream(sid, event_deltas=deltas, until=is_final) as s:
                    emu.send(sid, [user_message("go")])
                    results[bool(deltas)] = [e async for e in s]
            stored = await history_ids(client, sid)
            assert [e.id for e in results[bool(deltas)] if e.id is not None] == stored
    assert not [e for e in results[False] if e.id is None]
    previews = [e for e in results[True] if e.id is None]
    assert {e.type for e in previews} == {"event_start", "event_delta"}
    final = next(e for e in results[True] if e.type == "agent.message")
    assert final.text == "streamed text here"
    assert results[True].index(previews[0]) < results[True].index(final)


async def test_malformed_frames_are_logged_and_nothing_is_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    scenario = Scenario([Turn([Say(f"m{i}") for i in range(20)])], faults=Faults(malformed_every=4))
    caplog.set_level(logging.WARNING, logger="agentflow.transport")
    async with Emulator(scenario) as emu, client_for(emu) as client:
        sid = emu.create_session()
        with anyio.fail_after(10):
            async with client.events.stream(sid, until=is_final) as stream:
                emu.send(sid, [user_message("go")])
                got = [e.id async for e in stream]
        assert got == await history_ids(client, sid)
    skipped = [r for r in caplog.records if "undecodable frame" in r.getMessage()]
    assert skipped and all(r.levelno == logging.WARNING for r in skipped)


async def test_replay_false_starts_after_the_existing_history(emulator: Emulator) -> None:
    sid = emulator.create_session()
    emulator.send(sid, [user_message("first")])
    with anyio.fail_after(10):
        await emulator.wait_for_event(sid, "session.status_idle")
    before = {e["id"] for e in emulator.history(sid)}
    async with client_for(emulator) as client:
        with anyio.fail_after(10):
            async with client.events.stream(sid, replay=False, until=is_final) as stream:
                await client.events.send(sid, [user_message("second")])
                got = [e async for e in stream]
    assert got[0].type == "user.message" and got[0].text == "second"
    assert not before & {e.id for e in got}
    assert [e.id for e in got] == [e["id"] for e in emulator.history(sid) if e["id"] not in before]


async def test_checkpoint_resumes_where_a_consumer_stopped() -> None:
    async with Emulator(paced(bursts=4, size=25)) as emu, client_for(emu) as client:
        sid = emu.create_session()
        emu.send(sid, [user_message("go")])
        with anyio.fail_after(10):
            await emu.wait_for_event(sid, "session.status_idle")
        store = MemoryCheckpointStore()
        first: list[str] = []
        with anyio.fail_after(10):
            async with client.events.stream(sid, checkpoint=store) as stream:
                async for event in stream:
                    first.append(event.id or "")
                    if len(first) == 40:
                        break  # a clean exit acknowledges the event just handled
            position = store.position(sid)
            assert position is not None and position.event_id == first[-1]
            async with client.events.stream(sid, checkpoint=store, until=is_final) as stream:
                rest = [e.id async for e in stream]
        assert first + rest == await history_ids(client, sid)


async def test_an_exception_in_the_block_leaves_the_event_unacknowledged(
    emulator: Emulator,
) -> None:
    sid = emulator.create_session()
    emulator.send(sid, [user_message("go")])
    with anyio.fail_after(10):
        await emulator.wait_for_event(sid, "session.status_idle")
    store = MemoryCheckpointStore()
    async with client_for(emulator) as client:
        with anyio.fail_after(10), pytest.raises(RuntimeError):
            async with client.events.stream(sid, checkpoint=store) as stream:
                async for event in stream:
                    if event.type == "session.status_running":
                        raise RuntimeError("handler failed")
        failed = stream.last_event_id
        assert failed is not None and not store.is_dispatched(sid, failed)
        async with client.events.stream(sid, checkpoint=store, until=is_final) as stream:
            again = [e async for e in stream]
    assert again[0].id == failed  # delivered again: it was never handled


async def test_manual_acks_advance_the_position_over_a_contiguous_prefix(
    emulator: Emulator,
) -> None:
    sid = emulator.create_session()
    emulator.send(sid, [user_message("go")])
    with anyio.fail_after(10):
        await emulator.wait_for_event(sid, "session.status_idle")
    store = MemoryCheckpointStore()
    async with client_for(emulator) as client:
        with anyio.fail_after(10):
            async with client.events.stream(sid, checkpoint=store, auto_ack=False) as stream:
                events = [await stream.__anext__() for _ in range(3)]
                stream.ack(events[1])  # out of order: nothing is dispatched yet
                assert store.position(sid) is None
                assert not store.is_dispatched(sid, events[1].id or "")
                stream.ack(events[0])
                assert store.position(sid).event_id == events[1].id  # type: ignore[union-attr]
                stream.ack()  # everything delivered so far
                assert store.position(sid).event_id == events[2].id  # type: ignore[union-attr]
                stream.ack(events[0])  # already acknowledged: no effect
                assert store.position(sid).event_id == events[2].id  # type: ignore[union-attr]


async def test_cancelled_read_reconnects_without_loss() -> None:
    scenario = Scenario([Turn([Say("a"), Wait(0.6), Say("b"), Wait(0.3), Say("c")])])
    async with Emulator(scenario) as emu, client_for(emu) as client:
        sid = emu.create_session()
        got: list[Event] = []
        with anyio.fail_after(20):
            async with client.events.stream(sid, until=is_final) as stream:
                emu.send(sid, [user_message("go")])
                while not stream._delivery.done:
                    with anyio.move_on_after(0.1):
                        got.append(await stream.__anext__())
        assert [e.id for e in got] == await history_ids(client, sid)
    assert stream.reconnects >= 1


async def test_resuming_a_terminated_session_ends_instead_of_waiting(emulator: Emulator) -> None:
    sid = emulator.create_session()
    emulator.send(sid, [user_message("hi")])
    with anyio.fail_after(10):
        await emulator.wait_for_event(sid, "session.status_idle")
    emulator.terminate(sid)
    store = MemoryCheckpointStore()
    async with client_for(emulator) as client:
        with anyio.fail_after(10):
            async with client.events.stream(sid, checkpoint=store) as stream:
                first = [e.type async for e in stream]
            assert first[-1] == "session.status_terminated"
            async with client.events.stream(sid, checkpoint=store) as stream:
                again = [e async for e in stream]  # everything was dispatched already
            async with client.events.stream(sid, replay=False) as stream:
                live = [e async for e in stream]
    assert again == [] and live == []
