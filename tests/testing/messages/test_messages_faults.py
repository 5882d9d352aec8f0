"""Each fault knob of the Messages emulator, observed on the wire with a raw httpx client."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from msg_support import Frame, body, raw_client, split, stream

from agentflow.testing import Burst, CustomTool, Faults, Say, Scenario, Turn, Wait
from agentflow.testing.messages import MessagesEmulator

IDS = re.compile(r"emu\d{12}")
BURST = Scenario([Turn([Burst(12), CustomTool("f", {"k": "v"})])])


async def _iter_frames(response: httpx.Response) -> AsyncIterator[Frame]:
    buffer = ""
    async for chunk in response.aiter_text():
        buffer += chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            for frame in split(block + "\n\n"):
                yield frame


async def _read_frames(response: httpx.Response, into: list[Frame]) -> None:
    async for frame in _iter_frames(response):
        into.append(frame)


def _counted(frames: list[Frame]) -> list[Frame]:
    """The frames the faults count: every event but the early ``ping``."""
    return [f for f in frames if f.event != "ping"]


async def test_drop_every_cuts_the_first_stream_and_the_retry_is_whole() -> None:
    async with MessagesEmulator(BURST.with_faults(drop_every=5)) as emu, raw_client(emu) as client:
        got: list[Frame] = []
        with anyio.fail_after(10):
            async with client.stream("POST", "/v1/messages", json=body(stream=True)) as r:
                with pytest.raises(httpx.RemoteProtocolError):  # no final chunk: abrupt
                    await _read_frames(r, got)
            retried = await stream(client, body())
    assert len(_counted(got)) == 5 and "message_stop" not in [f.event for f in got]
    assert retried[-1].event == "message_stop"  # the fault hits a position's first stream only


async def test_malformed_every_adds_a_bad_frame_before_every_nth_event() -> None:
    async with MessagesEmulator(BURST.with_faults(malformed_every=4)) as emu:
        async with raw_client(emu) as client:
            with anyio.fail_after(10):
                first = _counted(await stream(client, body()))
                retried = _counted(await stream(client, body()))
    good: list[dict[str, Any]] = []
    bad: list[int] = []
    for frame in first:
        try:
            good.append(frame.json())
        except ValueError:
            bad.append(len(good))
            assert frame.event  # named, so a client tries to parse it
    assert [g["type"] for g in good] == [f.json()["type"] for f in retried]  # nothing lost
    assert bad[:3] == [3, 7, 11]  # just before events 4, 8, 12
    assert len(bad) == len(good) // 4


async def test_duplicate_every_sends_every_nth_event_twice() -> None:
    async with MessagesEmulator(BURST.with_faults(duplicate_every=3)) as emu:
        async with raw_client(emu) as client:
            with anyio.fail_after(10):
                first = _counted(await stream(client, body()))
                retried = _counted(await stream(client, body()))
    expected: list[str] = []
    for n, frame in enumerate(retried, start=1):
        expected += [frame.data] * (2 if n % 3 == 0 else 1)
    # the same frames (ids aside: every response gets new ones), every third one twice
    assert [IDS.sub("emu", f.data) for f in first] == [IDS.sub("emu", e) for e in expected]


async def test_stall_after_goes_silent_and_the_retry_is_not_stalled() -> None:
    faults = Faults(stall_after=3, stall_seconds=60, keepalive_seconds=0.02)
    scenario = Scenario([Turn([Say("Stalled in the middle of this.")])], faults=faults)
    async with MessagesEmulator(scenario) as emu, raw_client(emu) as client:
        got: list[Frame] = []
        late: list[Frame] = []
        with anyio.fail_after(10):
            async with client.stream("POST", "/v1/messages", json=body(stream=True)) as r:
                frames = _iter_frames(r)
                async for frame in frames:
                    got.append(frame)
                    if len(_counted(got)) == 3:
                        break
                with anyio.move_on_after(0.3):  # then nothing, not even a ping, while stalled
                    async for frame in frames:
                        late.append(frame)
            retried = await stream(client, body())
    assert [f.event for f in _counted(got)][:2] == ["message_start", "content_block_start"]
    assert late == []
    assert retried[-1].event == "message_stop"


async def test_http_error_rate_answers_a_seeded_fraction_with_retry_after_on_429() -> None:
    async def statuses(seed: int) -> list[tuple[int, dict[str, str], Any]]:
        faults = Faults(http_error_rate=0.5, seed=seed, retry_after_seconds=2)
        async with MessagesEmulator(Scenario(faults=faults)) as emu, raw_client(emu) as client:
            out = []
            for _ in range(40):
                response = await client.post("/v1/messages", json=body())
                out.append((response.status_code, dict(response.headers), response.json()))
            return out

    with anyio.fail_after(20):
        first, again, other = await statuses(7), await statuses(7), await statuses(8)
    codes = [c for c, _, _ in first]
    errors = [(c, h, b) for c, h, b in first if c != 200]
    assert codes == [c for c, _, _ in again] and codes != [c for c, _, _ in other]
    assert 5 < len(errors) < 35 and {c for c, _, _ in errors} <= {429, 500, 503}
    assert 429 in codes
    for code, head, data in errors:
        assert data["type"] == "error" and data["request_id"] == head["request-id"]
        if code == 429:
            assert head["retry-after"] == "2" and head["retry-after-ms"] == "2000"
            assert data["error"]["type"] == "rate_limit_error"


async def test_fail_next_answers_the_next_requests_then_recovers() -> None:
    async with MessagesEmulator(Scenario.simple("fine")) as emu, raw_client(emu) as client:
        emu.fail_next(529, count=2, retry_after=0.25, headers={"x-should-retry": "false"})
        answers = [await client.post("/v1/messages", json=body()) for _ in range(3)]
    assert [a.status_code for a in answers] == [529, 529, 200]
    assert answers[0].json()["error"]["type"] == "overloaded_error"
    assert answers[0].headers["retry-after-ms"] == "250"
    assert answers[0].headers["x-should-retry"] == "false"
    assert answers[2].json()["content"] == [{"type": "text", "text": "fine"}]


async def test_drop_streams_cuts_an_open_stream() -> None:
    scenario = Scenario([Turn([Say("a"), Wait(30), Say("b")])])
    async with MessagesEmulator(scenario) as emu, raw_client(emu) as client:
        got: list[Frame] = []

        async def cut() -> None:
            await emu.wait_for_request(1)
            assert emu.drop_streams() == 1

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(cut)
                async with client.stream("POST", "/v1/messages", json=body(stream=True)) as r:
                    with pytest.raises(httpx.RemoteProtocolError):
                        await _read_frames(r, got)
        assert emu.stream_count == 0
    assert [f.event for f in got][-1] == "content_block_stop"
    assert json.loads(got[-1].data)["index"] == 0
