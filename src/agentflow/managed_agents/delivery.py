"""Exactly-once, in-order delivery shared by the stream and the poller.

:class:`Tracker` decides whether a stored event is new (not seen on this connection or a
previous one, not dispatched according to the checkpoint) and keeps the history cursor.
Reconciliation lists history with ``created_at[gte]=<cursor>`` (the API compares it with
``processed_at``), so only the tail is re-read and the window of remembered ids can stay
small.

The cursor is not the ``processed_at`` of the newest event seen: a server can make an event
visible after later ones (a live stream that skipped it, a log write that landed late), and
a cursor at the newest event would never look behind it again. Only events read from
history move it (live ones do not: see :mod:`~agentflow.managed_agents.confirm`), and it
trails them by a lookback: the oldest ``processed_at`` among the last :data:`LOOKBACK`
events confirmed (the stream uses a lookback of one, since a late event reaches it live).
Every read goes that far back, the ids remembered drop what was already delivered, and a
late event is found as long as it is no older than that.

:class:`Delivery` is the consumer-facing half: a queue of accepted events, acknowledgement
(what the checkpoint records as dispatched) and the end conditions; :class:`Delivering` gives
the stream and the poller their shared public members on top of it.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Callable, Collection, Container, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from ..core.checkpoint import CheckpointStore
from .events import ManagedAgentsEvent as Event
from .recent_ids import RecentIds

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


class EventsAPI(Protocol):
    """The history calls the stream and the poller make (``client.events`` has them)."""

    def list(
        self,
        session_id: str,
        *,
        limit: int | None = ...,
        created_at_gte: Any = ...,
        skip: Container[str] | None = ...,
    ) -> AsyncIterator[Event]:
        """Every stored event from ``created_at_gte`` on, paged (those in ``skip`` left out)."""
        ...

    async def page(self, session_id: str, **filters: Any) -> tuple[Sequence[Event], str | None]:
        """One page of history."""
        ...

    async def status(self, session_id: str) -> str | None:
        """The session's status."""
        ...


Events = EventsAPI

__all__ = ["TERMINAL_TYPES", "Delivering", "Delivery", "EventsAPI", "RecentIds", "Tracker"]

logger = logging.getLogger("agentflow.transport")

TERMINAL_TYPES = frozenset({"session.status_terminated", "session.deleted"})
"""After these nothing more comes: the stream or poller ends once it has yielded one."""

RECONCILE_PAGE = 1000

LOOKBACK = 32
"""How many of the latest accepted events the history cursor trails behind (at most the
dedupe window): each read re-lists up to this many known events, so that one that reached
history after them is still found."""


_UNUSED: set[str] = set()  # stands for a set not made yet: never added to


