"""Worker on a real redis-server: lease per wake-up, ack after the work, dirty re-reads,
takeover of a SIGKILLed worker, a paused (zombie) worker fenced out, the sweep, retries."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import redis.asyncio as aioredis
from support import expiry_watch, stream_fields

from agentflow.cluster import Leases, RedisCheckpointStore, Wake, WakeQueue, Worker
from agentflow.testing.redis_server import RedisServer

CHILD = Path(__file__).with_name("worker_child.py")


class Calls:
    """Records calls (``work``'s, or outcomes); ``wait(n)`` returns once ``n`` were made."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self._changed = anyio.Event()

    def add(self, session_id: str, value: Any) -> None:
        self.calls.append((session_id, value))
        self._changed.set()
        self._changed = anyio.Event()

    def outcome(self, wake: Wake, outcome: str) -> None:
        self.add(wake.session_id, outcome)

    def count(self, value: Any) -> int:
        return sum(v == value for _, v in self.calls)

    async def wait(self, n: int, value: Any = None, timeout: float = 10.0) -> None:
        with anyio.fail_after(timeout):
            while (len(self.calls) if value is None else self.count(value)) < n:
                await self._changed.wait()


@pytest.fixture
async def queue(aredis: aioredis.Redis) -> AsyncIterator[WakeQueue]:
    yield WakeQueue(aredis)


@pytest.fixture
def child(redis_url: str) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
        proc.wait(timeout=10)


async def _start_child(procs: list[subprocess.Popen[bytes]], url: str, mode: str) -> None:
    procs.append(subprocess.Popen([sys.executable, str(CHILD), url, mode, "0.5"]))
    client = aioredis.Redis.from_url(url)
    try:
        assert await client.blpop(["ready"], timeout=20) is not None, "worker child did not start"
    finally:
        await client.aclose()


async def test_a_wake_up_is_worked_under_the_lease_and_acknowledged_after(
    redis_url: str, queue: WakeQueue
) -> None:
    calls = Calls()
    seen: list[tuple[int, tuple[int, str] | None]] = []

    async def work(session_id: str, token: int) -> None:
        seen.append((await queue.pending(), await worker.leases.holder(session_id)))
        calls.add(session_id, token)

    worker = Worker(work, redis=redis_url, name="w1", lease_ttl=0.5, block=0.1)
    async with anyio.create_task_group() as tg:
        tg.start_soon(worker.run)
        await queue.wake("s1", "session.requires_action", webhook_id="msg_1")
        await calls.wait(1)
        worker.stop()
    [(session_id, token)] = calls.calls
    assert session_id == "s1" and token == 1
    assert seen == [(1, (1, "w1"))]  # pending and leased while it worked
    assert await queue.pending() == 0  # acknowledged after
    assert await Leases(queue.redis).holder("s1") is None  # and released
    assert worker.outcomes == {"done": 1}


async def test_a_session_woken_while_leased_is_read_again_before_release(
    redis_url: str, queue: WakeQueue
) -> None:
    calls = Calls()
    gate = anyio.Event()

    async def work(session_id: str, token: int) -> None:
        calls.add(session_id, token)
        if len(calls.calls) == 1:
            await gate.wait()  # busy with the session when the next wake-up comes

    outcomes = Calls()
    a = Worker(work, redis=redis_url, name="a", lease_ttl=0.5, block=0.1)
    b = Worker(work, redis=redis_url, name="b", lease_ttl=0.5, block=0.1)
    a.on_outcome = b.on_outcome = outcomes.outcome
    async with anyio.create_task_group() as tg:
        tg.start_soon(a.run)
        await queue.wake("s1", "session.requires_action")
        await calls.wait(1)
        tg.start_soon(b.run)
        await queue.wake("s1", "session.status_idled")
        await outcomes.wait(1, "busy")  # one of them found s1 leased, marked it and acked
        gate.set()
        await calls.wait(2)
        a.stop()
        b.stop()
    assert calls.calls == [("s1", 1), ("s1", 1)]  # the same lease, read twice
    assert a.outcomes["done"] + b.outcomes["done"] == 1
    assert await queue.pending() == 0


async def test_a_killed_workers_session_is_taken_over_after_the_lease(
    redis_url: str, queue: WakeQueue, aredis: aioredis.Redis, child: list[subprocess.Popen[bytes]]
) -> None:
    await _start_child(child, redis_url, "crash")
    await queue.wake("s1", "session.requires_action")
    started = await aredis.blpop(["started"], timeout=20)
    assert started is not None and started[1] == "s1 1"
    child[0].kill()
    killed_at = time.monotonic()
    calls = Calls()

    async def work(session_id: str, token: int) -> None:
        calls.add(session_id, token)

    worker = Worker(work, redis=redis_url, name="survivor", lease_ttl=0.5, block=0.1)
    async with anyio.create_task_group() as tg:
        tg.start_soon(worker.run)
        await calls.wait(1)
        took = time.monotonic() - killed_at
        worker.stop()
    print(f"takeover after SIGKILL: {took * 1000:.0f} ms (lease TTL 500 ms)")
    assert calls.calls == [("s1", 2)]
    assert await queue.pending() == 0


async def test_a_paused_worker_resumes_fenced_out(
    redis_url: str, queue: WakeQueue, aredis: aioredis.Redis, child: list[subprocess.Popen[bytes]]
) -> None:
    store = RedisCheckpointStore(redis_url, owner="parent")
    await _start_child(child, redis_url, "zombie")
    calls = Calls()

    async def work(session_id: str, token: int) -> None:
        view = store.fenced(session_id, token)
        assert view.claim_info("call_1") == ("claimed", 1, "child")  # left by the paused one
        assert view.reclaim("call_1")
        view.record_result(session_id, "call_1", {"content": "from the new holder"})
        view.mark_sent(session_id, "call_1")
        calls.add(session_id, token)

    worker = Worker(work, redis=redis_url, name="parent", lease_ttl=0.5, block=0.1)
    async with expiry_watch(aredis) as expired:
        await queue.wake("s1", "session.requires_action")
        assert await aredis.blpop(["claimed"], timeout=20) == ("claimed", "s1 1")
        await expired(store.keys.session("s1").lease)  # the child's loop is blocked: it lapses
    async with anyio.create_task_group() as tg:
        tg.start_soon(worker.run)
        await calls.wait(1)
        worker.stop()
    await aredis.rpush("proceed", "1")  # the zombie wakes up and tries to write
    outcome = await aredis.blpop(["outcome"], timeout=20)
    # Refused: the new holder has finished and let go, so token 1 holds nothing.
    assert outcome == ("outcome", "refused: session 's1': the lease of token 1 is no longer held")
    assert store.get_result("s1", "call_1") == {"content": "from the new holder"}
    assert store.claim_info("s1", "call_1") == ("sent", 2, "parent")
    store.close()


async def test_the_sweep_wakes_sessions_on_one_worker_per_period(
    redis_url: str, queue: WakeQueue
) -> None:
    calls = Calls()
    sweeps: list[str] = []

    async def work(session_id: str, token: int) -> None:
        calls.add(session_id, token)

    async def sweep() -> list[str]:
        sweeps.append("swept")
        return ["s9"]

    worker = Worker(work, redis=redis_url, lease_ttl=0.5, block=0.1, sweep=sweep, sweep_interval=30)
    other = Worker(work, redis=redis_url, lease_ttl=0.5, sweep=sweep, sweep_interval=30)
    assert await worker.sweep_once() == 1
    assert await other.sweep_once() == 0  # this period's sweep already ran
    async with anyio.create_task_group() as tg:
        tg.start_soon(worker.run)
        await calls.wait(1)
        worker.stop()
    assert calls.calls == [("s9", 1)] and sweeps == ["swept"]
    await other.redis.aclose()


async def test_a_failed_work_is_retried_then_buried(redis_url: str, queue: WakeQueue) -> None:
    calls = Calls()

    async def work(session_id: str, token: int) -> None:
        calls.add(session_id, token)
        raise RuntimeError("the session could not be read")

    outcomes = Calls()
    worker = Worker(
        work,
        redis=redis_url,
        lease_ttl=0.3,
        block=0.1,
        max_deliveries=2,
        on_outcome=outcomes.outcome,
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(worker.run)
        await queue.wake("s1", "session.requires_action")
        await outcomes.wait(1, "buried")  # after two failures, each taken over once idle
        worker.stop()
    assert [token for _, token in calls.calls] == [1, 2]  # each time under a fresh lease
    assert worker.outcomes == {"failed": 2, "buried": 1}
    assert await queue.pending() == 0
    [fields] = await stream_fields(queue.redis, queue.keys.dead)
    assert fields["session"] == "s1" and fields["why"] == "delivered 3 times"


@pytest.mark.parametrize("appendonly", [True, False], ids=["aof", "no-persistence"])
async def test_a_worker_rides_out_a_redis_restart(appendonly: bool) -> None:
    with RedisServer(appendonly=appendonly) as server:
        calls = Calls()

        async def work(session_id: str, token: int) -> None:
            calls.add(session_id, token)

        outcomes = Calls()
        worker = Worker(
            work, redis=server.url, lease_ttl=0.5, block=0.1, on_outcome=outcomes.outcome
        )
        queue = WakeQueue(server.url)
        async with anyio.create_task_group() as tg:
            tg.start_soon(worker.run)
            await queue.wake("s1", "session.status_idled")
            # handled and acknowledged before the restart, so the restart cannot cut the
            # acknowledgement short (that case leaves the wake pending, by design)
            await outcomes.wait(1)
            assert outcomes.calls[0][0] == "s1" and outcomes.calls[0][1] != "failed"
            await anyio.to_thread.run_sync(server.restart)
            await queue.aclose()
            queue = WakeQueue(server.url)  # a fresh pool: the old connections died with Redis
            await queue.wake("s2", "session.status_idled")  # the group is made again if lost
            await calls.wait(2, timeout=15)
            worker.stop()
        try:
            # With AOF the fence kept counting across the restart; without it, it began again.
            assert calls.calls == [("s1", 1), ("s2", 1)]
            assert await queue.pending() == 0
        finally:
            await queue.aclose()  # also on failure: no unclosed socket for the next test
