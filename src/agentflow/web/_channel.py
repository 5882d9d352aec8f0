"""One session's relayed messages: a bounded buffer, and a cursor per browser reading it.

Publishing appends a :class:`Message` to the session's buffer and wakes the readers; it never
waits. Each browser connection is a :class:`Cursor`: the sequence number of the last message
written to it. Its "queue" is the distance from its cursor to the head of the buffer, so a slow
browser costs no memory of its own; when that distance passes the cursor's allowance (or the
messages it still needs leave the buffer) the connection is cut, and the browser resumes with
``Last-Event-ID``. Readers under pressure get runs of text deltas merged into one message;
nothing else is ever merged or skipped.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import anyio

__all__ = ["Channel", "Cursor", "Message"]


@dataclass
class Message:
    """One SSE message: ``id: seq``, ``event: name``, ``data: <json of data>``.

    ``merge_key`` is set on text deltas (``message.delta`` plus the message they belong to):
    consecutive messages with the same key may be merged. ``seq`` 0 marks a message outside
    the buffer (a notice to one connection), written without an ``id:`` line.
    """

    seq: int
    name: str
    data: dict[str, Any]
    merge_key: str | None = None
    _body: bytes | None = field(default=None, repr=False)

    def body(self) -> bytes:
        """The SSE text of the message (rendered once, shared by every reader)."""
        if self._body is None:
            data = json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))
            head = f"id: {self.seq}\n" if self.seq else ""
            self._body = f"{head}event: {self.name}\ndata: {data}\n\n".encode()
        return self._body

    def merged(self, later: Message) -> Message:
        """This delta followed by ``later``, as one message carrying ``later``'s id."""
        data = {**later.data, "text": f"{self.data.get('text', '')}{later.data.get('text', '')}"}
        data["merged"] = int(self.data.get("merged", 1)) + int(later.data.get("merged", 1))
        return Message(later.seq, later.name, data, later.merge_key)


class Cursor:
    """One browser connection reading a :class:`Channel` (see the module docstring)."""

    def __init__(self, channel: Channel, position: int, allowance: int) -> None:
        self.channel = channel
        self.position = position
        """The sequence number of the last message written to this connection."""
        self.allowance = allowance
        self.lagged = False
        """True once the connection was cut for falling too far behind."""
        self.closed = False
        self.scope: anyio.CancelScope | None = None
        """Cancelled to cut the connection (set by the response writing it)."""
        self._wake = anyio.Event()

    @property
    def lag(self) -> int:
        """How many buffered messages this connection has not been written yet."""
        return self.channel.seq - self.position

    def take(self, limit: int, coalesce_at: int) -> list[Message]:
        """The next messages to write (at most ``limit``), deltas merged when far behind."""
        batch = list(islice(self.channel.after(self.position), limit))
        if len(batch) < 2 or self.lag < coalesce_at:
            return batch
        out: list[Message] = []
        for message in batch:
            last = out[-1] if out else None
            if last is not None and message.merge_key and last.merge_key == message.merge_key:
                out[-1] = last.merged(message)
            else:
                out.append(message)
        return out

    def advance(self, seq: int) -> None:
        """Record that everything up to ``seq`` was written."""
        self.position = max(self.position, seq)
        self.channel.progressed()

    async def wait(self, idle: float) -> bool:
        """Wait up to ``idle`` s for something to write; False when nothing came."""
        if self.lag > 0 or self.closed:
            return True
        self._wake = anyio.Event()
        with anyio.move_on_after(idle):
            await self._wake.wait()
        return self.lag > 0 or self.closed

    def notify(self) -> None:
        """A message was published: cut the connection if it is too far behind, else wake it."""
        channel = self.channel
        if self.lag > self.allowance or self.position < channel.first_seq - 1:
            self.cut()
        else:
            self._wake.set()

    def close(self) -> None:
        """End the connection cleanly once what it is writing now is written."""
        self.closed = True
        self._wake.set()

    def cut(self) -> None:
        """End the connection at once, abandoning a write in progress (it fell behind)."""
        self.lagged = True
        self.close()
        if self.scope is not None:
            self.scope.cancel()


class Channel:
    """The bounded buffer of one session's messages and the cursors reading it."""

    def __init__(self, capacity: int) -> None:
        self.buffer: deque[Message] = deque(maxlen=capacity)
        self.seq = 0
        """The sequence number of the newest message (0 before the first)."""
        self.cursors: set[Cursor] = set()
        self.finished = False
        self.subscribed = anyio.Event()
        """Set when the first browser connects."""
        self._progress = anyio.Event()

    @property
    def first_seq(self) -> int:
        """The sequence number of the oldest buffered message (``seq + 1`` when empty)."""
        return self.buffer[0].seq if self.buffer else self.seq + 1

    def append(self, name: str, data: dict[str, Any], merge_key: str | None = None) -> Message:
        """Add a message (numbered next) and tell every cursor; never waits."""
        self.seq += 1
        message = Message(self.seq, name, {**data, "seq": self.seq}, merge_key)
        self.buffer.append(message)
        for cursor in list(self.cursors):
            cursor.notify()
        return message

    def after(self, seq: int) -> Iterator[Message]:
        """The buffered messages numbered above ``seq``, oldest first."""
        start = max(seq - self.first_seq + 1, 0)
        return islice(self.buffer, start, None)

    def attach(self, position: int, allowance: int) -> Cursor:
        """A new cursor that has seen everything up to ``position``."""
        cursor = Cursor(self, position, allowance)
        self.cursors.add(cursor)
        self.subscribed.set()
        return cursor

    def detach(self, cursor: Cursor) -> None:
        """Forget a cursor whose connection ended."""
        self.cursors.discard(cursor)
        self.progressed()

    def progressed(self) -> None:
        """Wake :meth:`wait_delivered` (a cursor moved or left)."""
        self._progress.set()

    async def wait_delivered(self) -> None:
        """Return once every connected browser was written every buffered message."""
        while any(c.position < self.seq for c in self.cursors):
            self._progress = anyio.Event()
            await self._progress.wait()