class Tracker:
    """Deduplication and history cursor for one session's stored events."""

    __slots__ = (
        "_lookback", "checkpoint", "newest", "note", "recent", "seen", "session_id", "start",
    )  # fmt: skip

    def __init__(
        self,
        session_id: str,
        checkpoint: CheckpointStore | None,
        window: int,
        lookback: int = LOOKBACK,
    ) -> None:
        self.session_id = session_id
        self.note: Callable[[Event], object] | None = None
        """Shown every event history returns, in history order, while set (the stream sets
        it while it starts, to remember the newest status event)."""
        self.checkpoint = checkpoint
        self.seen = RecentIds(window)
        self.start: str | None = None  # where history is read from before any event came
        # the processed_at of the last accepted events: the cursor is the oldest of them
        self._lookback = max(1, min(lookback, window))
        self.recent: deque[str] | None = None  # made by the first confirmed event (memory)
        self.newest: str | None = None
        """The latest ``processed_at`` accepted (compared as text: one server's stamps share
        one format), to notice a live event that arrives behind it."""
        if checkpoint is not None:
            position = checkpoint.position(session_id)
            if position is not None:
                self.seen.add(position.event_id)
                self.start = position.processed_at

    @property
    def cursor(self) -> str | None:
        """Where the next history read starts: the oldest ``processed_at`` of the last
        :data:`LOOKBACK` accepted events (``start`` before any)."""
        recent = self.recent
        if not recent:
            return self.start
        return min(recent, key=instant)

    def accept(self, event: Event, *, confirmed: bool = True) -> bool:
        """Whether a stored event is new; if so it is remembered.

        Only a ``confirmed`` event (read from history, which has no gaps) moves the cursor;
        one taken from the live stream as it came does not, so the next history read still
        looks behind it for anything the stream skipped.
        """
        event_id = event.id
        if event_id is None:
            return True
        if not self.seen.add(event_id):
            return False
        processed_at = event.processed_at
        if processed_at is not None:
            if confirmed:
                recent = self.recent
                if recent is None:
                    recent = self.recent = deque(maxlen=self._lookback)
                recent.append(processed_at)
            if self.newest is None or processed_at > self.newest:
                self.newest = processed_at
        cp = self.checkpoint
        return cp is None or not cp.is_dispatched(self.session_id, event_id)

    async def catch_up(
        self,
        events: Events,
        sink: Callable[[Event], object],
        through: Collection[str] = (),
        behind: int = 0,
    ) -> int:
        """Read history from the cursor to its end, passing each new event to ``sink`` in order.

        With ``through`` (ids seen live), the read stops once every one of them has been
        passed: events stored after them are left for when they arrive live, so previews
        still come before the event they preview, and pages are sized to what was seen
        (``behind``: how many events were taken live since the cursor last moved).
        Events go to ``sink`` as soon as their
        page arrives, so a failure on a later page loses nothing: they are remembered, and
        the next read skips them. Returns the count.
        """
        count = 0
        wanted = set(through)
        size = len(wanted) + behind + len(self.recent or ()) + 8
        limit = min(RECONCILE_PAGE, size) if wanted else None
        note = self.note
        lister = events.list(
            self.session_id,
            limit=limit or RECONCILE_PAGE,
            created_at_gte=self.cursor,
            skip=self.seen if note is None else None,  # seen ids are neither decoded nor new
        )
        async for event in lister:  # a pager: leaving it early holds nothing open
            if note is not None:
                note(event)
            if self.accept(event):
                sink(event)
                count += 1
            if wanted:
                wanted.discard(event.id or "")
                if not wanted:
                    break
        return count

    async def terminated(self, events: Events) -> bool:
        """Whether the session is terminated (nothing can follow what history holds).

        Checked when a source goes quiet, so a consumer resuming a session whose final event
        it already dispatched ends instead of waiting forever. A 404 (deleted) propagates.
        """
        return await events.status(self.session_id) == "terminated"

    async def start_at_now(self, events: Events) -> bool:
        """Skip the stored history: remember the newest events and start the cursor there.

        Returns whether that one page held the whole history.
        """
        page, next_page = await events.page(self.session_id, limit=100, order="desc")
        note = self.note
        if note is not None:
            for event in reversed(page):  # history order: the newest is shown last
                note(event)
        if page:
            newest = page[0].processed_at
            for event in page:
                if event.processed_at != newest:
                    break
                if event.id is not None:
                    self.seen.add(event.id)
            self.start = newest
        return not next_page


def instant(stamp: str) -> tuple[int, datetime | str]:
    """A sort key for RFC 3339 timestamps of any precision (``...00Z`` < ``...00.5Z``); one
    that cannot be parsed sorts by its text after every parsed one."""
    match = _RFC3339.fullmatch(stamp)
    if match is not None:
        # Python 3.10 reads neither "Z" nor fractions that are not 3 or 6 digits
        base, fraction, zone = match.groups()
        digits = (fraction or "")[:6].ljust(6, "0")
        offset = "+00:00" if zone in (None, "Z", "z") else zone
        try:
            return 0, datetime.fromisoformat(f"{base}.{digits}{offset}")
        except ValueError:
            pass
    return 1, stamp


_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)?")


