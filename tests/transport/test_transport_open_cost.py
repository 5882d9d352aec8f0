"""What opening a stream costs, counted on the emulator: requests per open, stream pools."""

from __future__ import annotations

import ssl
from typing import Any

import anyio
from transport_helpers import client_for, is_final

from agentflow import App, MemoryCheckpointStore
from agentflow.events import Event, user_message
from agentflow.testing import Emulator, Say, Scenario, Turn
from agentflow.wire.pools import PER_POOL

SCENARIO = Scenario([Turn([Say("first")]), Turn([Say("second")])])


def kinds(emu: Emulator, since: int) -> list[str]:
    """The requests answered since ``since``, as ``stream`` / ``history`` / ``other``."""
    out = []
    for record in emu.requests[since:]:
        if record.path.endswith("/events/stream"):
            out.append("stream")
        elif record.method == "GET" and record.path.endswith("/events"):
            out.append("history")
        else:
            out.append("other")
    return out


async def idle_session(emu: Emulator, client: Any) -> str:
    """A session whose first turn is over: its history ends with an idle."""
    sid = emu.create_session()
    async with client.events.stream(sid, until=is_final) as stream:
        emu.send(sid, [user_message("go")])
        async for _ in stream:
            pass
    return sid


async def test_a_fresh_stream_at_an_idle_session_opens_with_one_history_read() -> None:
    async with Emulator(SCENARIO) as emu, client_for(emu) as client:
        with anyio.fail_after(20):
            sid = await idle_session(emu, client)
            before = len(emu.requests)
            got: list[Event] = []
            async with client.events.stream(sid, replay=False, until=is_final) as stream:
                assert kinds(emu, before) == ["stream", "history"]
                # what is sent after entering is observed, and nothing from the first turn
                await client.events.send(sid, [user_message("again")])
                async for event in stream:
                    got.append(event)
    texts = [e.text for e in got if e.type == "agent.message"]
    assert texts == ["second"]
    assert got[0].type == "user.message" and got[-1].type == "session.status_idle"


async def test_app_run_attaching_to_an_idle_session_reads_history_once() -> None:
    app = App()
    app.load_entrypoints = False
    async with Emulator(SCENARIO) as emu, client_for(emu) as client:
        with anyio.fail_after(20):
            sid = await idle_session(emu, client)
            before = len(emu.requests)
            result = await app.run(client, sid, checkpoint=MemoryCheckpointStore())
    # the latest status came with the start's history read: no read of its own
    assert kinds(emu, before) == ["stream", "history"]
    assert result.stop_reason == "end_turn"


async def test_latest_is_known_from_the_start_once_then_read_again() -> None:
    async with Emulator(SCENARIO) as emu, client_for(emu) as client:
        with anyio.fail_after(20):
            sid = await idle_session(emu, client)
            stored = [e async for e in client.events.list(sid)]
            channel = client.channel(sid, checkpoint=MemoryCheckpointStore())
            async with channel:
                before = len(emu.requests)
                first = await channel.latest()
                assert kinds(emu, before) == []  # answered from the start's read
                second = await channel.latest()
                assert kinds(emu, before) == ["history"]
    newest_status = [e for e in stored if e.type.startswith("session.status")][-1]
    assert first is not None and second is not None
    assert first.id == second.id == newest_status.id


async def test_a_start_that_read_the_whole_history_knows_there_is_no_status() -> None:
    async with Emulator(SCENARIO) as emu, client_for(emu) as client:
        sid = emu.create_session()  # nothing stored yet
        with anyio.fail_after(10):
            async with client.channel(sid, checkpoint=MemoryCheckpointStore()) as channel:
                before = len(emu.requests)
                assert await channel.latest() is None
                assert kinds(emu, before) == []


async def test_a_resumed_stream_finds_the_latest_status_in_its_reconcile() -> None:
    store = MemoryCheckpointStore()
    async with Emulator(SCENARIO) as emu, client_for(emu) as client:
        with anyio.fail_after(20):
            sid = emu.create_session()
            async with client.events.stream(sid, checkpoint=store, until=is_final) as stream:
                emu.send(sid, [user_message("go")])
                async for event in stream:
                    if event.type == "user.message":
                        break  # acknowledged up to here: the rest is new to the next run
            channel = client.channel(sid, checkpoint=store)  # resumes after the checkpoint
            async with channel:
                before = len(emu.requests)
                latest = await channel.latest()
                assert kinds(emu, before) == []
    assert latest is not None and latest.type == "session.status_idle"


async def test_streams_open_in_pools_of_their_own_filled_in_turn() -> None:
    count = PER_POOL + 3
    async with Emulator(SCENARIO) as emu, client_for(emu) as client:
        sids = [emu.create_session() for _ in range(count)]
        streams = [client.events.stream(sid, replay=False) for sid in sids]
        pools = client._core.streams
        assert pools is not None and len(pools) == 0  # made on first use
        with anyio.fail_after(30):
            try:
                for stream in streams:
                    await stream.__aenter__()
                assert len(pools) == 2  # PER_POOL in the first, the rest in the second
                for sid in sids:
                    assert emu.stream_count(sid) == 1
                # the request pool holds no stream: its connections stay few and reusable
                assert await client.events.status(sids[0]) in ("idle", "running", None)
            finally:
                for stream in streams:
                    await stream.aclose()
    assert client.http_client.is_closed


async def test_a_client_builds_one_tls_context_and_only_when_it_connects(
    monkeypatch: Any,
) -> None:
    built: list[object] = []
    real = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        context = real(*args, **kwargs)
        built.append(context)  # httpx loads its CA bundle through this
        return context

    monkeypatch.setattr(ssl, "create_default_context", counting)
    async with Emulator(SCENARIO) as emu:
        client = client_for(emu)
        assert built == []  # constructing a client loads no CA bundle
        async with client:
            sid = await idle_session(emu, client)  # a stream shard and the request pool
            assert [e.type async for e in client.events.list(sid)][-1] == "session.status_idle"
            assert len(built) == 1
