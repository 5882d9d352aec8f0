"""WakeQueue on a real redis-server: dedupe, coalescing, owner-only ack, XAUTOCLAIM takeover."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from support import expiry_watch

from agentflow.cluster import WakeQueue


@pytest.fixture
async def queue(aredis: aioredis.Redis) -> AsyncIterator[WakeQueue]:
    q = WakeQueue(aredis)
    yield q
    await q.aclose()


async def test_redeliveries_are_dropped_and_queued_sessions_coalesced(
    queue: WakeQueue, aredis: aioredis.Redis
) -> None:
    status, entry = await queue.wake("s1", "session.requires_action", webhook_id="msg_1")
    assert status == "queued" and entry is not None
    assert await queue.wake("s1", "session.requires_action", webhook_id="msg_1") == (
        "duplicate",
        None,
    )
    assert await queue.wake("s1", "session.status_idled", webhook_id="msg_2") == ("coalesced", None)
    assert (await queue.wake("s2", "session.status_idled", webhook_id="msg_3"))[0] == "queued"
    assert await aredis.xlen(queue.keys.stream) == 2

    [first, second] = await queue.receive("w1", count=10, block=None)
    assert (first.session_id, first.reason, first.webhook_id) == (
        "s1",
        "session.requires_action",
        "msg_1",
    )
    assert second.session_id == "s2" and first.deliveries == 1
    await queue.begin(first)  # the worker is about to read s1: later news queues again
    assert (await queue.wake("s1", "session.status_idled", webhook_id="msg_4"))[0] == "queued"


async def test_only_the_consumer_holding_an_entry_acknowledges_it(
    queue: WakeQueue, aredis: aioredis.Redis
) -> None:
    await queue.wake("s1", "sweep")
    [wake] = await queue.receive("w1", block=None)
    assert await queue.pending() == 1
    stranger = type(wake)(**{**wake.__dict__, "consumer": "w2"})
    assert not await queue.ack(stranger)
    assert await queue.pending() == 1
    assert await queue.ack(wake)
    assert await queue.pending() == 0
    assert await aredis.xlen(queue.keys.stream) == 0  # acknowledged entries are deleted
    assert not await queue.ack(wake)


async def test_a_dead_consumers_entry_is_taken_over_once_idle(
    queue: WakeQueue, aredis: aioredis.Redis
) -> None:
    await queue.wake("s1", "session.requires_action", webhook_id="msg_1")
    [left] = await queue.receive("dead", block=None)  # then "dead" never acknowledges
    async with expiry_watch(aredis) as expired:
        await aredis.set("marker", "1", px=300)  # lapses 300 ms after the delivery, or later
        assert await queue.claim_stale("alive", min_idle=30.0) == []  # not idle long enough
        await expired("marker")
    [taken] = await queue.claim_stale("alive", min_idle=0.3)
    assert (taken.id, taken.session_id, taken.consumer) == (left.id, "s1", "alive")
    assert taken.deliveries == 2
    assert not await queue.ack(left)  # the dead one's late ack no longer counts
    assert await queue.ack(taken)
    assert await queue.pending() == 0


async def test_touch_restarts_the_idle_time_of_the_owners_entry_only(
    queue: WakeQueue, aredis: aioredis.Redis
) -> None:
    await queue.wake("s1", "sweep")
    [wake] = await queue.receive("w1", block=None)
    async with expiry_watch(aredis) as expired:
        await aredis.set("marker", "1", px=300)
        await expired("marker")

    async def idle_ms() -> int:
        [row] = await aredis.xpending_range(queue.keys.stream, queue.group, "-", "+", 1)
        return int(row["time_since_delivered"])

    before = await idle_ms()
    assert before >= 300
    stranger = type(wake)(**{**wake.__dict__, "consumer": "w2"})
    assert not await queue.touch(stranger)
    assert await idle_ms() >= before
    assert await queue.touch(wake)
    assert await idle_ms() < before
    [row] = await aredis.xpending_range(queue.keys.stream, queue.group, "-", "+", 1)
    assert row["consumer"] == "w1"


async def test_a_restarted_consumer_rereads_what_it_had_not_acknowledged(
    queue: WakeQueue,
) -> None:
    await queue.wake("s1", "sweep")
    await queue.wake("s2", "sweep")
    first = await queue.receive("w1", count=5, block=None)
    assert [w.session_id for w in first] == ["s1", "s2"]
    await queue.ack(first[0])
    again = await queue.receive("w1", count=5, pending=True)
    assert [(w.session_id, w.deliveries) for w in again] == [("s2", 2)]
    assert await queue.receive("w1", count=5, block=None) == []  # nothing new
