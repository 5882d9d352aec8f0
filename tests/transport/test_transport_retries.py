"""Retry timing against the emulator, with an injected sleep and random (nothing waits)."""

from __future__ import annotations

import socket

import anyio
import pytest
from transport_helpers import Draws, SleepRecorder, client_for

from agentflow import AuthenticationError, NotFoundError, RateLimitError, TransportError
from agentflow.testing import Emulator
from agentflow.transport import Backoff, ManagedAgentsClient


async def test_429_waits_at_least_retry_after(emulator: Emulator) -> None:
    sid = emulator.create_session()
    sleep = SleepRecorder()
    async with client_for(emulator, sleep=sleep, random=Draws(0.0)) as client:
        emulator.fail_next(429, path=f"/v1/sessions/{sid}/events", retry_after=2.5)
        events = [e async for e in client.events.list(sid)]
    assert events == []
    assert sleep.delays == [2.5]  # retry-after-ms (2500) wins over retry-after ("3")
    assert [r.status for r in emulator.requests] == [429, 200]


async def test_429_on_stream_connect_waits_retry_after(emulator: Emulator) -> None:
    sid = emulator.create_session()
    sleep = SleepRecorder()
    async with client_for(emulator, sleep=sleep, random=Draws(0.0)) as client:
        emulator.fail_next(429, path=f"/v1/sessions/{sid}/events/stream", retry_after=4)
        async with client.events.stream(sid) as stream:
            assert stream.connected
    assert sleep.delays == [4.0]


async def test_a_429_without_hint_raises_rate_limit_error_after_retries(emulator: Emulator) -> None:
    sid = emulator.create_session()
    sleep = SleepRecorder()
    async with client_for(emulator, sleep=sleep, random=Draws(1.0), max_retries=2) as client:
        emulator.fail_next(429, count=3, path=f"/v1/sessions/{sid}")
        with pytest.raises(RateLimitError) as info:
            await client.sessions.retrieve(sid)
    assert info.value.status == 429 and info.value.type == "rate_limit_error"
    assert sleep.delays == [0.01, 0.02]  # full window with random() == 1: base, 2 * base


@pytest.mark.parametrize("where", ["request", "stream"])
async def test_401_raises_at_once_without_retry(where: str) -> None:
    sleep = SleepRecorder()
    async with Emulator(api_key="the-right-key-123") as emu:
        sid = emu.create_session()
        client = ManagedAgentsClient("a-wrong-key-456", emu.base_url, sleep=sleep, max_retries=5)
        async with client:
            with pytest.raises(AuthenticationError) as info:
                if where == "request":
                    await client.sessions.retrieve(sid)
                else:
                    async with client.events.stream(sid):
                        pass
        assert len(emu.requests) == 1
    assert sleep.delays == []
    assert info.value.status == 401 and info.value.type == "authentication_error"


async def test_404_on_stream_raises_at_once(emulator: Emulator) -> None:
    sleep = SleepRecorder()
    async with client_for(emulator, sleep=sleep) as client:
        with pytest.raises(NotFoundError):
            async with client.events.stream("sesn_missing"):
                pass
    assert len(emulator.requests) == 1 and sleep.delays == []


async def test_5xx_on_stream_connect_is_retried_with_jittered_capped_delays(
    emulator: Emulator,
) -> None:
    sid = emulator.create_session()
    sleep = SleepRecorder()
    draws = Draws(0.5, 0.25, 1.0, 0.75, 0.1)
    backoff = Backoff(base=1.0, cap=3.0)
    async with client_for(emulator, sleep=sleep, random=draws, backoff=backoff) as client:
        emulator.fail_next(503, count=2, path=f"/v1/sessions/{sid}/events/stream")
        emulator.fail_next(500, count=3, path=f"/v1/sessions/{sid}/events/stream")
        async with client.events.stream(sid) as stream:
            assert stream.connected and emulator.stream_count(sid) == 1
    # windows 1, 2, 3 (capped), 3, 3, each scaled by its draw
    assert sleep.delays == pytest.approx([0.5, 0.5, 3.0, 2.25, 0.3])
    statuses = [r.status for r in emulator.requests if r.path.endswith("/stream")]
    assert statuses == [503, 503, 500, 500, 500, 200]


async def test_stream_gives_up_after_max_attempts(emulator: Emulator) -> None:
    sid = emulator.create_session()
    sleep = SleepRecorder()
    async with client_for(emulator, sleep=sleep, random=Draws(1.0)) as client:
        emulator.fail_next(502, count=50, path=f"/v1/sessions/{sid}/events/stream")
        with pytest.raises(TransportError, match="after 4 attempts") as info:
            async with client.events.stream(sid, max_attempts=4):
                pass
    assert isinstance(info.value.__cause__, Exception)
    assert sleep.delays == [0.01, 0.02, 0.04, 0.05]  # capped at 0.05
    assert len([r for r in emulator.requests if r.path.endswith("/stream")]) == 5


async def test_connection_errors_are_retried_then_raised_as_transport_error() -> None:
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleep = SleepRecorder()
    client = ManagedAgentsClient(
        "key-0123456789", f"http://127.0.0.1:{port}", sleep=sleep, random=Draws(0.5),
        max_retries=3, backoff=Backoff(base=2.0, cap=5.0),
    )  # fmt: skip
    async with client:
        with anyio.fail_after(10), pytest.raises(TransportError, match="ConnectError"):
            await client.sessions.retrieve("sesn_x")
        with anyio.fail_after(10), pytest.raises(TransportError, match="after 2 attempts"):
            async with client.events.stream("sesn_x", max_attempts=2):
                pass
    assert sleep.delays == [1.0, 2.0, 2.5, 1.0, 2.0]
