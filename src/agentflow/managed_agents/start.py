"""What a stream's start shows of the session: the newest event of some types.

A run that attaches to a session without sending anything asks for its latest status event
right after the stream is open. The stream's start has just read history up to its end (the
read that sets the start, or the reconcile after connecting), so the newest status event
among what it read is that latest event, and a start that read the whole history knows
there is none: the run needs no read of its own.
"""

from __future__ import annotations

from collections.abc import Collection

from .events import ManagedAgentsEvent as Event

__all__ = ["StartWatch"]


class StartWatch:
    """Shown the events a stream's start reads (in history order); keeps the newest of
    ``types``. ``known`` says whether ``event`` is the answer (see the module)."""

    __slots__ = ("event", "known", "types")

    def __init__(self, types: Collection[str]) -> None:
        self.types = frozenset(types)
        self.event: Event | None = None
        self.known = False

    def note(self, event: Event) -> None:
        """One event history returned, in history order."""
        if event.type in self.types:
            self.event = event

    def finish(self, whole: bool) -> None:
        """The start is over; ``whole``: its reads covered the whole history."""
        self.known = self.event is not None or whole
