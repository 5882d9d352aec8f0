"""History confirms what the live stream says: the guard against skipped and reordered frames.

A live stream says *that* something was stored, not reliably *what* or *in which order*: a
server can fan an event out late, out of order or not at all. Confirming every live event
with a history read would cost a round trip per event, so :class:`LiveHold` trusts a stream
until it shows otherwise:

- a live event is delivered as it comes; it does not move the history cursor, so the next
  history read (after a reconnect, or any confirmation) looks behind it for a gap;
- an event that ends or pauses a turn (an idle, a termination) is held until a history
  read from the cursor confirms it; that read first delivers, in history order, anything
  the stream skipped, so a pause is never seen before the calls it waits on;
- a live event older than one already delivered, or a confirmation that finds an event
  the stream never sent, proves the stream unreliable: from then on every live event is
  held until history confirms it and its place (one read per batch of frames);
- at most ``window // 2`` live events go unconfirmed, so the ids remembered always cover
  what the next read returns.
"""

from __future__ import annotations

from collections import deque

from .delivery import TERMINAL_TYPES, EventsAPI, Tracker, instant
from .events import ManagedAgentsEvent as Event

__all__ = ["BARRIER_TYPES", "LiveHold"]

BARRIER_TYPES = TERMINAL_TYPES | {"session.status_idle", "session.thread_status_idle"}
"""Live events held until history confirms them: a consumer acts on everything before them."""


class LiveHold:
    """The live events of one stream that history has not confirmed yet."""

    __slots__ = ("_events", "_held", "_limit", "_queue", "_tracker", "_unconfirmed", "strict")

    def __init__(self, tracker: Tracker, events: EventsAPI, queue: deque[Event]) -> None:
        self._tracker = tracker
        self._events = events
        self._queue = queue
        self._held: dict[str, Event] = {}
        self._unconfirmed = 0
        self._limit = max(1, tracker_window(tracker) // 2)
        self.strict = False
        """True once the stream skipped or reordered an event: every live event then waits
        for history."""

    def __bool__(self) -> bool:
        return bool(self._held)

    def add(self, event: Event) -> None:
        """A live stored event: deliver it now, or hold it for history (see the module)."""
        event_id = event.id
        tracker = self._tracker
        if event_id is None or event_id in tracker.seen or event_id in self._held:
            return  # a duplicate
        behind = (
            event.processed_at is not None
            and tracker.newest is not None
            and event.processed_at < tracker.newest
        )
        if behind:
            self.strict = True  # arrived after a later event: the stream reorders
        if self.strict or event.type in BARRIER_TYPES or self._unconfirmed >= self._limit:
            self._held[event_id] = event
        elif tracker.accept(event, confirmed=False):
            self._queue.append(event)
            self._unconfirmed += 1

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
            found = await self._tracker.catch_up(
                self._events, self._queue.append, through=held, behind=self._unconfirmed
            )
        finally:
            self._release(held)
        self._unconfirmed = 0
        if held and found > len(held):
            self.strict = True  # history held events the stream never sent
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
            if tracker.accept(event, confirmed=False):
                self._queue.append(event)


def tracker_window(tracker: Tracker) -> int:
    """The dedupe window of ``tracker`` (how many ids it is sure to remember)."""
    return tracker.seen.window
