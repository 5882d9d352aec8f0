"""The wake-up queue: one Redis Stream read by a consumer group of workers.

A wake-up says "look at session S" (the reason is a hint: the worker reads the session
itself). Delivery is at least once: a worker :meth:`~WakeQueue.receive` s entries with
``XREADGROUP``, :meth:`~WakeQueue.ack` s each one (``XACK`` + ``XDEL``) only after the work is
done, and an entry left pending by a worker that died is taken over by another with
``XAUTOCLAIM`` (:meth:`~WakeQueue.claim_stale`) once it has been idle longer than the lease
TTL. A live worker keeps its entries from being taken over with :meth:`~WakeQueue.touch`.

:meth:`~WakeQueue.wake` drops a ``webhook_id`` it has seen (redeliveries) and coalesces
wake-ups of a session that is already queued and not yet begun (:meth:`~WakeQueue.begin`
clears that, before the worker reads the session, so nothing that happens later is missed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from ._redis import Keys, async_client, text
from ._scripts import ACK, ENQUEUE, TOUCH

__all__ = ["EnqueueStatus", "Wake", "WakeQueue"]

EnqueueStatus = Literal["queued", "coalesced", "duplicate"]


@dataclass(frozen=True)
class Wake:
    """One wake-up entry as delivered to ``consumer``; ``deliveries`` counts how many times
    it was handed out (1 for a new entry; more once taken over or re-read)."""

    id: str
    session_id: str
    reason: str
    webhook_id: str
    consumer: str
    deliveries: int = 1


def _ms(seconds: float) -> int:
    return max(int(seconds * 1000), 1)


class WakeQueue:
    """Wake-ups on the stream ``P:{wake}:stream``, consumer group ``group`` (see the module doc).

    ``redis`` is a URL or a ``redis.asyncio.Redis`` client (kept open by :meth:`aclose` when
    given). ``dedupe_ttl`` (seconds) is how long a ``webhook_id`` is remembered: cover the
    sender's redelivery window. ``coalesce`` (seconds, ``0`` = off) bounds how long a queued
    wake-up keeps absorbing later ones for its session if no worker begins it.
    """

    def __init__(
        self,
        redis: str | aioredis.Redis,
        *,
        prefix: str = "agentflow",
        group: str = "workers",
        dedupe_ttl: float = 86_400.0,
        coalesce: float = 60.0,
    ) -> None:
        self.keys = Keys(prefix)
        self.group = group
        self._dedupe_ms = _ms(dedupe_ttl)
        self._coalesce_ms = 0 if coalesce <= 0 else _ms(coalesce)
        self._own = isinstance(redis, str)
        self.redis = async_client(redis) if isinstance(redis, str) else redis
        self._enqueue = self.redis.register_script(ENQUEUE)
        self._ack = self.redis.register_script(ACK)
        self._touch = self.redis.register_script(TOUCH)
        self._ready = False

    async def ensure_group(self) -> None:
        """Create the stream and its consumer group if missing (from the stream's start, so
        wake-ups queued before any worker existed are delivered)."""
        if self._ready:
            return
        try:
            await self.redis.xgroup_create(self.keys.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._ready = True

    async def _grouped(self, command: Callable[[], Awaitable[Any]]) -> Any:
        """Run a group command; if the group is gone (Redis restarted without persistence),
        make it again and retry once."""
        await self.ensure_group()
        try:
            return await command()
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
        self._ready = False
        await self.ensure_group()
        return await command()

    async def wake(
        self, session_id: str, reason: str, *, webhook_id: str | None = None
    ) -> tuple[EnqueueStatus, str | None]:
        """Queue a wake-up: ``("queued", entry_id)``, ``("coalesced", None)`` (one is already
        queued) or ``("duplicate", None)`` (``webhook_id`` was seen before)."""
        if not session_id:
            raise ValueError("session_id must be a non-empty string")
        keys = [self.keys.stream, self.keys.queued(session_id), self.keys.hook(webhook_id or "")]
        args: list[str | int] = [
            session_id,
            reason,
            webhook_id or "",
            self._dedupe_ms,
            self._coalesce_ms,
        ]
        reply = await self._enqueue(keys=keys, args=args)
        status: EnqueueStatus = text(reply[0])  # type: ignore[assignment]
        return status, text(reply[1]) if len(reply) > 1 else None

    def _wakes(
        self, consumer: str, entries: Any, counts: dict[str, int] | None = None
    ) -> list[Wake]:
        out = []
        for entry_id, fields in entries:
            if not fields:  # deleted from the stream while pending: nothing to do
                continue
            f = {text(k): text(v) for k, v in fields.items()}
            wid = text(entry_id)
            n = 1 if counts is None else counts.get(wid, 2)
            out.append(Wake(wid, f["session"], f["reason"], f.get("webhook_id", ""), consumer, n))
        return out

    async def _counts(self, consumer: str, count: int) -> dict[str, int]:
        rows = await self.redis.xpending_range(
            self.keys.stream, self.group, "-", "+", count, consumername=consumer
        )
        return {text(row["message_id"]): int(row["times_delivered"]) for row in rows}

    async def receive(
        self, consumer: str, *, count: int = 1, block: float | None = 1.0, pending: bool = False
    ) -> list[Wake]:
        """Up to ``count`` new entries for ``consumer``, waiting at most ``block`` seconds
        (``None``: do not wait). ``pending=True`` re-reads the entries this consumer already
        received and has not acknowledged (after a restart under the same name)."""
        streams: dict[Any, Any] = {self.keys.stream: "0" if pending else ">"}
        wait = None if block is None or pending else _ms(block)
        reply: Any = await self._grouped(
            lambda: self.redis.xreadgroup(self.group, consumer, streams, count, wait)
        )
        counts = await self._counts(consumer, count) if pending and reply else None
        return [w for _, entries in reply or [] for w in self._wakes(consumer, entries, counts)]

    async def begin(self, wake: Wake) -> None:
        """Mark ``wake`` begun: later wake-ups of its session queue again (call before reading
        the session)."""
        await self.redis.delete(self.keys.queued(wake.session_id))

    async def ack(self, wake: Wake) -> bool:
        """Acknowledge and delete ``wake``; ``False`` if it is no longer pending for its
        consumer (another worker took it over)."""
        args = [self.group, wake.consumer, wake.id]
        return bool(int(await self._ack(keys=[self.keys.stream], args=args)))

    async def touch(self, wake: Wake) -> bool:
        """Restart ``wake``'s idle time if it is still its consumer's (a heartbeat)."""
        args = [self.group, wake.consumer, wake.id]
        return bool(int(await self._touch(keys=[self.keys.stream], args=args)))

    async def claim_stale(self, consumer: str, *, min_idle: float, count: int = 10) -> list[Wake]:
        """Take over up to ``count`` entries pending longer than ``min_idle`` seconds."""
        reply = await self._grouped(
            lambda: self.redis.xautoclaim(
                self.keys.stream, self.group, consumer, _ms(min_idle), "0-0", count=count
            )
        )
        if not reply[1]:
            return []
        # A consumer's pending list is small (bounded by its concurrency): read it whole.
        return self._wakes(consumer, reply[1], await self._counts(consumer, 10_000))

    async def bury(self, wake: Wake, why: str) -> None:
        """Give up on ``wake``: copy it to the dead-letter stream, then acknowledge it."""
        fields: dict[Any, Any] = {"session": wake.session_id, "reason": wake.reason}
        fields |= {"webhook_id": wake.webhook_id, "why": why}
        await self.redis.xadd(self.keys.dead, fields)
        await self.ack(wake)

    async def pending(self) -> int:
        """How many entries are delivered and not yet acknowledged."""
        await self.ensure_group()
        summary = await self.redis.xpending(self.keys.stream, self.group)
        return int(summary["pending"])

    async def aclose(self) -> None:
        """Close the client when it was made from a URL."""
        if self._own:
            await self.redis.aclose()

    def __repr__(self) -> str:
        return f"WakeQueue(stream={self.keys.stream!r}, group={self.group!r})"
