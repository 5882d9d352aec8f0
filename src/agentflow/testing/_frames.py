"""The frame queue between an emulated session and one open stream connection.

Every wire emulator stores events in its own shape, renders each one to the text of an SSE
message and pushes a :class:`Frame` to the :class:`Subscriber` of every open connection; the
shared :class:`~agentflow.testing._sse.SSEResponse` drains the queue, applying the faults.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

import anyio

__all__ = ["CLOSE", "DROP", "Frame", "FrameKind", "Subscriber"]

FrameKind = Literal["event", "preview", "error", "drop", "close", "raw"]


@dataclass(frozen=True)
class Frame:
    """One item queued for a connection.

    ``event`` and ``preview`` frames carry a JSON ``data`` document and the ``type`` the
    wire names them by; ``text`` (when set) is the complete SSE message to write instead of
    the default ``event: <type>\\ndata: <data>\\n\\n``. ``raw`` frames are written as ``text``
    without counting as events (stream control, such as a ``connected`` frame). ``error``
    ends the connection after writing ``text`` (or ``event: error`` with ``data``); ``close``
    ends it cleanly and ``drop`` abruptly.
    """

    kind: FrameKind
    type: str = ""
    data: str = ""
    text: str = ""

    def render(self) -> str:
        """The SSE message text of an event, preview, raw or error frame."""
        if self.text:
            return self.text
        return f"event: {self.type}\ndata: {self.data}\n\n"

    def truncated(self) -> str:
        """The message with its data cut in half: what the ``malformed_every`` fault sends."""
        if self.text:
            head, sep, data = self.text.rpartition("data: ")
            return f"{head}{sep}{data[: len(data) // 2].rstrip()}\n\n"
        return f"event: {self.type}\ndata: {self.data[: len(self.data) // 2]}\n\n"


CLOSE = Frame("close")
DROP = Frame("drop")


class Subscriber:
    """One open stream connection: frames pushed by the session, drained by the response."""

    def __init__(self) -> None:
        self.frames: deque[Frame] = deque()
        self.closed = anyio.Event()
        self._wake = anyio.Event()
        self.sent = 0
        """Event frames written on this connection so far (the faults count these)."""

    def push(self, frame: Frame) -> None:
        """Queue a frame (no-op once closed)."""
        if self.closed.is_set():
            return
        self.frames.append(frame)
        if frame.kind in ("close", "drop", "error"):
            self.closed.set()
        self._wake.set()

    async def next(self, idle: float) -> Frame | None:
        """The next frame, or ``None`` after ``idle`` seconds with nothing to send."""
        if not self.frames:
            if self.closed.is_set():
                return CLOSE
            self._wake = anyio.Event()
            with anyio.move_on_after(idle):
                await self._wake.wait()
            if not self.frames:
                return CLOSE if self.closed.is_set() else None
        return self.frames.popleft()
