"""The work a :class:`~agentflow.cluster.Worker` does for an app: read one session, answer it.

For a wake-up of session ``S`` leased with token ``T``, :class:`AppWork`:

1. runs ``app.run(source, S, checkpoint=<S fenced by T>, replay=True, until="caught_up",
   fencing_token=T)``: the dialect's own channel reads the session from its checkpoint
   position (or its start), every event goes to the app's handlers once, every pause is
   answered as ``app.run`` answers it, and the run stops at the session's latest status
   instead of waiting for the agent (the next webhook brings the worker back);
2. settles ``S`` in the :class:`~agentflow.cluster.index.SessionIndex` when the read ended
   with the session idle (its turn ended, or the session is over), else notes it there: if
   nothing else wakes it, the sweep will.

**Calls a dead worker left running.** The checkpoint view is a :class:`TakeoverCheckpoint`:
a call found ``claimed`` under an older token was caught mid-run by a worker that lost the
session (killed, or paused past its lease), so the view takes the record over
(``reclaim``) the first time the router looks at it. The router then runs the tool again if
it is ``idempotent=True``, and answers any other tool "interrupted" instead of running it
twice. A session that no longer exists (404) is dropped from the index; its wake-up is done.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import redis.asyncio as aioredis

from ..core.checkpoint import CallState
from ..core.exceptions import NotFoundError
from ..core.results import RunResult
from .checkpoint import CallRecord, FencedCheckpoint, RedisCheckpointStore
from .index import SessionIndex

__all__ = ["AppWork", "SourceFactory", "TakeoverCheckpoint", "is_idle"]

logger = logging.getLogger("agentflow.cluster")

SourceFactory = Callable[[], Any]
"""Makes the source (``ManagedAgentsClient(...)``, ...) once per worker, inside its event
loop; may be async. A source it made is closed (``aclose``) when the worker stops."""

_NOT_IDLE = frozenset({"caught_up", "stream_ended", "stopped", "until", "error"})


def is_idle(result: RunResult) -> bool:
    """Whether a ``caught_up`` read left the session idle: its turn ended, or it is over."""
    return result.stop_reason not in _NOT_IDLE


class TakeoverCheckpoint(FencedCheckpoint):
    """A fenced view of one session that takes over calls an older token left ``claimed``.

    :attr:`taken_over` maps each such call id to the record it had (the old token and owner).
    """

    def __init__(self, store: RedisCheckpointStore, session_id: str, token: int) -> None:
        super().__init__(store, session_id, token)
        self.taken_over: dict[str, CallRecord] = {}

    def call_state(self, session_id: str, call_id: str) -> CallState | None:
        record = self.store.claim_info(self._check(session_id), call_id)
        if record is None:
            return None
        if record.state == "claimed" and record.fence < self.token and self.reclaim(call_id):
            self.taken_over[call_id] = record
            logger.warning(
                "session %s: call %s was left running by %s (token %d); taken over by token %d",
                session_id, call_id, record.owner, record.fence, self.token,
            )  # fmt: skip
        return record.state


class AppWork:
    """``work(session_id, token)`` for an app (see the module doc).

    ``source`` is the app's source (a ``ManagedAgentsClient``, ...) shared by every session,
    or ``source_factory`` makes it on first use. ``run_options`` go to ``app.run`` (stream
    options such as ``stale_after``, or ``max_concurrency``). ``on_result(result)`` is called
    after each read (metrics, tests); :attr:`results` counts the stop reasons.
    """

    def __init__(
        self,
        app: Any,
        *,
        store: RedisCheckpointStore,
        index: SessionIndex,
        source: Any = None,
        source_factory: SourceFactory | None = None,
        run_options: Mapping[str, Any] | None = None,
        on_result: Callable[[RunResult], None] | None = None,
    ) -> None:
        if (source is None) == (source_factory is None):
            raise ValueError("give the app's client (client=...) or client_factory=, not both")
        if not callable(getattr(app, "run", None)):
            raise TypeError(f"app must be an agentflow App, got {type(app).__name__}")
        self.app = app
        self.store = store
        self.index = index
        self.run_options = dict(run_options or {})
        self.on_result = on_result
        self.results: Counter[str] = Counter()
        self._source = source
        self._factory = source_factory
        self._made = False
        self._lock = anyio.Lock()

    async def source(self) -> Any:
        """The source, made by the factory on first use."""
        if self._source is None:
            async with self._lock:
                if self._source is None and self._factory is not None:
                    made = self._factory()
                    self._source = await made if inspect.isawaitable(made) else made
                    self._made = True
        return self._source

    async def __call__(self, session_id: str, token: int) -> None:
        source = await self.source()
        began = time.monotonic()
        view = TakeoverCheckpoint(self.store, session_id, token)
        try:
            result = await self.app.run(
                source,
                session_id,
                checkpoint=view,
                replay=True,
                until="caught_up",
                fencing_token=token,
                **self.run_options,
            )
        except NotFoundError:
            logger.warning("session %s: not found (deleted?); dropped from the index", session_id)
            await self.index.settle(session_id, time.monotonic() - began)
            return
        self.results[result.stop_reason] += 1
        if is_idle(result):
            await self.index.settle(session_id, time.monotonic() - began)
        else:
            await self.index.note(session_id)
        logger.debug(
            "session %s (token %d): %s after %d events, %d calls",
            session_id, token, result.stop_reason, result.events, len(result.tool_calls),
        )  # fmt: skip
        if self.on_result is not None:
            self.on_result(result)

    async def sweep(self, older_than: float) -> list[str]:
        """The sessions to wake anyway: noted not idle more than ``older_than`` seconds ago."""
        return await self.index.stale(older_than)

    async def aclose(self) -> None:
        """Close the source if the factory made it."""
        if not self._made:
            return
        source, self._source, self._made = self._source, None, False
        closer = getattr(source, "aclose", None)
        if closer is not None:
            await closer()


def app_work(
    app: Any,
    *,
    redis: aioredis.Redis,
    url: str | None,
    checkpoint: RedisCheckpointStore | None,
    prefix: str,
    owner: str,
    client: Any,
    client_factory: SourceFactory | None,
    run_options: Mapping[str, Any] | None,
    on_result: Callable[[RunResult], None] | None,
) -> tuple[AppWork, bool]:
    """The :class:`AppWork` a worker builds for ``app``, and whether it owns the store."""
    if checkpoint is None:
        if url is None:
            raise ValueError(
                "a Worker given a Redis client and an app also needs "
                "checkpoint=RedisCheckpointStore(...)"
            )
        checkpoint = RedisCheckpointStore(url, prefix=prefix, owner=owner)
        owned = True
    else:
        owned = False
    index = SessionIndex(redis, prefix=prefix)
    work = AppWork(
        app,
        store=checkpoint,
        index=index,
        source=client,
        source_factory=client_factory,
        run_options=run_options,
        on_result=on_result,
    )
    return work, owned
