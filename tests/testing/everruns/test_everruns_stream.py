"""The Everruns ``/sse`` stream on the wire: control frames, cycling, replay and filters."""

from __future__ import annotations

import json

import anyio
import pytest
from everruns_support import (
    create_session,
    event_ids,
    frames,
    management,
    read_until,
    send,
)

from agentflow.testing import Say, Scenario, Think, Turn, Wait
from agentflow.testing.everruns import EverrunsEmulator

DISCONNECTING = 'event: disconnecting\ndata: {"reason":"connection_cycle","retry_ms":100}\n\n'

TWO_TURNS = Scenario(
    [Turn([Think(), Say("One two three four five six.")]), Turn([Say("Seven eight nine.")])]
)


async def test_connected_comes_first_and_events_carry_id_event_retry_and_data() -> None:
    async with EverrunsEmulator(TWO_TURNS) as emu, management(emu) as client:
        session_id = await create_session(client)
        with anyio.fail_after(5):
            async with client.stream("GET", f"/sessions/{session_id}/sse") as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                await send(client, session_id)
                got = await read_until(response, "session.idled")
        history = emu.history(session_id)
    connected, events = got[0], got[1:]
    assert (connected.event, connected.id, connected.json()) == (
        "connected",
        None,
        {"status": "connected"},
    )
    assert event_ids(got) == [e["id"] for e in history]
    for frame, stored in zip(events, history, strict=True):
        body = frame.json()
        assert body == stored
        assert frame.event == body["type"]
        assert set(body) == {"id", "type", "ts", "session_id", "sequence", "context", "data"}
        assert body["id"].startswith("event_") and len(body["id"]) == len("event_") + 32
        assert frame.retry == ("500" if body["type"] == "session.idled" else "100")
    ids = [e["id"] for e in history]
    assert ids == sorted(ids)  # UUIDv7-like: monotonic
    assert [e["sequence"] for e in history] == list(range(1, len(history) + 1))


async def test_heartbeats_while_idle_then_disconnecting_and_close_after_the_cycle() -> None:
    scenario = Scenario().with_faults(keepalive_seconds=0.05, cycle_seconds=0.6)
    async with EverrunsEmulator(scenario) as emu, management(emu) as client:
        session_id = await create_session(client)
        with anyio.fail_after(5):
            async with client.stream("GET", f"/sessions/{session_id}/sse") as response:
                got = [frame async for frame in frames(response)]  # ends cleanly
            async with client.stream("GET", f"/sessions/{session_id}/sse") as response:
                again = await read_until(response, "connected")
    assert got[0].event == "connected"
    assert [f.comment for f in got[1:-1]] == ["heartbeat"] * (len(got) - 2)
    assert len(got) >= 4  # several heartbeats came before the cycle ended the connection
    last = got[-1]
    assert last.event == "disconnecting" and last.id is None
    assert last.raw == DISCONNECTING
    assert again[0].event == "connected"  # every connection starts with connected


async def test_cycle_streams_knob_sends_disconnecting_now() -> None:
    async with EverrunsEmulator() as emu, management(emu) as client:
        session_id = await create_session(client)
        with anyio.fail_after(5):
            async with client.stream("GET", f"/sessions/{session_id}/sse") as response:
                await emu.wait_for_streams(session_id)
                assert emu.cycle_streams(session_id) == 1
                got = [frame async for frame in frames(response)]
    assert [f.event for f in got] == ["connected", "disconnecting"]


@pytest.mark.parametrize("cut", [0, 1, 5, -3, -2], ids=lambda c: f"cut{c}")
async def test_since_id_replays_exactly_the_events_after_it(cut: int) -> None:
    async with EverrunsEmulator(TWO_TURNS) as emu, management(emu) as client:
        session_id = await create_session(client)
        await send(client, session_id)
        with anyio.fail_after(5):
            await emu.wait_for_event(session_id, "session.idled")
            history = emu.history(session_id)
            since = history[cut]["id"]
            url = f"/sessions/{session_id}/sse?since_id={since}"
            async with client.stream("GET", url) as response:
                reader = frames(response)
                replayed = await read_until(reader, "session.idled")
                await send(client, session_id, "more")  # then live, on the same connection
                live = await read_until(reader, "session.idled")
        full = emu.history(session_id)
    expected = [e["id"] for e in history[history.index(history[cut]) + 1 :]]
    assert event_ids(replayed) == expected
    assert event_ids(live) == [e["id"] for e in full[len(history) :]]


