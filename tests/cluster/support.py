"""Helpers for the cluster tests: wait for a Redis key to expire, as an event."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
import redis.asyncio as aioredis


@contextlib.asynccontextmanager
async def expiry_watch(client: aioredis.Redis) -> AsyncIterator[Callable[[str], Awaitable[None]]]:
    """Subscribe to Redis's own "key expired" notifications; yields ``wait(key)``.

    ``wait`` returns once Redis has expired ``key`` (bounded by ``anyio.fail_after``), so a
    test waits for a lease to lapse without sleeping for a guessed time.
    """
    await client.config_set("notify-keyspace-events", "Ex")
    pubsub = client.pubsub()
    await pubsub.subscribe("__keyevent@0__:expired")
    expired: set[str] = set()

    async def wait(key: str, timeout: float = 5.0) -> None:
        with anyio.fail_after(timeout):
            while key not in expired:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
                if message is not None:
                    data = message["data"]
                    expired.add(data.decode() if isinstance(data, bytes) else data)

    try:
        yield wait
    finally:
        await pubsub.aclose()
