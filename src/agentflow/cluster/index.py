"""The index of sessions that are not idle: what the periodic sweep wakes up.

A webhook can be lost (the sender gave up, the receiver was down past its retries). A session
whose next webhook is lost would wait forever, so the cluster remembers which sessions it last
saw *not idle* (a pause answered, an agent still working) in one sorted set, scored by Redis's
own clock:

- a worker :meth:`~SessionIndex.note` s a session when its read ends with the session not
  idle;
- it :meth:`~SessionIndex.settle` s the session when its read ends with the session idle (the
  turn ended, or the session is over): only if nobody noted it since the read began, so a
  webhook that says a new turn started is never undone by an older read;
- the webhook receiver notes a session on the webhooks that say it started working;
- the sweep wakes every session noted longer ago than its period (:meth:`~SessionIndex.stale`).
"""

from __future__ import annotations

import redis.asyncio as aioredis

from ._redis import Keys, text
from ._scripts import NOTE, SETTLE, STALE

__all__ = ["SessionIndex"]


class SessionIndex:
    """Sessions last seen not idle, in ``P:{wake}:active`` (see the module doc).

    ``redis`` is a ``redis.asyncio.Redis`` client (never closed here).
    """

    def __init__(self, redis: aioredis.Redis, *, prefix: str = "agentflow") -> None:
        self.keys = Keys(prefix)
        self.redis = redis
        self._note = redis.register_script(NOTE)
        self._settle = redis.register_script(SETTLE)
        self._stale = redis.register_script(STALE)

    async def note(self, session_id: str) -> int:
        """Mark ``session_id`` not idle as of now; returns the score (Redis time, ms)."""
        return int(await self._note(keys=[self.keys.active], args=[session_id]))

    async def settle(self, session_id: str, elapsed: float) -> bool:
        """Drop ``session_id`` (it is idle) unless it was noted during the last ``elapsed``
        seconds (since the read that found it idle began)."""
        ms = max(int(elapsed * 1000) + 1, 1)
        return bool(int(await self._settle(keys=[self.keys.active], args=[session_id, ms])))

    async def stale(self, older_than: float, *, count: int = 1000) -> list[str]:
        """Up to ``count`` sessions noted more than ``older_than`` seconds ago, oldest first."""
        ms = max(int(older_than * 1000), 0)
        return [text(s) for s in await self._stale(keys=[self.keys.active], args=[ms, count])]

    async def sessions(self) -> list[str]:
        """Every session in the index (for inspection and tests)."""
        return [text(s) for s in await self.redis.zrange(self.keys.active, 0, -1)]

    def __repr__(self) -> str:
        return f"SessionIndex({self.keys.active!r})"
