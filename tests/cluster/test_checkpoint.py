"""RedisCheckpointStore on a real redis-server: the CheckpointStore contract, fencing, claims."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from support import expiry_watch

from agentflow import MemoryCheckpointStore
from agentflow.cluster import FencedOutError, Leases, RedisCheckpointStore
from agentflow.testing.redis_server import RedisServer


@pytest.fixture
def store(redis_url: str) -> Any:
    s = RedisCheckpointStore(redis_url, owner="test")
    yield s
    s.close()


def test_server_is_new_enough(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        version = client.info("server")["redis_version"]
        assert tuple(int(p) for p in version.split(".")[:2]) >= (6, 2)
        # The command the takeover relies on is known to the server.
        # COMMAND INFO has no typed method (redis-py leaves execute_command unannotated).
        info = client.execute_command("COMMAND", "INFO", "XAUTOCLAIM")  # type: ignore[no-untyped-call]
        assert "xautoclaim" in info
    finally:
        client.close()


def _script(s: Any) -> list[Any]:
    """One sequence of calls; the Redis store must answer as the in-memory one does."""
    out: list[Any] = [s.position("s"), s.is_dispatched("s", "e1")]
    s.mark_dispatched("s", "e1", "2026-01-01T00:00:00Z")
    s.mark_dispatched("s", "e2")  # processed_at unknown: the previous one is kept
    out += [s.position("s"), s.is_dispatched("s", "e1"), s.is_dispatched("s", "e9")]
    out += [s.claim("s", "c1"), s.claim("s", "c1"), s.claim("s", "c2"), s.call_state("s", "c1")]
    s.record_result("s", "c2", {"content": [{"type": "text", "text": "two"}]})
    s.record_result("s", "c1", {"content": [{"type": "text", "text": "one"}]})
    out += [s.pending_results("s"), s.call_state("s", "c1")]
    s.mark_sent("s", "c2")
    s.record_result("s", "c2", {"content": "ignored once sent"})
    s.mark_sent("s", "c3")  # from any state, even none
    out += [s.pending_results("s"), s.get_result("s", "c2"), s.is_answered("s", "c2")]
    out += [s.call_state("s", "c3"), s.get_result("s", "c3"), s.call_state("other", "c1")]
    s.forget("s")
    out += [s.position("s"), s.call_state("s", "c1"), s.pending_results("s")]
    return out


def test_answers_as_the_memory_store_does(store: RedisCheckpointStore) -> None:
    assert _script(store) == _script(MemoryCheckpointStore())


def test_repr_hides_the_password(redis_server: RedisServer, store: RedisCheckpointStore) -> None:
    assert redis_server.password not in repr(store)
    assert "***" in repr(store)


async def test_unfenced_writes_are_refused_while_a_worker_holds_the_lease(
    redis_url: str, store: RedisCheckpointStore
) -> None:
    leases = Leases(redis_url, ttl=5.0)
    lease = await leases.acquire("s", "worker-a")
    assert lease is not None
    with pytest.raises(FencedOutError, match="holds the lease"):
        store.claim("s", "c1")
    assert store.call_state("s", "c1") is None
    assert store.fenced("s", lease.token).claim("s", "c1")
    await leases.release(lease)
    assert not store.claim("s", "c1")  # free again: unfenced writes pass, the claim stands
    await leases.aclose()


async def test_a_stale_token_writes_nothing(
    redis_url: str, store: RedisCheckpointStore, aredis: aioredis.Redis
) -> None:
    leases = Leases(redis_url, ttl=0.5)
    async with expiry_watch(aredis) as expired:
        a = await leases.acquire("s", "worker-a")
        assert a is not None
        view_a = store.fenced("s", a.token)
        assert view_a.claim("s", "c1")
        view_a.mark_dispatched("s", "e1")

        await expired(leases.keys.session("s").lease)  # worker a "paused" past its lease
        with pytest.raises(FencedOutError, match="no longer held"):
            view_a.record_result("s", "c1", {"content": "late"})

        b = await leases.acquire("s", "worker-b")
        assert b is not None and b.token == a.token + 1
        view_b = store.fenced("s", b.token)
        for write in (
            lambda: view_a.claim("s", "c2"),
            lambda: view_a.mark_dispatched("s", "e2"),
            lambda: view_a.mark_sent("s", "c1"),
            lambda: view_a.forget("s"),
        ):
            with pytest.raises(FencedOutError, match="stale"):
                write()
        assert store.position("s") is not None and store.position("s").event_id == "e1"  # type: ignore[union-attr]
        assert store.call_state("s", "c2") is None and store.get_result("s", "c1") is None
        # The new holder takes the dead worker's claim over, exactly once.
        assert store.claim_info("s", "c1") == ("claimed", a.token, "test")
        assert view_b.reclaim("c1") and not view_b.reclaim("c1")
        assert view_b.claim_info("c1") == ("claimed", b.token, "test")
        view_b.record_result("s", "c1", {"content": "done"})
        assert view_b.pending_results("s") == {"c1": {"content": "done"}}
    await leases.aclose()


def test_a_view_serves_one_session(store: RedisCheckpointStore) -> None:
    view = store.fenced("s", 1)
    with pytest.raises(ValueError, match="fenced for session 's'"):
        view.claim("other", "c1")
    with pytest.raises(ValueError):
        store.fenced("s", 0)


def test_claims_are_exclusive_across_stores_and_threads(redis_url: str) -> None:
    stores = [RedisCheckpointStore(redis_url, owner=f"store-{i}") for i in range(2)]
    ids = [f"call_{i}" for i in range(300)]
    won: list[list[str]] = [[] for _ in range(8)]
    start = threading.Barrier(8)

    def claim_all(n: int) -> None:
        start.wait(timeout=10)
        store = stores[n % 2]
        won[n] = [i for i in ids if store.claim("s", i)]

    threads = [threading.Thread(target=claim_all, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    flat = [i for w in won for i in w]
    assert sorted(flat) == sorted(ids)  # every call claimed, none twice
    for s in stores:
        s.close()


_CLAIMER = textwrap.dedent(
    """
    import sys
    import redis
    from agentflow.cluster import RedisCheckpointStore

    url, n = sys.argv[1], int(sys.argv[2])
    store = RedisCheckpointStore(url, owner="child")
    store.claim("warm", "child")  # load the scripts before the race
    client = redis.Redis.from_url(url)
    client.rpush("ready", "1")
    client.blpop(["go"], timeout=20)  # start together with the parent
    print(" ".join(f"call_{i}" for i in range(n) if store.claim("s", f"call_{i}")))
    """
)


def test_claims_are_exclusive_across_processes(redis_url: str) -> None:
    n = 400
    child = subprocess.Popen(
        [sys.executable, "-c", _CLAIMER, redis_url, str(n)], stdout=subprocess.PIPE, text=True
    )
    try:
        client = redis.Redis.from_url(redis_url)
        store = RedisCheckpointStore(redis_url, owner="parent")
        store.claim("warm", "parent")  # load the scripts before the race
        assert client.blpop(["ready"], timeout=20) is not None, "the child did not start"
        client.rpush("go", "1")
        # The other way round from the child, so the two meet somewhere in the middle.
        mine = {f"call_{i}" for i in reversed(range(n)) if store.claim("s", f"call_{i}")}
        out, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=5)
    theirs = set(out.split())
    assert mine | theirs == {f"call_{i}" for i in range(n)}
    assert not mine & theirs
    owners = {i: store.claim_info("s", i).owner for i in mine | theirs}  # type: ignore[union-attr]
    assert owners == {i: "parent" if i in mine else "child" for i in mine | theirs}
    store.close()
    client.close()


async def test_aof_keeps_claims_and_fences_across_a_crash() -> None:
    with RedisServer(appendonly=True, appendfsync="always") as server:
        store = RedisCheckpointStore(server.url)
        leases = Leases(server.url, ttl=30.0)
        lease = await leases.acquire("s", "w")
        assert lease is not None
        assert store.fenced("s", lease.token).claim("s", "c1")
        await leases.aclose()
        server.restart(kill=True)  # SIGKILL: only what the append-only file holds survives
        leases = Leases(server.url, ttl=30.0)
        assert store.call_state("s", "c1") == "claimed"
        assert (await leases.holder("s")) == (lease.token, "w")
        await leases.release(lease)
        again = await leases.acquire("s", "w2")
        assert again is not None and again.token == lease.token + 1  # the fence kept counting
        await leases.aclose()
        store.close()


def test_retention_expires_the_checkpoint_but_not_the_fence(redis_url: str) -> None:
    store = RedisCheckpointStore(redis_url, retention=60.0)
    store.mark_dispatched("s", "e1")
    store.claim("s", "c1")
    k = store.keys.session("s")
    assert 0 < store.redis.pttl(k.seen) <= 60_000
    assert 0 < store.redis.pttl(k.calls) <= 60_000
    assert store.redis.pttl(k.fence) == -2  # no fence yet; once made it never expires
    store.close()
