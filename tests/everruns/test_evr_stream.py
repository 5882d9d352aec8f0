"""The Everruns stream against faults: every event once, in order; typed ends; no raising.

Acceptance: drops every few events, a ``disconnecting`` cycle every second and stalls past
``stale_after`` in one run, with the dispatched ids compared to the emulator's history; a
server that only sends ``connected`` (and closes, or cycles) ends after ``max_attempts``.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from evr_support import (
    FAST,
    client_for,
    posts,
    quiet_app,
    sse_response,
    streams,
    tiny_sse_server,
    turn_ids,
)

from agentflow import Backoff, Context, Event, TransportError
from agentflow.everruns import EverrunsClient, EverrunsStream
from agentflow.everruns.events import InvalidEvent, StreamConnected, StreamDisconnecting
from agentflow.testing import CustomTool, Faults, Say, Scenario, Step, Turn, Wait
from agentflow.testing.everruns import EverrunsEmulator

WORDS = "one two three four five six seven eight nine ten eleven twelve thirteen"
STEPS: list[Step] = [Say(WORDS), Say(WORDS), Say(WORDS), CustomTool("lookup", {"q": "x"}),
                     Say(WORDS), Say(WORDS), Say(WORDS)]  # fmt: skip
LONG = Scenario([Turn(STEPS)], step_delay=0.05)  # about 2.5 s: long enough for 1 s cycles
SHORT = Scenario([Turn(STEPS)], step_delay=0.01)
BEAT = 0.05  # heartbeat interval: well under stale_after


async def run_turn(emu: EverrunsEmulator, **stream: Any) -> tuple[Any, list[str], list[str], Any]:
    """Run one turn with a ``lookup`` tool; returns (result, dispatched ids, tool runs, stats)."""
    app = quiet_app()
    runs: list[str] = []
    dispatched: list[str] = []
    holder: dict[str, Any] = {}

    @app.tool
    def lookup(q: str) -> str:
        """Look something up."""
        runs.append(q)
        return f"found {q}"

    @app.on("*")
    def record(event: Event, ctx: Context) -> None:
        assert event.id is not None
        dispatched.append(event.id)
        holder["stream"] = ctx.channel.stream  # type: ignore[union-attr]

    async with client_for(emu) as client:
        session = await client.sessions.create(tools=client.tool_definitions(app))
        with anyio.fail_after(30):
            result = await app.run(client, session.id, send=["go"], **stream)
    holder["session"] = session.id
    return result, dispatched, runs, holder


async def test_drops_cycles_and_stalls_in_one_run_deliver_every_event_once_in_order() -> None:
    plan = [
        Faults(drop_every=3, cycle_seconds=1, keepalive_seconds=BEAT),
        Faults(stall_after=2, stall_seconds=30, cycle_seconds=1, keepalive_seconds=BEAT),
        Faults(malformed_every=2, duplicate_every=3, cycle_seconds=1, keepalive_seconds=BEAT),
    ]
    async with EverrunsEmulator(LONG, stream_faults=plan) as emu:
        result, dispatched, runs, holder = await run_turn(emu, stale_after=0.3, max_attempts=5)
        history = turn_ids(emu, holder["session"])
        results = posts(emu, "/tool-results")
        queries = streams(emu)
    stats = holder["stream"].stats
    assert dispatched == history  # every stored event, once, in order
    assert result.stop_reason == "end_turn" and result.text == WORDS
    assert runs == ["x"] and len(results) == 1 and len(results[0]["tool_results"]) == 1
    assert stats.drops >= 1 and stats.stalls >= 1 and stats.cycles >= 1
    assert stats.skipped_frames >= 1 and stats.reconciles >= 1
    assert all(q.startswith("since_id=event_") for q in queries[1:])


@pytest.mark.parametrize(
    "faults",
    [
        Faults(drop_every=2, keepalive_seconds=BEAT),
        Faults(stall_after=8, stall_seconds=30, keepalive_seconds=BEAT),
        Faults(malformed_every=2, duplicate_every=2, cycle_seconds=0.2, keepalive_seconds=BEAT),
        Faults(drop_every=4, http_error_rate=0.1, http_error_statuses=(500, 503), seed=3,
               keepalive_seconds=BEAT),
    ],
    ids=["drops", "stalls", "malformed-duplicates-cycles", "drops-and-5xx"],
)  # fmt: skip
async def test_each_fault_alone_loses_and_repeats_nothing(faults: Faults) -> None:
    async with EverrunsEmulator(SHORT.with_faults(**vars(faults))) as emu:
        result, dispatched, runs, holder = await run_turn(emu, stale_after=0.3)
        history = turn_ids(emu, holder["session"])
        results = posts(emu, "/tool-results")
    assert dispatched == history
    assert (result.stop_reason, runs, len(results)) == ("end_turn", ["x"], 1)


async def test_heartbeats_keep_a_quiet_connection_alive() -> None:
    quiet = Scenario([Turn([Say("before"), Wait(1.0), Say("after")])])
    async with EverrunsEmulator(quiet.with_faults(keepalive_seconds=BEAT)) as emu:
        result, dispatched, _, holder = await run_turn(emu, stale_after=0.3)
        history = turn_ids(emu, holder["session"])
    stats = holder["stream"].stats
    assert dispatched == history and result.stop_reason == "end_turn"
    assert (stats.connections, stats.stalls) == (1, 0)  # 1 s of silence, heartbeats only


async def test_control_frames_are_visible_to_middleware_only_when_asked() -> None:
    scenario = Scenario([Turn([Say("first"), Wait(0.6), Say("second")])])
    idled = lambda e: e.type == "session.idled"  # noqa: E731
    async with EverrunsEmulator(scenario.with_faults(cycle_seconds=0.2)) as emu:
        async with client_for(emu) as client:
            session = await client.sessions.create()
            got: list[Event] = []
            with anyio.fail_after(10):
                async with client.events.stream(  # 0.2 s cycles are healthy here
                    session.id, control_events=True, until=idled, cycle_grace=0.1
                ) as stream:
                    await client.messages.create(session.id, "go")
                    async for event in stream:
                        got.append(event)
                plain = [e async for e in client.events.stream(session.id, until=idled)]
        history = [e["id"] for e in emu.history(session.id)]
    connected = [e for e in got if isinstance(e, StreamConnected)]
    cycled = [e for e in got if isinstance(e, StreamDisconnecting)]
    assert got[0] is connected[0] and connected[0].kind == "stream.connected"
    assert len(connected) == stream.stats.connections >= 3  # 0.6 s of waiting, 0.2 s cycles
    assert len(cycled) == stream.stats.cycles >= 2 and cycled[0].retry_ms == 100
    assert cycled[0].kind == "stream.disconnecting" and cycled[0].id is None
    assert [e.id for e in got if e.id is not None] == history == [e.id for e in plain]


async def test_an_invalid_event_is_skipped_on_the_stream_and_delivered_from_the_listing() -> None:
    async with EverrunsEmulator() as emu, client_for(emu) as client:
        session = await client.sessions.create()
        emu.emit(session.id, "turn.started", {"turn_id": "turn_1"})
        emu.emit(session.id, "tool.call_requested", {"tool_calls": "not a list"})
        emu.emit(session.id, "turn.completed", {"turn_id": "turn_1"})
        with anyio.fail_after(5):
            stream = client.events.stream(session.id, until=lambda e: e.type == "turn.completed")
            got = [event async for event in stream]
    assert [e.type for e in got] == ["turn.started", "tool.call_requested", "turn.completed"]
    assert isinstance(got[1], InvalidEvent) and "tool_calls" in got[1].decode_error
    assert stream.stats.skipped_frames == 1 and stream.stats.reconciles == 1


async def test_a_stream_resumes_after_since_id_and_from_the_checkpoint_position() -> None:
    from agentflow import MemoryCheckpointStore

    async with EverrunsEmulator(Scenario.simple("a b c d e f g h i")) as emu:
        async with client_for(emu) as client:
            session = await client.sessions.create()
            await client.messages.create(session.id, "go")
            with anyio.fail_after(5):
                await emu.wait_for_event(session.id, "session.idled")
            ids = [e["id"] for e in emu.history(session.id)]
            store = MemoryCheckpointStore()
            async with client.events.stream(session.id, checkpoint=store) as stream:
                async for event in stream:
                    if event.id == ids[3]:
                        break
            assert store.position(session.id).event_id == ids[3]  # type: ignore[union-attr]
            idled = lambda e: e.type == "session.idled"  # noqa: E731
            rest = [e.id async for e in client.events.stream(session.id, checkpoint=store,
                                                            until=idled)]  # fmt: skip
            tail = [e.id async for e in client.events.stream(session.id, since_id=ids[5],
                                                            until=idled)]  # fmt: skip
        queries = streams(emu)
    assert rest == ids[4:] and tail == ids[6:]
    assert queries[1:] == [f"since_id={ids[3]}", f"since_id={ids[5]}"]


@pytest.mark.parametrize(
    "body",
    [
        'event: connected\ndata: {"status":"connected"}\n\n',
        'event: connected\ndata: {"status":"connected"}\n\n'
        'event: disconnecting\ndata: {"reason":"connection_cycle","retry_ms":1}\n\n',
        ": heartbeat\n\n",
    ],
    ids=["connected-then-close", "connected-then-cycle", "heartbeat-then-close"],
)
async def test_a_server_that_never_sends_an_event_ends_after_max_attempts(body: str) -> None:
    async with tiny_sse_server(lambda n, head: sse_response(body)) as (url, seen):
        delays: list[float] = []

        async def sleep(seconds: float) -> None:
            delays.append(seconds)

        client = EverrunsClient(api_key="evr_pat_k", base_url=url, sleep=sleep,
                                backoff=Backoff(base=0.5, cap=4.0))  # fmt: skip
        async with client:
            with anyio.fail_after(10), pytest.raises(TransportError, match="4 connection"):
                async with client.events.stream("session_x", max_attempts=4) as stream:
                    async for _ in stream:
                        pass
    assert len(seen) == 4
    assert all(b"GET /api/v1/sessions/session_x/sse" in head for head in seen)
    assert all(b"accept: text/event-stream" in head.lower() for head in seen)
    windows = [Backoff(base=0.5, cap=4.0).window(n) for n in (1, 2, 3)]
    assert len(delays) == 3 and all(0 <= d <= w for d, w in zip(delays, windows, strict=True))


async def test_reconnect_delays_use_full_jitter_and_honour_retry_after() -> None:
    def respond(n: int, head: bytes) -> bytes:
        if n == 0:
            body = '{"error":{"code":"rate_limited","message":"slow down"}}'
            return sse_response(body, "429 Too Many Requests", "application/json",
                                ("retry-after: 2",))  # fmt: skip
        return sse_response("event: connected\ndata: {}\n\n")

    async with tiny_sse_server(respond) as (url, seen):
        delays: list[float] = []

        async def sleep(seconds: float) -> None:
            delays.append(seconds)

        async with EverrunsClient(api_key="k" * 12, base_url=url, sleep=sleep,
                                  random=lambda: 0.5, backoff=FAST) as client:  # fmt: skip
            with anyio.fail_after(10), pytest.raises(TransportError):
                async for _ in client.events.stream("session_x", max_attempts=3):
                    pass
    assert len(seen) == 3
    assert delays == [2.0, FAST.window(2) * 0.5]  # the server's hint, then half the window


async def test_a_server_sending_only_garbage_frames_ends_after_max_attempts() -> None:
    garbage = "event: connected\ndata: {}\n\n" + 'id: x\nevent: turn.started\ndata: {"id": \n\n' * 3

    def respond(n: int, head: bytes) -> bytes:
        if b"/events?" in head:  # the listing the stream reads after a skipped frame
            return sse_response('{"data": [], "has_more": false}', content_type="application/json")
        return sse_response(garbage + ": heartbeat\n\n" * 50)

    async with tiny_sse_server(respond) as (url, seen):
        async with EverrunsClient(api_key="evr_pat_k", base_url=url, backoff=FAST) as client:
            with anyio.fail_after(10), pytest.raises(TransportError, match="3 connection"):
                async for _ in client.events.stream("session_x", max_attempts=3):
                    pass
    streams_opened = [h for h in seen if b"/sse" in h.split(b"\r\n", 1)[0]]
    listings = [h for h in seen if b"/events?" in h.split(b"\r\n", 1)[0]]
    assert len(streams_opened) == 3 and len(listings) == 3  # one listing read per connection


def test_stream_options_are_checked() -> None:
    client = EverrunsClient(api_key="evr_pat_k", base_url="http://127.0.0.1:9/api")
    with pytest.raises(ValueError, match="stale_after"):
        client.events.stream("s", stale_after=0)
    with pytest.raises(ValueError, match="max_attempts"):
        client.events.stream("s", max_attempts=0)
    assert isinstance(client.events.stream("s"), EverrunsStream)