async def test_since_id_mid_turn_hands_over_from_replay_to_live_without_gaps() -> None:
    scenario = Scenario([Turn([Say("a b c d e f g h i j k l"), Wait(0.2), Say("m n o p")])])
    async with EverrunsEmulator(scenario) as emu, management(emu) as client:
        session_id = await create_session(client)
        await send(client, session_id)
        with anyio.fail_after(5):
            cut = await emu.wait_for_event(session_id, "output.message.completed")
            url = f"/sessions/{session_id}/sse?since_id={cut['id']}"
            async with client.stream("GET", url) as response:
                got = await read_until(response, "session.idled")
        history = emu.history(session_id)
    sequences = [f.json()["sequence"] for f in got[1:]]
    assert sequences == list(range(cut["sequence"] + 1, len(history) + 1))


async def test_filters_and_after_sequence_on_the_stream() -> None:
    async with EverrunsEmulator(TWO_TURNS) as emu, management(emu) as client:
        session_id = await create_session(client)
        await send(client, session_id)
        with anyio.fail_after(5):
            await emu.wait_for_event(session_id, "session.idled")
            query = "types=turn.started&types=session.idled&types=output.message.delta"
            query += "&exclude=output.message.delta"
            async with client.stream("GET", f"/sessions/{session_id}/sse?{query}") as response:
                kept = await read_until(response, "session.idled")
            async with client.stream(
                "GET", f"/sessions/{session_id}/sse?after_sequence=3"
            ) as response:
                after = await read_until(response, "session.idled")
            bad = await client.get(f"/sessions/{session_id}/sse?types=no.such.type")
            many = "&".join(["exclude=turn.started"] * 26)
            too_many = await client.get(f"/sessions/{session_id}/sse?{many}")
            unknown = await client.get(f"/sessions/{session_id}/sse?since_id=event_nope")
        history = emu.history(session_id)
    assert [f.event for f in kept[1:]] == ["turn.started", "session.idled"]
    assert event_ids(after) == [e["id"] for e in history[3:]]
    for response, words in ((bad, "no.such.type"), (too_many, "25"), (unknown, "event_nope")):
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_request"
        assert words in response.json()["error"]["message"]


async def test_events_listing_cursors_filters_and_limits() -> None:
    async with EverrunsEmulator(TWO_TURNS) as emu, management(emu) as client:
        session_id = await create_session(client)
        await send(client, session_id)
        with anyio.fail_after(5):
            await emu.wait_for_event(session_id, "session.idled")
        history = emu.history(session_id)
        path = f"/sessions/{session_id}/events"
        everything = (await client.get(path)).json()
        after = (await client.get(path, params={"since_id": history[2]["id"], "limit": 3})).json()
        newest = (await client.get(path, params={"limit": 2})).json()
        desc = (await client.get(path, params={"order_desc": "true"})).json()
        deltas = (
            await client.get(path, params=[("types", "output.message.delta"), ("limit", "100")])
        ).json()
        turn = history[1]["data"]["turn_id"]
        by_turn = (await client.get(path, params={"turn_id": turn})).json()
        bad = await client.get(path, params={"limit": "0"})
    assert everything == {"data": history, "has_more": False}
    assert [e["id"] for e in after["data"]] == [e["id"] for e in history[3:6]]
    assert after["has_more"] is True
    assert newest["data"] == history[-2:]
    assert desc["data"] == history[::-1]
    assert {e["type"] for e in deltas["data"]} == {"output.message.delta"}
    assert by_turn["data"] == history[1:]  # input.message is outside the turn's context
    assert bad.status_code == 400
    assert json.loads(bad.text)["error"]["code"] == "invalid_request"
