"""Server-sent events framing: bytes in, frames out, no I/O.

:class:`SSEDecoder` follows the WHATWG event-stream rules (lines end in ``\\n``, ``\\r`` or
``\\r\\n``, a blank line ends a message, one space after the colon is dropped, ``:`` lines are
comments, several ``data:`` lines are joined with ``\\n``, a partial message at end of stream is
discarded) but works on the byte stream a frame at a time instead of a line at a time.

Why not ``httpx_sse.EventSource.aiter_sse``: it decodes text, splits it into lines and takes one
async step per line (three per Managed Agents event), which is about half of its pipeline's
cost. Here a message of the usual shapes (``[id:][event:][retry:]data: <one line>``) is cut with
one ``bytes.find(b"\\n")`` per field, anything else with one ``bytes.find(b"\\n\\n")`` per
message, and its ``data`` stays ``bytes``, which ``agentflow.events.parse_event`` validates
directly with pydantic (no ``str`` round trip). Because frames are only cut at ASCII
newlines, a multi-byte UTF-8 character split across two network reads is never split across
frames, and text is decoded only once the frame is complete. The field semantics are those
of httpx-sse's ``SSEDecoder`` (used as the reference in the tests).

Deviation from the browser API, on purpose: a message without ``data:`` lines produces no
frame (as in the WHATWG algorithm), but a message without an ``event:`` line is kept with
``event == ""``; the official SDK drops those, agentflow decodes them by their JSON ``type``.
"""

from __future__ import annotations

from typing import Final

__all__ = ["DEFAULT_MAX_FRAME_BYTES", "SSEDecoder", "SSEFrame"]

DEFAULT_MAX_FRAME_BYTES: Final = 16 * 1024 * 1024
_BOM: Final = b"\xef\xbb\xbf"
_NAMES: dict[bytes, str] = {}
"""Event names decoded so far, shared by all decoders (a stream uses a handful)."""
_NAMES_KEPT: Final = 256


