"""The frame queue of one streamed response, fed at once or paced by a background task."""

from __future__ import annotations

from collections.abc import Sequence

import anyio

from .._frames import CLOSE, Frame, Subscriber

__all__ = ["ResponseStream"]


class ResponseStream(Subscriber):
    """One streamed response: the frames of its plan, then a clean end or an ``error``.

    A ``float`` among the items is a pause of that many seconds (``Wait``); an ``error``
    frame ends the response.
    """

    def finish(self, frame: Frame = CLOSE) -> None:
        """Queue the last frame (a clean close or an ``error``) without setting ``closed``.

        ``push`` of an ending frame sets ``closed``, which means "shut down now" and also
        cuts a ``stall_after`` stall short; a response that merely ends must not.
        """
        if not self.closed.is_set():
            self.frames.append(frame)
            self._wake.set()

    def feed_now(self, items: Sequence[Frame | float]) -> None:
        """Queue every frame at once (a plan without pauses); pauses are skipped."""
        for item in items:
            if isinstance(item, Frame):
                if item.kind == "error":
                    self.finish(item)
                    return
                self.push(item)
        self.finish()

    async def feed(self, items: Sequence[Frame | float], delay: float) -> None:
        """Queue the frames with their pauses and ``delay`` after each, until done or left."""
        for item in items:
            if self.closed.is_set():
                return  # the client went away or the emulator shuts down
            if not isinstance(item, Frame):
                await anyio.sleep(item)
                continue
            if item.kind == "error":
                self.finish(item)
                return
            self.push(item)
            if delay > 0:
                await anyio.sleep(delay)
        self.finish()
