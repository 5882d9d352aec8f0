"""Helpers for the cluster tests: wait on Redis keys as events, read streams, follow child
processes."""

from __future__ import annotations

import contextlib
import signal
import subprocess
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
        await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated


@contextlib.asynccontextmanager
async def keyspace_watch(
    client: aioredis.Redis, *keys: str
) -> AsyncIterator[Callable[[Callable[[], Awaitable[bool]], float], Awaitable[None]]]:
    """Subscribe to Redis's keyspace notifications of ``keys``; yields ``until(check, timeout)``.

    ``until`` returns once the async ``check()`` holds, checking again after every change
    Redis reports on those keys (bounded by ``anyio.fail_after``): a wait on the change
    itself, not a guessed sleep.
    """
    await client.config_set("notify-keyspace-events", "KA")
    pubsub = client.pubsub()
    await pubsub.subscribe(*(f"__keyspace@0__:{key}" for key in keys))

    async def until(check: Callable[[], Awaitable[bool]], timeout: float) -> None:
        with anyio.fail_after(timeout):
            while not await check():
                await pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)

    try:
        yield until
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated


async def stream_fields(client: aioredis.Redis, key: str) -> list[dict[str, str]]:
    """The fields of every entry of the stream ``key``, in order, read by a client that
    decodes replies (``decode_responses=True``: every field name and value is ``str``)."""
    entries = await client.xrange(key)
    assert entries is not None, f"XRANGE {key} gave no reply"
    read = []
    for _, fields in entries:
        assert fields is not None, f"an entry of {key} has no fields"
        decoded = {k: v for k, v in fields.items() if isinstance(k, str) and isinstance(v, str)}
        assert len(decoded) == len(fields), "the client must decode replies"
        read.append(decoded)
    return read


class Process:
    """A child process whose stderr lines are collected; ``wait_for(text)`` waits for one."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self.out: list[str] = []
        self._changed = anyio.Event()

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def follow(self) -> None:
        """Collect stderr lines until the process closes it (run as a task)."""
        assert self.proc.stderr is not None
        readline = self.proc.stderr.readline
        while line := await anyio.to_thread.run_sync(readline, abandon_on_cancel=True):
            self.lines.append(line.rstrip("\n"))
            self._changed.set()
            self._changed = anyio.Event()

    async def first_line(self) -> str:
        """The first stdout line (a command announcing where it listens)."""
        assert self.proc.stdout is not None
        return await anyio.to_thread.run_sync(self.proc.stdout.readline, abandon_on_cancel=True)

    async def wait_for(self, text: str, timeout: float) -> str:
        """The first stderr line containing ``text``, waiting for it at most ``timeout``."""
        with anyio.fail_after(timeout):
            while True:
                found = next((line for line in self.lines if text in line), None)
                if found is not None:
                    return found
                await self._changed.wait()

    def stop(self) -> None:
        """SIGCONT (in case it is stopped), then SIGKILL, and reap it."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
        self.proc.wait(timeout=10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
