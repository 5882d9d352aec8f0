"""The :class:`Worker`: one member of the consumer group that works sessions under leases.

::

    worker = Worker(app=app, client_factory=ManagedAgentsClient, redis=REDIS_URL)
    await worker.run()                          # or: agentflow worker --app module:app

Given an ``app`` (and its client), the work for a wake-up is to read the session from its
checkpoint position and answer it as ``app.run`` does (:mod:`agentflow.cluster.runner`);
given a ``work(session_id, token)`` callback, it is whatever the callback does.

For each wake-up it:

1. begins it (later wake-ups of the session queue again), then takes the session's lease;
   held by someone else -> the session is marked dirty and a new wake-up is acknowledged
   (the holder reads the session again before it lets go);
2. awaits ``work(session_id, token)`` while a heartbeat renews the lease and restarts the
   entry's idle time every ``lease_ttl / 3`` (the entry was delivered or taken over just
   before, so its idle time starts out short); a lost lease cancels the work;
3. releases the lease: if the session was woken meanwhile, works it again first;
4. acknowledges the entry, only now.

A failure (the work raised) releases the lease and leaves the entry pending: another worker
(or this one) takes it over once it was idle for ``lease_ttl`` (``XAUTOCLAIM``), at most
``max_deliveries`` times before it is moved to the dead-letter stream. A
:class:`FencedOutError` or a lost lease leaves everything to the session's new holder.

With an ``app``, the sweep defaults to waking the sessions the cluster last saw not idle
(:class:`~agentflow.cluster.index.SessionIndex`) and not worked for ``sweep_interval``.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import anyio
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ..core.results import RunResult
from ._heartbeat import fenced_out, work_under_lease
from ._redis import async_client
from .checkpoint import RedisCheckpointStore
from .lease import Lease, Leases, Release
from .queue import Wake, WakeQueue
from .runner import AppWork, SourceFactory, app_work

__all__ = ["SweepFn", "WorkFn", "Worker"]

logger = logging.getLogger("agentflow.cluster")

WorkFn = Callable[[str, int], Awaitable[None]]
"""``async work(session_id, token)``: read the session and answer it, fenced by ``token``."""
SweepFn = Callable[[], Awaitable[Iterable[str]]]
"""``async sweep()``: the ids of sessions to wake up anyway (not idle, maybe lost a webhook)."""


class Worker:
    """Works wake-ups from the queue (see the module doc); ``await worker.run()``.

    The work is ``work(session_id, token)``, or, with ``app=``, reading the session and
    answering it (:class:`~agentflow.cluster.runner.AppWork`) through ``client`` (the app's
    source, e.g. a ``ManagedAgentsClient``) or the one ``client_factory()`` makes inside the
    worker's loop (closed when it stops). ``checkpoint`` defaults to a
    :class:`RedisCheckpointStore` on ``redis`` (a URL is then needed); ``run_options`` go to
    ``app.run``; ``on_result(result)`` sees each read's :class:`~agentflow.RunResult`.

    ``redis`` is a URL or a ``redis.asyncio.Redis`` client. ``name`` is this consumer's name
    in the group (default ``host-pid-random``); a worker restarted under the same name first
    re-reads what it had not acknowledged. At most ``concurrency`` sessions are worked at
    once. ``sweep`` runs every ``sweep_interval`` seconds on one worker of the group at a time;
    the sessions it returns are woken up. :attr:`outcomes` counts what :meth:`handle` did
    (plus ``"failed"``); ``on_outcome(wake, outcome)`` is called after each (metrics, tests).
    """

    def __init__(
        self,
        work: WorkFn | None = None,
        *,
        redis: str | aioredis.Redis,
        app: Any = None,
        client: Any = None,
        client_factory: SourceFactory | None = None,
        checkpoint: RedisCheckpointStore | None = None,
        run_options: Mapping[str, Any] | None = None,
        on_result: Callable[[RunResult], None] | None = None,
        name: str | None = None,
        concurrency: int = 16,
        lease_ttl: float = 30.0,
        prefix: str = "agentflow",
        group: str = "workers",
        block: float = 1.0,
        max_deliveries: int = 5,
        sweep: SweepFn | None = None,
        sweep_interval: float = 60.0,
        on_outcome: Callable[[Wake, str], None] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be positive, got {concurrency!r}")
        if (work is None) == (app is None):
            raise ValueError("give the Worker either work=callback or app=App (with client=)")
        self.name = name or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self._own = isinstance(redis, str)
        self.redis = async_client(redis) if isinstance(redis, str) else redis
        self.app_work: AppWork | None = None
        self._own_store = False
        if app is not None:
            self.app_work, self._own_store = app_work(
                app,
                redis=self.redis,
                url=redis if isinstance(redis, str) else None,
                checkpoint=checkpoint,
                prefix=prefix,
                owner=self.name,
                client=client,
                client_factory=client_factory,
                run_options=run_options,
                on_result=on_result,
            )
            if sweep is None:
                sweep = self._sweep_index
        if work is None:
            assert self.app_work is not None
            work = self.app_work
        self.work: WorkFn = work
        self.queue = WakeQueue(self.redis, prefix=prefix, group=group)
        self.leases = Leases(self.redis, ttl=lease_ttl, prefix=prefix)
        self.concurrency = concurrency
        self.lease_ttl = lease_ttl
        self.block = block
        self.max_deliveries = max_deliveries
        self.sweep = sweep
        self.sweep_interval = sweep_interval
        self.on_outcome = on_outcome
        self.outcomes: Counter[str] = Counter()
        self._slots = anyio.Semaphore(concurrency)
        self._stop = anyio.Event()

    def __repr__(self) -> str:
        return f"<Worker {self.name!r} concurrency={self.concurrency} ttl={self.lease_ttl}>"

    def stop(self) -> None:
        """Stop taking wake-ups; :meth:`run` returns once the sessions in progress are done."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stop.is_set()

    async def run(self) -> None:
        """Take wake-ups until :meth:`stop` (or cancellation); then close the owned client."""
        try:
            await self.queue.ensure_group()
            async with anyio.create_task_group() as work:
                async with anyio.create_task_group() as loops:
                    for wake in await self.queue.receive(self.name, count=10_000, pending=True):
                        await self._slots.acquire()
                        work.start_soon(self._run_one, wake)
                    loops.start_soon(self._receive_loop, work)
                    loops.start_soon(self._reclaim_loop, work)
                    if self.sweep is not None:
                        loops.start_soon(self._sweep_loop)
                    await self._stop.wait()
                    loops.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                if self.app_work is not None:
                    await self.app_work.aclose()
                    if self._own_store:
                        self.app_work.store.close()
                if self._own:
                    await self.redis.aclose()

    async def _sweep_index(self) -> list[str]:
        assert self.app_work is not None
        return await self.app_work.sweep(self.sweep_interval)

    async def _fetch(
        self, work: anyio.abc.TaskGroup, get: Callable[[int], Awaitable[list[Wake]]]
    ) -> int:
        """Take free slots (at least one), fetch that many wake-ups, start them."""
        await self._slots.acquire()
        slots = 1
        while slots < self.concurrency and self._slots.value > 0:
            self._slots.acquire_nowait()
            slots += 1
        wakes: list[Wake] = []
        try:
            wakes = await get(slots)
        finally:
            for wake in wakes:
                work.start_soon(self._run_one, wake)  # each gives its slot back when done
            for _ in range(slots - len(wakes)):
                self._slots.release()
        return len(wakes)

    async def _receive_loop(self, work: anyio.abc.TaskGroup) -> None:
        async def get(n: int) -> list[Wake]:
            return await self.queue.receive(self.name, count=n, block=self.block)

        while True:
            try:
                await self._fetch(work, get)
            except RedisError as exc:  # Redis down or restarting: wait, then try again
                logger.warning("worker %s: reading wake-ups failed: %r", self.name, exc)
                await anyio.sleep(min(self.lease_ttl / 2, 1.0))

    async def _reclaim_loop(self, work: anyio.abc.TaskGroup) -> None:
        while True:
            await anyio.sleep(self.lease_ttl / 2)  # a period, not a wait for an event
            try:
                await self.reclaim_once(work)
            except RedisError as exc:
                logger.warning("worker %s: taking over wake-ups failed: %r", self.name, exc)

    async def reclaim_once(self, work: anyio.abc.TaskGroup) -> int:
        """Take over entries idle longer than the lease TTL and start them; returns how many."""

        async def get(n: int) -> list[Wake]:
            return await self.queue.claim_stale(self.name, min_idle=self.lease_ttl, count=n)

        taken = await self._fetch(work, get)
        if taken:
            logger.info(
                "worker %s: took over %d wake-up(s) left pending longer than the lease TTL",
                self.name, taken,
            )  # fmt: skip
        return taken

    async def _sweep_loop(self) -> None:
        while True:
            await anyio.sleep(self.sweep_interval)  # a period, not a wait for an event
            try:
                await self.sweep_once()
            except Exception:
                logger.exception("worker %s: the sweep failed", self.name)

    async def sweep_once(self) -> int:
        """Run the sweep if no other worker runs it this period; returns how many it queued."""
        if self.sweep is None:
            return 0
        ms = max(int(self.sweep_interval * 1000), 1)
        if not await self.redis.set(self.queue.keys.sweep, self.name, nx=True, px=ms):
            return 0
        queued = 0
        for session_id in await self.sweep():
            status, _ = await self.queue.wake(session_id, "sweep")
            queued += status == "queued"
        return queued

    async def _run_one(self, wake: Wake) -> None:
        try:
            outcome = await self.handle(wake)
        except Exception:
            outcome = "failed"
            logger.exception("worker %s: waking %s failed", self.name, wake.session_id)
        finally:
            self._slots.release()
        self.outcomes[outcome] += 1
        if self.on_outcome is not None:
            self.on_outcome(wake, outcome)

    async def handle(self, wake: Wake) -> str:
        """Work one wake-up (steps 1-4 of the module doc). Returns ``"done"``, ``"busy"``
        (leased elsewhere), ``"lost"`` (lease lost or fenced out) or ``"buried"``; raises
        what the work raised, after releasing the lease."""
        await self.queue.begin(wake)
        lease = await self.leases.acquire(wake.session_id, self.name)
        if lease is None:
            if wake.deliveries == 1:  # a taken-over entry stays pending until it finds it free
                await self.queue.ack(wake)
            return "busy"
        if wake.deliveries > self.max_deliveries:
            await self.queue.bury(wake, f"delivered {wake.deliveries} times")
            await self.leases.release(lease, force=True)
            return "buried"
        try:
            while True:
                if not await self._work_under_lease(wake, lease):
                    logger.warning(
                        "worker %s: lost the lease of %s (token %d): left to its new holder",
                        self.name, wake.session_id, lease.token,
                    )  # fmt: skip
                    return "lost"
                released = await self.leases.release(lease)
                if released is Release.RELEASED:
                    break
                if released is Release.LOST:
                    return "lost"
        except BaseException as exc:  # a failure, or cancelled at shutdown
            fenced = fenced_out(exc) if isinstance(exc, Exception) else None
            if fenced is not None:
                logger.warning("worker %s: fenced out: %s", self.name, fenced)
                return "lost"
            with anyio.CancelScope(shield=True), anyio.move_on_after(self.lease_ttl):
                await self.leases.release(lease, force=True)  # the next worker need not wait
            raise
        await self.queue.ack(wake)
        return "done"

    async def _work_under_lease(self, wake: Wake, lease: Lease) -> bool:
        return await work_under_lease(
            self.work, wake, lease, leases=self.leases, queue=self.queue, name=self.name
        )