class Delivery:
    """Queue, acknowledgement and end conditions of an event iterator.

    Acknowledgement is what makes restarts exact: an event is recorded as dispatched in the
    checkpoint once acknowledged, and only then. With ``auto_ack`` the previous event is
    acknowledged when the next one is requested (and the last one when the ``async with``
    block exits without an exception), so a crash re-delivers at most the one event that was
    being handled. Manual acknowledgements may come in any order; the checkpoint's position
    only advances over a contiguous acknowledged prefix, so nothing is skipped on restart.
    Without a checkpoint there is nothing to record, so no acknowledgement state is kept.
    """

    __slots__ = (
        "_acked", "_pending", "_track", "_unacked", "auto_ack", "done", "ending",
        "last_event_id", "queue", "tracker", "until",
    )  # fmt: skip

    def __init__(
        self,
        tracker: Tracker,
        *,
        until: Callable[[Event], bool] | None,
        auto_ack: bool,
    ) -> None:
        self.tracker = tracker
        self.queue: deque[Event] = deque()
        self.until = until
        self.auto_ack = auto_ack
        self.done = False
        self.ending = False  # nothing more will come: stop once the queue is drained
        self.last_event_id: str | None = None
        self._track = tracker.checkpoint is not None  # acknowledgements have somewhere to go
        # made on the first delivery with a checkpoint (an idle stream needs none of them)
        self._unacked: deque[Event] | None = None  # delivered, not yet recorded, in order
        self._pending: set[str] = _UNUSED  # their ids
        self._acked: set[str] = _UNUSED  # acknowledged out of order, waiting for the prefix

    def deliver(self, event: Event) -> Event:
        """Hand ``event`` to the consumer: note it for acknowledgement, check end conditions."""
        event_id = event.id
        if event_id is not None:
            self.last_event_id = event_id
            if self._track:
                unacked = self._unacked
                if unacked is None:
                    unacked = self._unacked = deque()
                    self._pending, self._acked = set(), set()
                unacked.append(event)
                self._pending.add(event_id)
        if event.type in TERMINAL_TYPES or (self.until is not None and self.until(event)):
            self.done = True
        return event

    def ack(self, event: Event | None = None) -> None:
        """Acknowledge ``event`` (default: every event delivered so far).

        Events already acknowledged, or never delivered, are ignored (and everything is,
        without a checkpoint).
        """
        cp = self.tracker.checkpoint
        unacked = self._unacked
        if cp is None or unacked is None:
            return
        sid = self.tracker.session_id
        if event is None:  # all of them, in order (what auto mode does before each read)
            while unacked:
                done = unacked.popleft()
                cp.mark_dispatched(sid, str(done.id), done.processed_at)
            self._pending.clear()  # (what was acknowledged out of order is among them)
            self._acked.clear()
            return
        if event.id in self._pending:
            self._acked.add(event.id)
        acked = self._acked
        while unacked and unacked[0].id in acked:
            done = unacked.popleft()
            event_id = str(done.id)
            acked.discard(event_id)
            self._pending.discard(event_id)
            cp.mark_dispatched(sid, event_id, done.processed_at)

    def auto_ack_pending(self) -> None:
        """Acknowledge what was delivered before the consumer asked for more (auto mode)."""
        if self.auto_ack and self._unacked:
            self.ack()


class Delivering:
    """What the stream and the poller share: acknowledgement and the ``async with`` exit.

    Subclasses set ``_delivery`` and implement :meth:`aclose`.
    """

    __slots__ = ()

    _delivery: Delivery

    @property
    def last_event_id(self) -> str | None:
        """The id of the last stored event yielded (``None`` before the first)."""
        return self._delivery.last_event_id

    @property
    def checkpoint(self) -> CheckpointStore | None:
        """The store recording acknowledged events, if any."""
        return self._delivery.tracker.checkpoint

    def ack(self, event: Event | None = None) -> None:
        """Acknowledge ``event`` (default: every event yielded so far) as dispatched."""
        self._delivery.ack(event)

    async def aclose(self) -> None:
        """Stop: iteration ends. Safe to call more than once."""
        raise NotImplementedError

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:  # a clean exit: the last event was handled
            self._delivery.auto_ack_pending()
        await self.aclose()
