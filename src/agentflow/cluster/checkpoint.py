"""A :class:`~agentflow.CheckpointStore` on Redis, with fenced writes.

::

    store = RedisCheckpointStore("redis://127.0.0.1:6379/0")
    view = store.fenced(session_id, lease.token)   # a CheckpointStore for that one session
    app_run(..., checkpoint=view)                  # its writes raise FencedOutError once stale

The record is the one every store keeps (dispatched events and the position; tool calls
``claimed -> result_ready -> sent`` with stored replies), laid out as in
:mod:`agentflow.cluster._redis`. Every write is one Lua script (:mod:`agentflow.cluster._scripts`)
that first checks the session's lease: a :meth:`~RedisCheckpointStore.fenced` view's writes
pass only while its token holds the lease; the store's own (unfenced) writes pass only while
nobody holds it. Claims record the owner and fence they were made under
(:meth:`~RedisCheckpointStore.claim_info`), so the worker that takes a session over can tell a
call that a dead worker left running from one of its own, and :meth:`FencedCheckpoint.reclaim`
hands such a call to the new token exactly once.

**Durability.** A write is acknowledged once the Redis primary applied it in memory; what
survives depends on the server's settings, not on this client:

- ``appendonly yes`` + ``appendfsync always``: nothing acknowledged is lost when Redis or its
  machine crashes (each write is fsynced first; slowest).
- ``appendonly yes`` + ``appendfsync everysec`` (the usual choice): a crash of the machine may
  lose the last second of writes; a crash of the Redis process alone loses nothing.
- RDB snapshots only, or no persistence: a restart loses everything since the last snapshot,
  including the fence counters, so tokens start again from 1 (a worker paused across that
  restart could hold a "valid" token); run the cluster with AOF.
- Replication is asynchronous: a failover to a replica may lose the writes the primary had
  not sent yet (``WAIT`` narrows the window, it does not close it). A lost ``claimed`` record
  can let a tool run twice; a lost ``result_ready`` one makes the tool run again; a lost
  ``sent`` one makes a reply be checked against the session's history again (the history
  shows it answered). Tools that must never run twice should use ``ctx.call_id`` as their own
  idempotency key.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from typing import Any, NamedTuple, cast

import redis
from redis.exceptions import ResponseError

from ..core.checkpoint import CallState, CheckpointStore, Position
from ._redis import FencedOutError, Keys, SessionKeys, redacted, sync_client, text
from ._scripts import CLAIM, FORGET, MARK_DISPATCHED, MARK_SENT, RECLAIM, RECORD_RESULT

__all__ = ["CallRecord", "FencedCheckpoint", "RedisCheckpointStore"]


class CallRecord(NamedTuple):
    """A tool call's state and who last wrote it: the fencing token (0 = unfenced) and owner."""

    state: CallState
    fence: int
    owner: str


def _default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class RedisCheckpointStore(CheckpointStore):
    """Checkpoints in Redis, shared by every worker (see the module doc).

    ``url`` is a Redis URL or a ``redis.Redis`` client (one connection pool, safe across
    threads; a given client is not closed by :meth:`close`). ``owner`` names this process in
    call records (default ``host:pid``). ``retention`` (seconds) makes a session's checkpoint
    expire that long after its last write; ``None`` keeps it until :meth:`forget`.
    """

    def __init__(
        self,
        url: str | redis.Redis,
        *,
        prefix: str = "agentflow",
        owner: str | None = None,
        retention: float | None = None,
    ) -> None:
        if retention is not None and not retention > 0:
            raise ValueError(f"retention must be positive or None, got {retention!r}")
        self.keys = Keys(prefix)
        self.owner = owner or _default_owner()
        self._retention = "0" if retention is None else str(max(int(retention * 1000), 1))
        self._own = isinstance(url, str)
        self._where = redacted(url) if isinstance(url, str) else repr(url)
        self.redis = sync_client(url) if isinstance(url, str) else url
        register = self.redis.register_script
        sources = {"MARK_DISPATCHED": MARK_DISPATCHED, "CLAIM": CLAIM, "FORGET": FORGET}
        sources |= {"RECORD_RESULT": RECORD_RESULT, "MARK_SENT": MARK_SENT, "RECLAIM": RECLAIM}
        self._scripts = {name: register(source) for name, source in sources.items()}

    def fenced(self, session_id: str, token: int) -> FencedCheckpoint:
        """A store for ``session_id`` alone whose writes carry the lease's fencing ``token``."""
        if token < 1:
            raise ValueError(f"a fencing token is a positive int, got {token!r}")
        return FencedCheckpoint(self, session_id, token)

    def _write(self, name: str, session_id: str, token: int | None, *args: str) -> int:
        k = self.keys.session(session_id)
        keys = [k.lease, *_SCRIPT_KEYS[name](k)]
        try:
            done = self._scripts[name](keys=keys, args=[token or "", self._retention, *args])
        except ResponseError as exc:
            if str(exc).startswith("FENCED"):
                raise FencedOutError(f"session {session_id!r}: {str(exc)[7:]}") from None
            raise
        return int(done)

    # -- events ---------------------------------------------------------------------------

    def is_dispatched(self, session_id: str, event_id: str) -> bool:
        return bool(self.redis.sismember(self.keys.session(session_id).seen, event_id))

    def mark_dispatched(
        self, session_id: str, event_id: str, processed_at: str | None = None
    ) -> None:
        self._write("MARK_DISPATCHED", session_id, None, event_id, processed_at or "")

    def position(self, session_id: str) -> Position | None:
        raw = self.redis.hgetall(self.keys.session(session_id).pos)
        row = {text(name): text(value) for name, value in raw.items()}
        return Position(row["event_id"], row.get("processed_at")) if row else None

    # -- tool calls -----------------------------------------------------------------------

    def claim(
        self,
        session_id: str,
        call_id: str,
        *,
        owner: str | None = None,
        lease: float | None = None,
    ) -> bool:
        # The record names this store's owner and the fence; the run's owner and lease are
        # not kept (the session's lease is a cluster Lease, see agentflow.cluster.lease).
        return self._write("CLAIM", session_id, None, call_id, self.owner) == 1

    def record_result(self, session_id: str, call_id: str, reply: dict[str, Any]) -> None:
        self._write("RECORD_RESULT", session_id, None, call_id, self.owner, json.dumps(reply))

    def mark_sent(self, session_id: str, call_id: str) -> None:
        self._write("MARK_SENT", session_id, None, call_id, self.owner)

    def claim_info(self, session_id: str, call_id: str) -> CallRecord | None:
        """The call's state with the fencing token and owner of its last write."""
        value = self.redis.hget(self.keys.session(session_id).calls, call_id)
        if value is None:
            return None
        state, fence, owner = text(value).split(" ", 2)
        return CallRecord(cast("CallState", state), int(fence), owner)

    def call_state(self, session_id: str, call_id: str) -> CallState | None:
        record = self.claim_info(session_id, call_id)
        return None if record is None else record.state

    def get_result(self, session_id: str, call_id: str) -> dict[str, Any] | None:
        value = self.redis.hget(self.keys.session(session_id).replies, call_id)
        return None if value is None else json.loads(text(value))

    def pending_results(self, session_id: str) -> dict[str, dict[str, Any]]:
        k = self.keys.session(session_id)
        ids = [text(i) for i in self.redis.zrange(k.ready, 0, -1)]
        if not ids:
            return {}
        replies = self.redis.hmget(k.replies, ids)
        return {i: json.loads(text(r)) for i, r in zip(ids, replies, strict=True) if r is not None}

    def forget(self, session_id: str) -> None:
        self._write("FORGET", session_id, None)

    def close(self) -> None:
        """Close the connection pool when the store made it from a URL."""
        if self._own:
            self.redis.close()

    def __repr__(self) -> str:
        return f"RedisCheckpointStore({self._where!r}, prefix={self.keys.prefix!r})"