class SSEFrame:
    """One dispatched server-sent message.

    ``event`` is the ``event:`` field (``""`` when absent), ``data`` the joined ``data:`` lines
    as bytes, ``id`` the last event id seen so far on this stream (per the spec it persists
    across messages), ``retry`` the ``retry:`` value in milliseconds if this message had one.
    ``error`` is set instead of ``data`` when the message was dropped (larger than the
    decoder's ``max_frame_bytes``); the caller decides what to do (``EventStream`` logs it,
    reconnects and reads the event from history).
    """

    __slots__ = ("data", "error", "event", "id", "retry")

    def __init__(
        self,
        event: str,
        data: bytes,
        id: str | None = None,
        retry: int | None = None,
        error: str | None = None,
    ) -> None:
        self.event = event
        self.data = data
        self.id = id
        self.retry = retry
        self.error = error

    @property
    def text(self) -> str:
        """``data`` decoded as UTF-8 (invalid bytes replaced)."""
        return self.data.decode("utf-8", "replace")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SSEFrame):
            return NotImplemented
        return (self.event, self.data, self.id, self.retry, self.error) == (
            other.event,
            other.data,
            other.id,
            other.retry,
            other.error,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        size = len(self.data)
        extra = f", error={self.error!r}" if self.error else ""
        return f"SSEFrame(event={self.event!r}, id={self.id!r}, data=<{size} bytes>{extra})"


class SSEDecoder:
    """Incremental event-stream decoder: ``feed(chunk)`` returns the frames it completed.

    Chunks may be cut anywhere (inside a ``\\r\\n`` pair, inside a UTF-8 character, inside a
    field name). A message larger than ``max_frame_bytes`` is discarded up to its terminating
    blank line and reported once as a frame with ``error`` set, so one huge or never-ending
    message cannot exhaust memory and the frames after it still arrive.
    """

    __slots__ = ("_buf", "_cr", "_last_id", "_max", "_scan", "_skip_nl", "_skipped", "_start")

    def __init__(self, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        if max_frame_bytes < 1:
            raise ValueError(f"max_frame_bytes must be positive, got {max_frame_bytes!r}")
        self._max = max_frame_bytes
        self._buf = bytearray()  # an incomplete message
        self._scan = 0  # where to resume looking for b"\n\n" in _buf
        self._cr = False  # the last chunk ended in "\r": drop a "\n" starting the next one
        self._start = True  # nothing decoded yet: a leading BOM is stripped
        self._skipped = -1  # >= 0 while discarding an oversized message (bytes dropped)
        self._skip_nl = False  # while discarding: the last dropped byte was "\n"
        self._last_id: str | None = None

    @property
    def last_event_id(self) -> str | None:
        """The last ``id:`` value seen on this stream (``None`` if none yet)."""
        return self._last_id

    def feed(self, chunk: bytes) -> list[SSEFrame]:
        """Add bytes from the stream and return the messages they completed, in order."""
        if self._cr and chunk:  # an empty chunk must not forget the pending "\r"
            self._cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\r" in chunk:
            # NOTE: a "\r" at the end may be the first half of "\r\n"; it already ends the line.
            self._cr = chunk[-1:] == b"\r"
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if self._start:
            if not chunk:
                return []
            head = bytes(self._buf) + chunk
            if len(head) < 3 and _BOM.startswith(head):
                self._buf[:] = head
                return []
            self._buf.clear()
            self._start = False
            chunk = head[3:] if head.startswith(_BOM) else head
        frames: list[SSEFrame] = []
        if self._skipped >= 0:
            chunk = self._skip(chunk, frames)
        if not chunk:
            return frames
        data: bytes | bytearray
        if self._buf:
            self._buf += chunk
            data = self._buf
            if data.find(b"\n\n", self._scan) >= 0:
                # A message is complete: slice frames from bytes, not from the bytearray (a
                # bytearray slice would be copied once more per frame). One copy per read.
                data = bytes(data)
        else:
            data = chunk
        limit = self._max
        pos = 0
        end = self._scan  # no message ends before it
        while True:
            if isinstance(data, bytes):  # (a bytearray here holds no complete message)
                pos = self._frames(data, frames, pos)
            end = data.find(b"\n\n", max(pos, end))
            if end < 0:
                break
            if end - pos > limit:
                frames.append(self._dropped(end - pos))
            elif end > pos:
                frame = self._parse(data[pos:end])
                if frame is not None:
                    frames.append(frame)
            pos = end + 2
        rest = len(data) - pos
        # NOTE: a trailing "\n" may be the first half of the blank line ending the message.
        if rest - (data[-1:] == b"\n") > limit:
            # an unfinished message already over the limit: drop it and what follows of it
            self._skipped = rest
            self._skip_nl = data[-1:] == b"\n"
            self._buf = bytearray()
            self._scan = 0
            return frames
        if data is not self._buf:
            if rest:
                self._buf = bytearray(data[pos:])
            elif self._buf:  # (empty already when data is the chunk: no allocation per read)
                self._buf.clear()
        elif pos:
            del self._buf[:pos]
        self._scan = rest - 1 if rest else 0
        return frames

    def _frames(self, data: bytes, frames: list[SSEFrame], pos: int = 0) -> int:
        """Cut messages of the usual shapes from ``pos`` on; return where the first message
        of another shape (or one not finished yet) starts, for the general path.

        The shapes: ``[id: <id>\\n][event: <name>\\n][retry: <ms>\\n]data: <one line>``,
        which covers what Managed Agents, Messages, Everruns and m8tes send. One line search
        per field, so the data line is scanned once (searching for the blank line first would
        scan it twice). ``feed`` calls it only on ``bytes`` that hold a complete message (an
        unfinished one stays a ``bytearray`` and is searched from ``_scan`` on), so a long
        unfinished message is not searched again on every read.
        """
        find = data.find
        startswith = data.startswith
        append = frames.append
        limit = self._max
        names = _NAMES
        new = object.__new__
        size = len(data)
        last_id = self._last_id
        # Each field is tested by its first byte before startswith (a bytes index is a
        # quarter of the call), and an event name seen before is not decoded again.
        while pos < size:
            head = pos
            ident = None
            if data[pos] == 105 and startswith(b"id: ", pos):  # 105: "i"
                nl = find(b"\n", pos + 4)
                if nl < 0:
                    return pos
                ident = data[pos + 4 : nl]
                if b"\0" in ident:
                    return pos
                head = nl + 1
                if head >= size:
                    return pos
            name = ""
            if data[head] == 101 and startswith(b"event: ", head):  # 101: "e"
                nl = find(b"\n", head + 7)
                if nl < 0:
                    return pos
                raw = data[head + 7 : nl]
                name = names.get(raw)  # type: ignore[assignment]
                if name is None:
                    name = raw.decode("utf-8", "replace")
                    if len(names) < _NAMES_KEPT:
                        names[raw] = name
                head = nl + 1
                if head >= size:
                    return pos
            retry = None
            if data[head] == 114 and startswith(b"retry: ", head):  # 114: "r"; Everruns
                nl = find(b"\n", head + 7)
                value = data[head + 7 : nl]
                if nl < 0 or not value.isdigit():
                    return pos
                retry = int(value)
                head = nl + 1
            if not startswith(b"data: ", head):
                return pos
            stop = find(b"\n", head + 6)
            if stop < 0 or stop + 1 == size or data[stop + 1] != 10 or stop - pos > limit:
                return pos  # no end yet, another field follows, or too large
            if ident is not None:  # (only now: an unfinished message's id is not the last)
                last_id = self._last_id = ident.decode("utf-8", "replace")
            # SSEFrame(name, data, id, retry) without the __init__ call (a third of the cost)
            frame = new(SSEFrame)
            frame.event = name
            frame.data = data[head + 6 : stop]
            frame.id = last_id
            frame.retry = retry
            frame.error = None
            append(frame)
            pos = stop + 2
        return pos

    def _skip(self, chunk: bytes, frames: list[SSEFrame]) -> bytes:
        """Drop bytes of an oversized message; return what follows its blank line."""
        if self._skip_nl and chunk[:1] == b"\n":
            # the blank line began with the last byte dropped, which is not part of the message
            size, after = self._skipped - 1, 1
        else:
            end = chunk.find(b"\n\n")
            if end < 0:
                self._skipped += len(chunk)
                if chunk:
                    self._skip_nl = chunk[-1:] == b"\n"
                return b""
            size, after = self._skipped + end, end + 2
        frames.append(self._dropped(size))
        self._skipped = -1
        self._skip_nl = False
        return chunk[after:]

    def _dropped(self, size: int) -> SSEFrame:
        error = f"SSE message of {size}+ bytes exceeds max_frame_bytes={self._max}; dropped"
        return SSEFrame("", b"", self._last_id, None, error)

    def _parse(self, block: bytes | bytearray) -> SSEFrame | None:
        if type(block) is not bytes:
            block = bytes(block)
        event = ""
        data: list[bytes] = []
        retry: int | None = None
        for line in block.split(b"\n"):
            if line.startswith(b"data:"):
                data.append(line[6:] if line[5:6] == b" " else line[5:])
                continue
            if not line or line[0] == 58:  # an extra blank line, or a ":" comment
                continue
            name, colon, value = line.partition(b":")
            if colon and value[:1] == b" ":
                value = value[1:]
            if name == b"event":
                event = value.decode("utf-8", "replace")
            elif name == b"data":  # a bare "data" line: an empty data line
                data.append(b"")
            elif name == b"id":
                if b"\0" not in value:
                    self._last_id = value.decode("utf-8", "replace")
            elif name == b"retry" and value.isdigit():
                retry = int(value)
        if not data:
            return None
        return SSEFrame(
            event, data[0] if len(data) == 1 else b"\n".join(data), self._last_id, retry
        )
