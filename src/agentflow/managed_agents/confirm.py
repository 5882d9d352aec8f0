"""Live events wait for history: the stream's guard against skipped and reordered frames.

A live stream says *that* something was stored, not reliably *what* or *in which order*: a
server can fan an event out late, twice, out of order or not at all. :class:`LiveHold` keeps
the live events of a stream until a history read from the cursor confirms them; that read
delivers, in history order, every new event up to the last one held, so an event the live
stream skipped or sent out of order takes its place instead of being lost or delivered late.
"""

from __future__ import annotations

from collections import deque

from .delivery import EventsAPI, Tracker, instant
from .events import ManagedAgentsEvent as Event

__all__ = ["LiveHold"]


class LiveHold:
    """The live events of one stream that history has not confirmed yet."""

    __slots__ = ("_events", "_held", "_queue", "_tracker")

    def __init__(self, tracker: Tracker, events: EventsAPI, queue: deque[Event]) -> None:
        self._tracker = tracker
        self._events = events
        self._queue = queue
        self._held: dict[str, Event] = {}

    def __bool__(self) -> bool:
        return bool(self._held)

    def add(self, event: Event) -> None:
        """Hold a live stored event (one already delivered is a duplicate, dropped)."""
        event_id = event.id
        if event_id is not None and event_id not in self._tracker.seen:
            self._held.setdefault(event_id, event)

    async def confirm(self) -> int:
        """Read history from the cursor: its new events in order, then the held ones left.

        A held event that history does not hold yet (a server that streams before it
        stores) follows, in ``processed_at`` order, so nothing waits forever. If the read
        fails, the held events are delivered as they came before the error propagates: the
        caller reconnects, and the reconcile after it finds anything the stream skipped.
        Returns how many events were queued.
        """
        before = len(self._queue)
        held, self._held = self._held, {}
        try:
            await self._tracker.catch_up(self._events, self._queue.append, through=held)
        finally:
            self._release(held)
        return len(self._queue) - before

    def flush(self, last: Event | None = None) -> None:
        """Deliver what is held without asking history (it is gone: ``session.deleted``)."""
        held, self._held = self._held, {}
        if last is not None and last.id is not None:
            held[last.id] = last
        self._release(held)

    def _release(self, held: dict[str, Event]) -> None:
        tracker = self._tracker
        rest = [e for e in held.values() if (e.id or "") not in tracker.seen]
        rest.sort(key=lambda e: instant(e.processed_at or ""))
        for event in rest:
            if tracker.accept(event):
                self._queue.append(event)
