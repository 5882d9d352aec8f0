"""Exactly-once, in-order delivery for the Everruns stream: what is new, what was dispatched.

The platform gives every stored event a ``sequence`` and replays exactly what follows the
``since_id`` it is given, so :class:`Tracker` needs little: an event is new when its
``sequence`` is above the last accepted one (a bounded window of ids covers events without
one), and the id of the last accepted event is where a reconnect resumes.

:class:`Acks` records dispatched events in the checkpoint: an event counts as dispatched
once the consumer asks for the next one (or leaves the ``async with`` block cleanly), so a
process that dies re-delivers at most the event it was handling, and the checkpoint's
position (the last dispatched id) is the ``since_id`` a restart resumes with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.checkpoint import CheckpointStore
    from .events import EverrunsEvent

__all__ = ["Acks", "Tracker"]


class Tracker:
    """Deduplication and the resume cursor of one session's stored events."""

    __slots__ = ("_max", "_previous", "_recent", "cursor", "sequence")

    def __init__(self, cursor: str | None = None, sequence: int | None = None, window: int = 4096):
        if window < 1:
            raise ValueError(f"dedupe window must be positive, got {window!r}")
        self.cursor = cursor
        """The id of the last accepted event (what ``since_id`` resumes after)."""
        self.sequence = sequence
        """The ``sequence`` of the last accepted event that had one."""
        self._max = window
        self._recent: set[str] = set()  # two generations of ids, for events without sequence
        self._previous: set[str] = set()
        if cursor is not None:
            self._recent.add(cursor)

    def has(self, event_id: str) -> bool:
        """Whether ``event_id`` was accepted (among the last ``window`` at least)."""
        return event_id in self._recent or event_id in self._previous

    def accept(self, event: EverrunsEvent) -> bool:
        """Whether ``event`` is new; if so it moves the cursor."""
        seq = event.sequence
        last = self.sequence
        if seq is not None and last is not None and seq <= last:
            return False
        event_id = event.id
        if event_id in self._recent or event_id in self._previous:
            return False
        recent = self._recent
        recent.add(event_id)
        if len(recent) >= self._max:
            self._previous, self._recent = recent, set()
        self.cursor = event_id
        if seq is not None:
            self.sequence = seq
        return True


class Acks:
    """Records delivered events as dispatched, one step behind the consumer."""

    __slots__ = ("_pending", "checkpoint", "session_id")

    def __init__(self, session_id: str, checkpoint: CheckpointStore | None) -> None:
        self.session_id = session_id
        self.checkpoint = checkpoint
        self._pending: EverrunsEvent | None = None

    def delivered(self, event: EverrunsEvent) -> None:
        """``event`` was handed to the consumer; it is recorded at the next :meth:`ack`."""
        if self._pending is not None:  # (the stream acks before each read: rarely here)
            self.ack()
        if self.checkpoint is not None:
            self._pending = event

    def ack(self) -> None:
        """Record the last delivered event as dispatched (its ``sequence`` is the cursor)."""
        event = self._pending
        if event is None or self.checkpoint is None:
            return
        self._pending = None
        seq = event.sequence
        self.checkpoint.mark_dispatched(
            self.session_id, event.id, None if seq is None else str(seq)
        )
