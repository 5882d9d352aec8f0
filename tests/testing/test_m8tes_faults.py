"""Each fault knob on the m8tes emulator, observed on the wire with a raw httpx client."""

from __future__ import annotations

import json

import anyio
import httpx
import pytest
from m8tes_support import create, messages, payloads, raw_client, read_all

from agentflow.testing import Burst, Faults, Say, Scenario, Turn
from agentflow.testing.m8tes import M8tesEmulator
from agentflow.testing.m8tes.frames import encode

BURST = Scenario([Turn([Burst(12)])])


def _scenario(**faults: object) -> Scenario:
    return BURST.with_faults(**faults)


async def test_drop_every_cuts_the_stream_without_a_terminal_frame() -> None:
    async with M8tesEmulator(_scenario(drop_every=5)) as emu, raw_client(emu) as client:
        got: list[str] = []
        with anyio.fail_after(10):
            async with client.stream("POST", "/runs/", json={"message": "x"}) as response:
                with pytest.raises(httpx.RemoteProtocolError):  # no final chunk: abrupt
                    async for payload in payloads(response):
                        got.append(payload)
            await emu.wait_for_status(1, "completed")  # the run itself goes on
    assert got == [encode(f) for f in emu.frames(1)[:5]]
    assert "[DONE]" not in got and len(emu.frames(1)) > 5


async def test_drop_every_counts_per_connection_so_a_reattach_gets_as_far() -> None:
    async with M8tesEmulator(_scenario(drop_every=4)) as emu, raw_client(emu) as client:
        emu.hold()
        with anyio.fail_after(10):
            await create(client)
            await emu.wait_held(1)
            counts = []
            for _ in range(2):
                n = 0
                async with client.stream("GET", "/runs/1/stream") as response:
                    with pytest.raises(httpx.RemoteProtocolError):
                        async for _payload in payloads(response):
                            n += 1
                counts.append(n)
            emu.release(1)
            await emu.wait_for_status(1, "completed")
    assert counts == [4, 4]  # each re-attach replays from the start and is cut as far


async def test_malformed_every_sends_a_cut_frame_before_the_real_one() -> None:
    async with M8tesEmulator(_scenario(malformed_every=3)) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            async with client.stream("POST", "/runs/", json={"message": "x"}) as response:
                got = await read_all(response)
    good = [encode(f) for f in emu.frames(1)]
    bad_at = []
    for i, payload in enumerate(got[:-1]):
        try:
            json.loads(payload)
        except ValueError:
            bad_at.append(i)
            assert good[len(bad_at) * 3 - 1].startswith(payload)  # half of the frame to come
    assert [p for i, p in enumerate(got) if i not in bad_at] == [*good, "[DONE]"]
    assert len(bad_at) == len(good) // 3


async def test_duplicate_every_sends_every_nth_frame_twice() -> None:
    async with M8tesEmulator(_scenario(duplicate_every=4)) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            async with client.stream("POST", "/runs/", json={"message": "x"}) as response:
                got = await read_all(response)
    expected: list[str] = []
    for n, frame in enumerate(emu.frames(1), start=1):
        expected += [encode(frame)] * (2 if n % 4 == 0 else 1)
    assert got == [*expected, "[DONE]"]


async def test_stall_after_goes_silent_with_frames_queued_and_no_keep_alives() -> None:
    faults = Faults(stall_after=3, stall_seconds=60, keepalive_seconds=0.01)
    scenario = Scenario([Turn([Say("one two three four five six seven")])], faults=faults)
    async with M8tesEmulator(scenario) as emu, raw_client(emu) as client:
        emu.hold()
        with anyio.fail_after(10):
            async with client.stream("POST", "/runs/", json={"message": "x"}) as response:
                got: list[str] = []
                await emu.wait_held(1)
                with anyio.move_on_after(0.3):  # long enough for many keep-alives, were any sent
                    async for block in messages(response):
                        got.append(block)
                queued = len(next(iter(emu.run(1).subscribers)).frames)
    assert got == [f"data: {encode(f)}" for f in emu.frames(1)[:3]]
    assert queued == len(emu.frames(1)) - 3  # the rest waits behind the stall


async def _statuses(seed: int, rate: float, n: int = 30) -> list[int]:
    faults = Faults(http_error_rate=rate, seed=seed, retry_after_seconds=2)
    async with M8tesEmulator(Scenario(faults=faults)) as emu, raw_client(emu) as client:
        return [(await client.get("/runs/")).status_code for _ in range(n)]


async def test_http_error_rate_answers_a_seeded_fraction_with_errors() -> None:
    with anyio.fail_after(10):
        first = await _statuses(seed=7, rate=0.5)
        again = await _statuses(seed=7, rate=0.5)
        other = await _statuses(seed=8, rate=0.5)
    assert first == again != other
    assert {s for s in first if s != 200} <= {429, 500, 503} and 200 in first


async def test_http_errors_carry_the_envelope_and_hit_stream_connects() -> None:
    faults = Faults(http_error_rate=1.0, http_error_statuses=(429,), retry_after_seconds=1.5)
    async with M8tesEmulator(Scenario(faults=faults)) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            limited = await client.post("/runs/", json={"message": "x"})
            connect = await client.get("/runs/1/stream")
    assert limited.status_code == connect.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert limited.json()["error"]["type"] == "rate_limit_error" and emu.runs == {}
