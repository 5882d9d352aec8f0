"""Each fault knob, observed on the wire with a raw httpx client."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest
from emu_support import Frame, create_session, frames, raw_client, send, user_message

from agentflow.testing import Burst, Emulator, Faults, Say, Scenario, Turn

BURST = Scenario([Turn([Burst(12)])])


async def _read_all(response: httpx.Response, until: str = "session.status_idle") -> list[Frame]:
    out = []
    async for frame in frames(response):
        out.append(frame)
        if frame.event == until and frame.comment is None:
            break
    return out


async def test_drop_every_cuts_the_connection_after_n_events() -> None:
    async with Emulator(BURST.with_faults(drop_every=5)) as emu, raw_client(emu) as client:
        session_id = await create_session(client)
        got: list[Frame] = []
        with anyio.fail_after(5):
            async with client.stream("GET", f"/sessions/{session_id}/events/stream") as response:
                await send(client, session_id, user_message())
                with pytest.raises(httpx.RemoteProtocolError):  # no final chunk: abrupt
                    async for frame in frames(response):
                        got.append(frame)
            await emu.wait_for_event(session_id, "session.status_idle")
        history = emu.history(session_id)
    assert [f.json()["id"] for f in got] == [e["id"] for e in history[:5]]
    assert len(history) > 5  # history is complete: a client can reconcile


async def test_drop_every_counts_per_connection() -> None:
    # Six events are emitted once each connection is open, so every one sees them live
    # (a paced scenario could finish before a slow client reconnects).
    async with Emulator(Scenario().with_faults(drop_every=4)) as emu, raw_client(emu) as client:
        session_id = await create_session(client)
        counts = []
        with anyio.fail_after(10):
            for round_ in range(3):
                n = 0
                async with client.stream("GET", f"/sessions/{session_id}/events/stream") as r:
                    await emu.wait_for_streams(session_id)
                    for i in range(6):
                        emu.emit(session_id, {"type": "agent.thinking", "n": f"{round_}.{i}"})
                    with pytest.raises(httpx.RemoteProtocolError):
                        async for frame in frames(r):
                            n += frame.comment is None
                counts.append(n)
    assert counts == [4, 4, 4]


async def test_duplicate_every_sends_every_nth_event_twice() -> None:
    async with Emulator(BURST.with_faults(duplicate_every=3)) as emu, raw_client(emu) as client:
        session_id = await create_session(client)
        with anyio.fail_after(5):
            async with client.stream("GET", f"/sessions/{session_id}/events/stream") as response:
                await send(client, session_id, user_message())
                got = await _read_all(response)
        history = emu.history(session_id)
    ids = [f.json()["id"] for f in got if f.comment is None]
    expected = []
    for n, event in enumerate(history, start=1):
        expected += [event["id"]] * (2 if n % 3 == 0 else 1)
    idle = history[-1]["id"]
    assert ids == expected[: expected.index(idle) + 1]  # the reader stops at the first idle
    assert len(ids) == len(history) + (len(history) - 1) // 3


async def test_malformed_every_adds_a_bad_frame_before_the_real_event() -> None:
    async with Emulator(BURST.with_faults(malformed_every=4)) as emu, raw_client(emu) as client:
        session_id = await create_session(client)
        with anyio.fail_after(5):
            async with client.stream("GET", f"/sessions/{session_id}/events/stream") as response:
                await send(client, session_id, user_message())
                got = await _read_all(response)
        history = emu.history(session_id)
    good, bad = [], []
    for frame in got:
        try:
            good.append(json.loads(frame.data)["id"])
        except ValueError:
            bad.append(len(good))
    assert good == [e["id"] for e in history]  # nothing replaced, nothing lost
    assert bad == [3, 7, 11, 15][: len(history) // 4]  # just before events 4, 8, 12, ...
    assert all(f.event for f in got)  # the bad frames carry an event name, so clients parse them


async def test_stall_after_goes_silent_without_keepalives() -> None:
    # The stall outlasts the test; keep-alives are due every 50 ms. A read timeout of 0.5 s
    # (ten keep-alive intervals) after the second event proves the silence: no clock is read.
    faults = Faults(stall_after=2, stall_seconds=60.0, keepalive_seconds=0.05)
    scenario = Scenario([Turn([Say("a"), Say("b")])], faults=faults)
    silence = httpx.Timeout(10.0, read=0.5)
    async with Emulator(scenario) as emu, raw_client(emu, timeout=silence) as client:
        session_id = await create_session(client)
        got: list[Frame] = []
        with anyio.fail_after(10), pytest.raises(httpx.ReadTimeout):
            async with client.stream("GET", f"/sessions/{session_id}/events/stream") as response:
                await send(client, session_id, user_message())
                async for frame in frames(response):
                    got.append(frame)
    events = [f.event for f in got if f.comment is None]
    assert events == ["user.message", "session.status_running"]  # then nothing at all


async def test_keepalive_comments_flow_on_an_idle_stream() -> None:
    async with Emulator(Scenario(faults=Faults(keepalive_seconds=0.02))) as emu:
        async with raw_client(emu) as client:
            session_id = await create_session(client)
            comments = []
            with anyio.fail_after(5):
                async with client.stream("GET", f"/sessions/{session_id}/events/stream") as r:
                    async for frame in frames(r):
                        comments.append(frame)
                        if len(comments) == 3:
                            break
    assert [(f.event, f.comment) for f in comments] == [(None, "keepalive")] * 3


async def _statuses(seed: int, rate: float, n: int = 40) -> list[tuple[int, dict[str, Any], Any]]:
    faults = Faults(http_error_rate=rate, seed=seed, retry_after_seconds=2)
    async with Emulator(Scenario(faults=faults)) as emu, raw_client(emu) as client:
        out = []
        for _ in range(n):
            response = await client.get("/sessions")
            out.append((response.status_code, dict(response.headers), response.json()))
        return out


async def test_http_error_rate_answers_a_seeded_fraction_with_errors() -> None:
    with anyio.fail_after(10):
        first = await _statuses(seed=7, rate=0.5)
        again = await _statuses(seed=7, rate=0.5)
        other = await _statuses(seed=8, rate=0.5)
    codes = [c for c, _, _ in first]
    errors = [(c, h, b) for c, h, b in first if c != 200]
    assert codes == [c for c, _, _ in again]  # deterministic for a seed
    assert codes != [c for c, _, _ in other]
    assert 5 < len(errors) < 35
    assert {c for c, _, _ in errors} <= {429, 500, 503}
    for code, head, body in errors:
        assert body["type"] == "error" and body["error"]["type"]
        assert head["request-id"]
        if code == 429:
            assert head["retry-after"] == "2" and head["retry-after-ms"] == "2000"


async def test_http_error_rate_hits_stream_connects() -> None:
    faults = Faults(http_error_rate=1.0, http_error_statuses=(503,))
    async with Emulator(Scenario(faults=faults)) as emu, raw_client(emu) as client:
        session_id = emu.create_session()
        response = await client.get(f"/sessions/{session_id}/events/stream")
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "overloaded_error"


async def test_fail_next_answers_the_next_matching_requests_then_recovers() -> None:
    async with Emulator() as emu, raw_client(emu) as client:
        session_id = emu.create_session()
        path = f"/v1/sessions/{session_id}/events"
        emu.fail_next(429, count=2, path=path, method="GET", retry_after=0.25)
        other = await client.get(f"/sessions/{session_id}")
        first = await client.get(f"/sessions/{session_id}/events")
        second = await client.get(f"/sessions/{session_id}/events")
        third = await client.get(f"/sessions/{session_id}/events")
        log = [(r.method, r.path, r.status) for r in emu.requests]
    assert other.status_code == 200
    assert [first.status_code, second.status_code, third.status_code] == [429, 429, 200]
    assert first.json()["error"]["type"] == "rate_limit_error"
    assert first.headers["retry-after-ms"] == "250"
    assert first.headers["retry-after"] == "1"
    assert log[-3:] == [("GET", path, 429), ("GET", path, 429), ("GET", path, 200)]


async def test_stream_error_sends_an_error_frame_and_ends_the_stream() -> None:
    async with Emulator() as emu, raw_client(emu) as client:
        session_id = await create_session(client)
        with anyio.fail_after(5):
            async with client.stream("GET", f"/sessions/{session_id}/events/stream") as response:
                await emu.wait_for_streams(session_id)
                assert emu.stream_error(session_id, "overloaded_error", "busy") == 1
                got = [f async for f in frames(response)]
    assert [(f.event, f.json()) for f in got] == [
        ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}})
    ]


async def test_drop_streams_cuts_open_connections() -> None:
    async with Emulator() as emu, raw_client(emu) as client:
        session_id = await create_session(client)
        with anyio.fail_after(5):
            async with client.stream("GET", f"/sessions/{session_id}/events/stream") as response:
                await emu.wait_for_streams(session_id)
                assert emu.drop_streams(session_id) == 1
                with pytest.raises(httpx.RemoteProtocolError):
                    async for _ in frames(response):
                        pass
        assert emu.stream_count(session_id) == 0


async def test_fail_next_matches_a_prefix_ending_in_a_star() -> None:
    async with Emulator() as emu, raw_client(emu) as client:
        session_id = emu.create_session()
        emu.fail_next(500, path="/v1/sessions/*")
        listed = await client.get("/sessions")  # "/v1/sessions" lacks the trailing slash
        first = await client.get(f"/sessions/{session_id}")
        second = await client.get(f"/sessions/{session_id}")
    assert [listed.status_code, first.status_code, second.status_code] == [200, 500, 200]
    assert first.json()["error"]["type"] == "api_error"