_SCRIPT_KEYS: dict[str, Callable[[SessionKeys], tuple[str, ...]]] = {
    "MARK_DISPATCHED": lambda k: (k.seen, k.pos),
    "CLAIM": lambda k: (k.calls,),
    "RECORD_RESULT": lambda k: (k.calls, k.replies, k.ready, k.seq),
    "MARK_SENT": lambda k: (k.calls, k.ready),
    "RECLAIM": lambda k: (k.calls,),
    "FORGET": lambda k: (k.seen, k.pos, k.calls, k.replies, k.ready, k.seq),
}


class FencedCheckpoint(CheckpointStore):
    """One session's checkpoint seen through a lease: writes carry ``token``.

    Reads go straight to the store. Every write raises :class:`FencedOutError` (writing
    nothing) once ``token`` no longer holds the session's lease. Any other session id is a
    programming error (``ValueError``). :meth:`close` leaves the shared store open.
    """

    def __init__(self, store: RedisCheckpointStore, session_id: str, token: int) -> None:
        self.store = store
        self.session_id = session_id
        self.token = token

    def _check(self, session_id: str) -> str:
        if session_id != self.session_id:
            raise ValueError(
                f"this checkpoint is fenced for session {self.session_id!r}, not {session_id!r}"
            )
        return session_id

    def _write(self, name: str, session_id: str, *args: str) -> int:
        return self.store._write(name, self._check(session_id), self.token, *args)

    def is_dispatched(self, session_id: str, event_id: str) -> bool:
        return self.store.is_dispatched(self._check(session_id), event_id)

    def mark_dispatched(
        self, session_id: str, event_id: str, processed_at: str | None = None
    ) -> None:
        self._write("MARK_DISPATCHED", session_id, event_id, processed_at or "")

    def position(self, session_id: str) -> Position | None:
        return self.store.position(self._check(session_id))

    def claim(
        self,
        session_id: str,
        call_id: str,
        *,
        owner: str | None = None,
        lease: float | None = None,
    ) -> bool:
        return self._write("CLAIM", session_id, call_id, self.store.owner) == 1

    def record_result(self, session_id: str, call_id: str, reply: dict[str, Any]) -> None:
        self._write("RECORD_RESULT", session_id, call_id, self.store.owner, json.dumps(reply))

    def mark_sent(self, session_id: str, call_id: str) -> None:
        self._write("MARK_SENT", session_id, call_id, self.store.owner)

    def reclaim(self, call_id: str) -> bool:
        """Take over a call left ``claimed`` under an older token (a dead or stale worker's):
        ``True`` for exactly one caller, which may re-run the tool if it is idempotent."""
        return self._write("RECLAIM", self.session_id, call_id, self.store.owner) == 1

    def claim_info(self, call_id: str) -> CallRecord | None:
        """The call's state with the token and owner of its last write."""
        return self.store.claim_info(self.session_id, call_id)

    def call_state(self, session_id: str, call_id: str) -> CallState | None:
        return self.store.call_state(self._check(session_id), call_id)

    def get_result(self, session_id: str, call_id: str) -> dict[str, Any] | None:
        return self.store.get_result(self._check(session_id), call_id)

    def pending_results(self, session_id: str) -> dict[str, dict[str, Any]]:
        return self.store.pending_results(self._check(session_id))

    def forget(self, session_id: str) -> None:
        self._write("FORGET", session_id)

    def __repr__(self) -> str:
        return f"FencedCheckpoint({self.session_id!r}, token={self.token})"
