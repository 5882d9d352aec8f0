"""Which frames of a run's connections are new: positions, skips, alignment. No I/O.

A :class:`FrameReader` sees every frame of every connection of one run, in order, with its
position on that connection, and returns the new ones, given their id
(``"<run_id>:<position>"``) and what earlier frames tell (:class:`~.track.Accumulator`).

- A replay (a connection that starts at the run's first frame) repeats frames already
  taken: the first ``count`` are skipped. Skipped frames not yet read (a run resumed from a
  checkpoint) still go through the accumulator, so a block begun before a restart ends with
  its whole text.
- A reply's stream starts wherever the run was, which this client may not know exactly:
  frames after the last one it saw may have gone by unseen (a frame after ``done``). Their
  positions are then provisional (a lower bound) until the next replay, where the frames
  taken last are looked for by their fingerprint and the count corrected.
"""

from __future__ import annotations

import logging
from collections import deque
from zlib import crc32

from ..core.exceptions import StreamError
from .events import M8tesEvent, attach
from .track import Accumulator, Progress, crc

__all__ = ["FrameReader"]

logger = logging.getLogger("agentflow.transport")


class FrameReader:
    """Picks the new frames of one run (see the module docstring)."""

    def __init__(self, run_id: int, progress: Progress) -> None:
        self.key = str(run_id)
        self.progress = progress
        self.acc = Accumulator()
        self.seen = 0
        """Positions the accumulator has read (frames before it were read already)."""
        self._aligning: deque[int] | None = None

    @property
    def aligning(self) -> bool:
        """Whether a replay is being searched for the frames taken last."""
        return self._aligning is not None

    def after_reply(self) -> None:
        """The next connection is a reply's stream: it starts after what was seen."""
        self.seen = self.progress.count
        self.progress.provisional = True

    def replay(self) -> None:
        """The next connection replays the run from its first frame."""
        progress = self.progress
        if not progress.provisional:
            return
        if not progress.tail:
            raise StreamError(
                f"run {self.key}: the reply's stream ended before its first frame, and nothing "
                "earlier of the run was taken to find its place in the replay; follow the whole "
                "run instead (a new stream of it replays it all)"
            )
        self._aligning = deque(maxlen=len(progress.tail))

    def take(self, position: int, data: bytes, event: M8tesEvent) -> M8tesEvent | None:
        """``event`` when frame ``position`` is new (with its id and notes), else ``None``."""
        progress = self.progress
        if position >= progress.count and self._aligning is None:  # new: the usual case
            notes = self.acc.take(event)
            self.seen = progress.count = position + 1
            progress.tail.append(crc32(data))
            return attach(event, f"{self.key}:{position}", data, notes)
        if self._aligning is not None:
            self._align(position, data)
        elif position >= self.seen:  # skipped, but not read yet (a resumed run)
            self.acc.take(event)
            self.seen = position + 1
        if position == progress.count - 1 and progress.tail and self._aligning is None:
            self._check(position, data)
        return None

    def _check(self, position: int, data: bytes) -> None:
        """The replay's frame where the stream stopped should be the one it delivered."""
        if crc(data) != self.progress.tail[-1]:
            logger.warning(
                "run %s: the replay's frame %d differs from the one delivered there; frames "
                "may have been sent twice or lost (the wire has no ids to tell)",
                self.key, position,
            )  # fmt: skip

    def _align(self, position: int, data: bytes) -> None:
        window = self._aligning
        assert window is not None
        window.append(crc(data))
        progress = self.progress
        tail = tuple(progress.tail)
        if position + 1 >= progress.count and tuple(window)[-len(tail) :] == tail:
            logger.debug("run %s: position %d is %d", self.key, progress.count, position + 1)
            progress.count = self.seen = position + 1
            progress.provisional = False
            self._aligning = None

    def check_end(self) -> None:
        """A connection ended: a replay still being searched did not hold the frames."""
        if self._aligning is not None:
            self._aligning = None
            raise StreamError(
                f"run {self.key}: its replay does not hold the frames this stream delivered"
            )
