"""Polling: the stream's event sequence, read from history pages instead of a connection."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..core.checkpoint import CheckpointStore
from ..core.exceptions import AgentflowError, TransportError
from ..wire.backoff import Backoff
from ..wire.errors import is_transient
from ..wire.http import HTTPCore, quote_id
from .delivery import Delivering, Delivery, EventsAPI, Tracker
from .events import ManagedAgentsEvent as Event

__all__ = ["EventPoller"]

logger = logging.getLogger("agentflow.transport")


class EventPoller(Delivering):
    """The events of a session, read by polling ``events.list`` every ``interval`` seconds.

    For programs that cannot hold a connection open. It yields the same sequence a stream
    would (previews aside, which are never stored): every stored event once, in history
    order, resuming from a cursor on ``processed_at`` and deduplicating the overlap by id.
    The cursor trails the newest events by a lookback (the oldest ``processed_at`` of the
    last :data:`~agentflow.managed_agents.delivery.LOOKBACK` events), so an event that
    reaches history after later ones, with its earlier ``processed_at``, is still found.
    The end conditions, ``checkpoint`` and acknowledgement rules are those of
    :class:`~agentflow.transport.EventStream`: it stops after ``session.status_terminated``,
    ``session.deleted`` or an event for which ``until(event)`` is true. A failed poll is
    retried with ``backoff`` up to ``max_attempts`` times in a row, then raises
    :class:`~agentflow.TransportError`; 401/403/404 raise at once. Usable with ``async for``
    directly or inside ``async with`` (which acknowledges the last event on a clean exit).
    """

    def __init__(
        self,
        core: HTTPCore,
        events: EventsAPI,
        session_id: str,
        *,
        interval: float,
        until: Callable[[Event], bool] | None,
        checkpoint: CheckpointStore | None,
        replay: bool,
        auto_ack: bool,
        max_attempts: int,
        backoff: Backoff | None,
        dedupe_window: int,
    ) -> None:
        if interval < 0:
            raise ValueError(f"interval must be >= 0, got {interval!r}")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts!r}")
        quote_id(session_id)
        self.session_id = session_id
        self._core = core
        self._events = events
        self._interval = interval
        self._replay = replay
        self._max_attempts = max_attempts
        self._backoff = backoff or core.backoff
        self._delivery = Delivery(
            Tracker(session_id, checkpoint, dedupe_window), until=until, auto_ack=auto_ack
        )
        self._started = False
        self._closed = False
        self._polls = 0
        self._status_checked = False

    async def __aenter__(self) -> EventPoller:
        # Like a stream's connect: without replay, "now" is fixed here, before the caller
        # sends anything, so the events its sending causes are not skipped.
        await self._start()
        return self

    async def _start(self) -> None:
        if not self._started:
            self._started = True
            if not self._replay:
                await self._delivery.tracker.start_at_now(self._events)

    async def aclose(self) -> None:
        """Stop: iteration ends."""
        self._closed = True

    def __aiter__(self) -> EventPoller:
        return self

    async def __anext__(self) -> Event:
        delivery = self._delivery
        delivery.auto_ack_pending()
        if delivery.done or self._closed:
            raise StopAsyncIteration
        queue = delivery.queue
        attempt = 0
        while not queue and not delivery.ending:
            await self._start()
            if self._polls and attempt == 0:  # not before the first poll
                await self._core.sleep(self._interval)
            try:
                found = await delivery.tracker.catch_up(self._events, queue.append)
                if not found and not self._status_checked:
                    # quiet from the start: a session whose last event was dispatched by an
                    # earlier run may be terminated, and then nothing will ever come
                    self._status_checked = True
                    if await delivery.tracker.terminated(self._events):
                        await delivery.tracker.catch_up(self._events, queue.append)
                        delivery.ending = True
            except AgentflowError as exc:
                if not is_transient(exc) or attempt + 1 >= self._max_attempts:
                    if is_transient(exc):
                        raise TransportError(
                            f"polling session {self.session_id} failed {attempt + 1} times in "
                            f"a row; last error: {exc}"
                        ) from exc
                    raise
                delay = self._backoff.delay(attempt, self._core.random, exc_retry_after(exc))
                attempt += 1
                logger.debug(
                    "session %s: poll failed (%s); retry %d in %.3fs",
                    self.session_id, type(exc).__name__, attempt, delay,
                )  # fmt: skip
                await self._core.sleep(delay)
                continue
            attempt = 0
            self._polls += 1
        if not queue:
            raise StopAsyncIteration
        return delivery.deliver(queue.popleft())

    def __repr__(self) -> str:
        return f"EventPoller(session_id={self.session_id!r}, interval={self._interval!r})"


def exc_retry_after(exc: BaseException) -> float | None:
    """The server's retry hint carried by an :class:`~agentflow.APIError`, if any."""
    value = getattr(exc, "retry_after", None)
    return value if isinstance(value, (int, float)) else None
