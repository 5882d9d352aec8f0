"""Session leases with fencing tokens: one worker per session at a time.

::

    leases = Leases(redis_url, ttl=30.0)
    lease = await leases.acquire("sesn_1", owner="worker-a")  # None: someone holds it
    if lease is not None:
        store = checkpoint.fenced(lease.session_id, lease.token)  # writes carry the token
        ...
        await leases.renew(lease)        # before ttl runs out, while still working
        await leases.release(lease)      # Release.DIRTY: woken meanwhile, read again first

A lease is a Redis key set with ``NX PX ttl``; its fencing token comes from an ``INCR`` in the
same script, so tokens of one session only grow. A lease ends by :meth:`Leases.release` or by
expiring; either way the next :meth:`~Leases.acquire` gets a larger token, and the checkpoint
refuses writes under any token but the live lease's (:class:`FencedOutError`).

Trying to acquire a held lease marks the session *dirty*: the holder learns it at release
time and reads the session once more before letting go, so a wake-up that arrives while a
worker is busy with the session is never lost.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import redis.asyncio as aioredis

from ._redis import Keys, async_client, text
from ._scripts import ACQUIRE, RELEASE, RENEW

__all__ = ["Lease", "Leases", "Release"]


@dataclass(frozen=True)
class Lease:
    """A held lease: the session, the fencing token, the owner and its TTL in seconds."""

    session_id: str
    token: int
    owner: str
    ttl: float

    @property
    def value(self) -> str:
        """The lease key's value while this lease holds it."""
        return f"{self.token} {self.owner}"


class Release(enum.Enum):
    """What :meth:`Leases.release` did."""

    RELEASED = "released"
    """The lease is gone; another worker may take the session."""
    DIRTY = "dirty"
    """The session was woken while leased: the lease is kept (and renewed); read it again."""
    LOST = "lost"
    """The lease was no longer this holder's (it expired, maybe someone took it over)."""


def _ttl_ms(ttl: float) -> int:
    if not ttl > 0:
        raise ValueError(f"ttl must be positive, got {ttl!r}")
    return max(int(ttl * 1000), 1)


class Leases:
    """Acquire, renew and release session leases on Redis (see the module doc).

    ``redis`` is a URL or a ``redis.asyncio.Redis`` client (not closed by :meth:`aclose`
    when given). ``ttl`` (seconds) is how long a lease lives without renewal: a dead
    worker's sessions are taken over after at most that long.
    """

    def __init__(
        self, redis: str | aioredis.Redis, *, ttl: float = 30.0, prefix: str = "agentflow"
    ) -> None:
        self.ttl = ttl
        self._ttl_ms = _ttl_ms(ttl)
        self.keys = Keys(prefix)
        self._own = isinstance(redis, str)
        self.redis = async_client(redis) if isinstance(redis, str) else redis
        self._acquire = self.redis.register_script(ACQUIRE)
        self._renew = self.redis.register_script(RENEW)
        self._release = self.redis.register_script(RELEASE)

    async def acquire(self, session_id: str, owner: str) -> Lease | None:
        """Take the lease of ``session_id`` for ``owner``; ``None`` (and the session marked
        dirty) when someone holds it."""
        k = self.keys.session(session_id)
        token, _held = await self._acquire(
            keys=[k.lease, k.fence, k.dirty], args=[owner, self._ttl_ms]
        )
        if int(token) == 0:
            return None
        return Lease(session_id, int(token), owner, self.ttl)

    async def holder(self, session_id: str) -> tuple[int, str] | None:
        """``(token, owner)`` of the live lease of ``session_id``, or ``None``."""
        value = await self.redis.get(self.keys.session(session_id).lease)
        if value is None:
            return None
        token, _, owner = text(value).partition(" ")
        return int(token), owner

    async def renew(self, lease: Lease) -> bool:
        """Extend ``lease`` by its TTL; ``False`` when it is no longer held by it."""
        k = self.keys.session(lease.session_id)
        done = await self._renew(keys=[k.lease, k.dirty], args=[lease.value, _ttl_ms(lease.ttl)])
        return bool(int(done))

    async def release(self, lease: Lease, *, force: bool = False) -> Release:
        """Let ``lease`` go, unless the session was woken meanwhile (``Release.DIRTY``:
        the lease is kept and renewed; read the session again, then release again).
        ``force=True`` lets go even then (after a failure: the wake-up is retried)."""
        k = self.keys.session(lease.session_id)
        args: list[str | int] = [lease.value, _ttl_ms(lease.ttl), "1" if force else "0"]
        done = int(await self._release(keys=[k.lease, k.dirty], args=args))
        return {1: Release.RELEASED, 0: Release.DIRTY}.get(done, Release.LOST)

    async def aclose(self) -> None:
        """Close the client when it was made from a URL."""
        if self._own:
            await self.redis.aclose()

    def __repr__(self) -> str:
        return f"Leases(ttl={self.ttl!r}, prefix={self.keys.prefix!r})"
