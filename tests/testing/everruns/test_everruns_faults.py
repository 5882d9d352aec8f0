"""Each fault knob of the Everruns emulator, observed on the wire with raw httpx."""

from __future__ import annotations

import json

import anyio
import httpx
import pytest
from everruns_support import SSEFrame, create_session, event_ids, frames, management, send

from agentflow.testing import Burst, Scenario, Turn
from agentflow.testing.everruns import EverrunsEmulator

BURST = Scenario([Turn([Burst(12)])])


async def _run_turn(emu: EverrunsEmulator, client: httpx.AsyncClient) -> str:
    session_id = await create_session(client)
    await send(client, session_id)
    with anyio.fail_after(5):
        await emu.wait_for_event(session_id, "session.idled")
    return session_id


async def _replay(client: httpx.AsyncClient, url: str) -> list[SSEFrame]:
    out: list[SSEFrame] = []
    async with client.stream("GET", url) as response:
        async for frame in frames(response):
            out.append(frame)
            if frame.event == "session.idled":
                break
    return out


async def _read(client: httpx.AsyncClient, url: str, sink: list[SSEFrame]) -> bool:
    """Read into ``sink`` until ``session.idled``; True when the connection was cut instead."""
    try:
        async with client.stream("GET", url) as response:
            async for frame in frames(response):
                sink.append(frame)
                if frame.event == "session.idled":
                    return False
    except httpx.RemoteProtocolError:  # no final chunk: an abrupt close
        return True
    raise AssertionError("the stream ended cleanly before session.idled")


async def test_drop_every_cuts_abruptly_and_since_id_recovers_the_rest() -> None:
    async with EverrunsEmulator(BURST.with_faults(drop_every=5)) as emu, management(emu) as c:
        session_id = await _run_turn(emu, c)
        got: list[SSEFrame] = []
        cuts = []
        with anyio.fail_after(5):
            url = f"/sessions/{session_id}/sse"
            while await _read(c, url, got):  # every connection makes progress
                cuts.append(len(event_ids(got)))
                url = f"/sessions/{session_id}/sse?since_id={event_ids(got)[-1]}"
        history = emu.history(session_id)
    assert cuts == [5, 10, 15]
    assert event_ids(got) == [e["id"] for e in history]


async def test_duplicate_every_sends_the_same_event_twice() -> None:
    async with EverrunsEmulator(BURST.with_faults(duplicate_every=5)) as emu, management(emu) as c:
        session_id = await _run_turn(emu, c)
        with anyio.fail_after(5):
            got = await _replay(c, f"/sessions/{session_id}/sse")
        history = emu.history(session_id)
    ids = event_ids(got)
    expected: list[str] = []
    for n, event in enumerate(history, start=1):
        expected += [event["id"]] * (2 if n % 5 == 0 else 1)
    assert ids == expected


async def test_malformed_every_adds_a_broken_copy_before_the_real_event() -> None:
    async with EverrunsEmulator(BURST.with_faults(malformed_every=3)) as emu, management(emu) as c:
        session_id = await _run_turn(emu, c)
        with anyio.fail_after(5):
            got = await _replay(c, f"/sessions/{session_id}/sse")
        history = emu.history(session_id)
    broken, good = [], []
    for frame in got[1:]:
        try:
            good.append(frame.json()["id"])
        except ValueError:
            broken.append(frame.id)
    assert good == [e["id"] for e in history]
    assert broken == [e["id"] for n, e in enumerate(history, start=1) if n % 3 == 0]


async def test_stall_goes_silent_after_n_events_without_heartbeats() -> None:
    faults = {"stall_after": 3, "stall_seconds": 30.0, "keepalive_seconds": 0.05}
    async with EverrunsEmulator(BURST.with_faults(**faults)) as emu, management(emu) as c:
        session_id = await _run_turn(emu, c)
        got: list[SSEFrame] = []
        with anyio.fail_after(5):
            url = f"/sessions/{session_id}/sse"
            async with c.stream("GET", url, timeout=httpx.Timeout(5, read=0.5)) as response:
                with pytest.raises(httpx.ReadTimeout):  # heartbeats every 0.05 s would end it
                    async for frame in frames(response):
                        got.append(frame)
    assert len(event_ids(got)) == 3
    assert all(f.comment is None for f in got)


async def test_http_error_rate_answers_429_with_retry_after_in_the_everruns_envelope() -> None:
    faults = {"http_error_rate": 1.0, "http_error_statuses": (429,), "retry_after_seconds": 2.5}
    async with EverrunsEmulator(Scenario().with_faults(**faults)) as emu, management(emu) as c:
        response = await c.get("/sessions")
        stream = await c.get("/sessions/session_x/sse")
    for r in (response, stream):
        assert r.status_code == 429
        assert (r.headers["retry-after"], r.headers["retry-after-ms"]) == ("3", "2500")
        assert r.json()["error"]["code"] == "rate_limited"


async def test_http_error_rate_is_seeded_and_partial() -> None:
    async def statuses(seed: int) -> list[int]:
        scenario = Scenario().with_faults(http_error_rate=0.5, seed=seed)
        async with EverrunsEmulator(scenario) as emu, management(emu) as c:
            return [(await c.get("/sessions")).status_code for _ in range(20)]

    first, again = await statuses(7), await statuses(7)
    assert first == again
    assert 200 in first and set(first) - {200} <= {429, 500, 503} and len(set(first)) > 1


async def test_fail_next_answers_the_next_matching_requests() -> None:
    async with EverrunsEmulator() as emu, management(emu) as c:
        session_id = await create_session(c)
        path = f"/api/v1/sessions/{session_id}/sse"
        emu.fail_next(503, count=2, path=path, retry_after=1)
        first = await c.get(f"/sessions/{session_id}/sse")
        other = await c.get(f"/sessions/{session_id}")
        second = await c.get(f"/sessions/{session_id}/sse")
        with anyio.fail_after(5):
            async with c.stream("GET", f"/sessions/{session_id}/sse") as response:
                connected = await anext_frame(response)
    assert (first.status_code, second.status_code, other.status_code) == (503, 503, 200)
    assert json.loads(first.text)["error"]["code"] == "service_unavailable"
    assert first.headers["retry-after"] == "1"
    assert connected.event == "connected"


async def anext_frame(response: httpx.Response) -> SSEFrame:
    async for frame in frames(response):
        return frame
    raise AssertionError("the stream ended before its first frame")


async def test_stream_faults_vary_the_faults_per_connection_in_turn() -> None:
    from agentflow.testing import Faults

    plan = [Faults(drop_every=4), Faults(duplicate_every=2)]
    async with EverrunsEmulator(BURST, stream_faults=plan) as emu, management(emu) as c:
        session_id = await _run_turn(emu, c)
        url = f"/sessions/{session_id}/sse"
        with anyio.fail_after(5):
            first: list[SSEFrame] = []
            cut = await _read(c, url, first)  # connection 0: dropped after 4 events
            second = await _replay(c, url)  # connection 1: every 2nd event twice
            third: list[SSEFrame] = []
            cut_again = await _read(c, url, third)  # connection 2: the plan starts over
        history = [e["id"] for e in emu.history(session_id)]
    assert cut and cut_again and event_ids(first) == event_ids(third) == history[:4]
    doubled: list[str] = []
    for n, event_id in enumerate(history, start=1):
        doubled += [event_id] * (2 if n % 2 == 0 else 1)
    if len(history) % 2 == 0:
        doubled.pop()  # the reader stops at the first copy of the final session.idled
    assert event_ids(second) == doubled
