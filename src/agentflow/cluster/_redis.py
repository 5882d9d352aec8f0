"""The Redis plumbing shared by ``agentflow.cluster``: key layout, clients, errors.

Key layout (``P`` is the ``prefix``, ``agentflow`` by default)::

    P:{SID}:lease      string  "TOKEN OWNER", PX = lease TTL      one holder per session
    P:{SID}:fence      int     INCR on every acquire; never deleted (tokens only grow)
    P:{SID}:dirty      string  "1": woken while leased; expires with the lease
    P:{SID}:seen       set     dispatched event ids
    P:{SID}:pos        hash    event_id, processed_at: the session's position
    P:{SID}:calls      hash    call id -> "STATE FENCE OWNER" (claimed|result_ready|sent)
    P:{SID}:replies    hash    call id -> reply JSON (kept after it is sent)
    P:{SID}:ready      zset    call ids recorded but not sent, scored in recording order
    P:{SID}:seq        int     the recording-order counter of ``ready``
    P:{wake}:stream    stream  wake-ups: session, reason, webhook_id (consumer group ``workers``)
    P:{wake}:queued:SID  string  a wake-up for SID is queued and not yet begun (coalescing)
    P:{wake}:hook:ID   string  webhook-id already accepted (redelivery filter)
    P:{wake}:dead      stream  wake-ups given up after too many deliveries
    P:{wake}:sweep     string  who runs the periodic sweep now (SET NX PX)
    P:{wake}:active    zset    sessions last seen not idle, scored by when (the sweep's list)

The braces are Redis Cluster hash tags: every key of one session lives in one slot, and so do
the queue's keys, so each Lua script touches a single slot.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

import redis
import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ..core.exceptions import AgentflowError

__all__ = [
    "FencedOutError",
    "Keys",
    "SessionKeys",
    "async_client",
    "redacted",
    "sync_client",
    "text",
]


class FencedOutError(AgentflowError):
    """A write carried a fencing token that no longer holds the session's lease.

    The writer lost the lease (it expired, or another worker took the session over); nothing
    was written. Stop working on the session: its new holder redoes what is left.
    """


class SessionKeys(NamedTuple):
    """The keys of one session (see the module doc)."""

    lease: str
    fence: str
    dirty: str
    seen: str
    pos: str
    calls: str
    replies: str
    ready: str
    seq: str


class Keys:
    """Builds every key name from one ``prefix``."""

    def __init__(self, prefix: str = "agentflow") -> None:
        if not prefix or "{" in prefix or "}" in prefix:
            raise ValueError(f"prefix must be non-empty and brace-free, got {prefix!r}")
        self.prefix = prefix
        q = f"{prefix}:{{wake}}"
        self.stream = f"{q}:stream"
        self.dead = f"{q}:dead"
        self.sweep = f"{q}:sweep"
        self.active = f"{q}:active"
        self._queued = f"{q}:queued:"
        self._hook = f"{q}:hook:"

    def session(self, session_id: str) -> SessionKeys:
        """Every key of ``session_id``."""
        if not session_id:
            raise ValueError("session_id must be a non-empty string")
        base = f"{self.prefix}:{{{session_id}}}:"
        return SessionKeys(*(base + name for name in SessionKeys._fields))

    def queued(self, session_id: str) -> str:
        """The coalescing flag of ``session_id``'s queued wake-up."""
        return self._queued + session_id

    def hook(self, webhook_id: str) -> str:
        """The redelivery marker of one ``webhook-id``."""
        return self._hook + webhook_id


# No automatic retries: a script whose reply was lost may have run (a claim, an acquire), and
# running it again would answer as if someone else had. Callers see the ConnectionError.
def sync_client(url: str) -> redis.Redis:
    """A client for ``url`` (one connection pool; decoded replies; no blind retries)."""
    return redis.Redis.from_url(url, decode_responses=True, retry=Retry(NoBackoff(), 0))


def async_client(url: str) -> aioredis.Redis:
    """An asyncio client for ``url`` (decoded replies; no blind retries)."""
    return aioredis.Redis.from_url(url, decode_responses=True, retry=Retry(NoBackoff(), 0))


def text(value: Any) -> str:
    """A reply value as ``str`` (clients may or may not decode responses)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def redacted(url: str) -> str:
    """``url`` without its password, for reprs and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = (f"{parts.username}:***@" if parts.username else ":***@") + host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))
