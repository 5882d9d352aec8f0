"""Connection pools for long-lived streams, kept apart from the pool that sends requests.

An open SSE response holds its connection for as long as the stream lives. In one
``httpx`` pool, every request and every response close walks the whole list of connections
(``httpcore`` 1.x), and once the pool holds more connections than its keep-alive limit it
closes each connection a request returns instead of keeping it: with thousands of streams
in the request pool, every history read pays a walk over thousands of connections plus a
new TCP (and TLS) handshake. So streams get pools of their own, filled ``per_pool`` at a
time: the request pool stays small and keeps its connections alive, and opening a stream
walks at most a shard's connections. Shards are created on first use and share one TLS
context with the request pool (building one loads the CA bundle: tens of milliseconds and
memory per context).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable

import httpx

__all__ = ["PER_POOL", "StreamPools"]

PER_POOL = 64
"""Streams opened in one shard before the next shard is used."""

MAX_POOLS = 256
"""Shards at most: opens beyond ``PER_POOL * MAX_POOLS`` go round the shards again."""


class StreamPools:
    """The shards streams are opened in (see the module docstring).

    ``make(verify)`` builds one shard client. Opens fill shard 0 with ``per_pool`` streams,
    then shard 1, and so on round the ``max_pools`` shards: reconnects and new streams spread
    over them evenly without tracking which streams are still open.
    """

    __slots__ = ("_clients", "_make", "_max", "_opened", "_per", "_ssl")

    def __init__(
        self,
        make: Callable[[ssl.SSLContext], httpx.AsyncClient],
        *,
        per_pool: int = PER_POOL,
        max_pools: int = MAX_POOLS,
    ) -> None:
        if per_pool < 1 or max_pools < 1:
            raise ValueError("per_pool and max_pools must be >= 1")
        self._make = make
        self._per = per_pool
        self._max = max_pools
        self._clients: list[httpx.AsyncClient] = []
        self._opened = 0
        self._ssl: ssl.SSLContext | None = None

    def __len__(self) -> int:
        return len(self._clients)

    def next(self) -> httpx.AsyncClient:
        """The client the next stream is opened with."""
        index = (self._opened // self._per) % self._max
        self._opened += 1
        clients = self._clients
        if index < len(clients):
            return clients[index]
        client = self._make(self.tls())
        clients.append(client)
        return client

    def tls(self) -> ssl.SSLContext:
        """The TLS context every shard (and the owner's request client) shares."""
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context()
        return self._ssl

    async def aclose(self) -> None:
        """Close every shard (their streams end)."""
        clients, self._clients = self._clients, []
        for client in clients:
            await client.aclose()
