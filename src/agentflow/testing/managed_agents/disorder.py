"""A knob that makes the emulator's live stream lie about order: skip, swap or commit late.

Real servers fan events out to connections separately from writing them to the log, so a
client can see a live stream that misses an event, delivers two in the wrong order, or an
event that reaches the log after a later one. ``Disorder`` reproduces each on purpose, by
the ordinal of a stored event in its session (1 for the first event stored, counting
client echoes and server events alike)::

    emu.disorder(sid, skip_live={3})     # event 3 is stored but never sent live
    emu.disorder(sid, swap_live={3})     # event 3 is sent live right after event 4
    emu.disorder(sid, late={3})          # event 3 reaches history and streams after event 5,
                                         # keeping its earlier processed_at

History (``events.list``) stays the truth in the first two cases; only ``late`` changes
when an event becomes visible there.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Disorder"]

Event = dict[str, Any]

LATE_BY = 2
"""How many later events reach history before a ``late`` one: two, so that a reader can
see the one after it, and then the late one behind it."""


@dataclass
class Disorder:
    """Which stored events of one session are skipped, swapped or committed late."""

    skip_live: frozenset[int] = frozenset()
    swap_live: frozenset[int] = frozenset()
    late: frozenset[int] = frozenset()
    count: int = 0
    """How many events the session has stored so far (the ordinal of the last one)."""
    _held_live: list[Event] = field(default_factory=list)
    _held_late: list[tuple[int, Event]] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        *,
        skip_live: Iterable[int] = (),
        swap_live: Iterable[int] = (),
        late: Iterable[int] = (),
        count: int = 0,
    ) -> Disorder:
        """A plan from plain iterables of ordinals (counting from 1)."""
        return cls(frozenset(skip_live), frozenset(swap_live), frozenset(late), count)

    def store(
        self,
        event: Event,
        history: list[Event],
        broadcast: Callable[[Event], None],
    ) -> list[Event]:
        """Store ``event`` as the plan says; returns the events that reached history now."""
        self.count += 1
        n = self.count
        if n in self.late:
            self._held_late.append((n + LATE_BY, event))  # neither stored nor streamed yet
            return []
        stored = [event]
        self._commit(event, history)
        self._send(n, event, broadcast)
        # a late event lands once LATE_BY later ones did, at its processed_at position
        due = [held for at, held in self._held_late if at <= n]
        self._held_late = [(at, held) for at, held in self._held_late if at > n]
        for held in due:
            self._commit(held, history)
            broadcast(held)
        return stored + due

    def _commit(self, event: Event, history: list[Event]) -> None:
        keys = [e["processed_at"] for e in history]
        history.insert(bisect.bisect_right(keys, event["processed_at"]), event)

    def _send(self, n: int, event: Event, broadcast: Callable[[Event], None]) -> None:
        if n in self.skip_live:
            return
        if n in self.swap_live:
            self._held_live.append(event)
            return
        broadcast(event)
        for held in self._held_live:
            broadcast(held)
        self._held_live = []
