"""One open HTTP response of a run's stream: bytes in, frames out, where they stand.

A connection is either the run's whole history replayed from its first frame
(``GET /runs/{id}/stream``, and a create's own stream, which starts with the run) or a
reply's stream, which starts wherever the run was when the reply arrived. ``offset`` is the
position of its first frame; ``next`` the position of the next frame it will bring. Only
frames that are part of the run count: heartbeats (``keep-alive``, ``ping``), the
``replay_complete`` marker, ``[DONE]`` and frames that are not JSON objects never do, since
a replay would not hold them.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import AsyncIterator

import anyio
import httpx

from ..core.exceptions import DecodeError
from ..wire.sse import SSEDecoder, SSEFrame
from .dialect import CONTROL_TYPES
from .events import M8tesEvent, UnknownEvent, parse_frame

__all__ = ["DONE", "Connection"]

logger = logging.getLogger("agentflow.transport")

DONE = b"[DONE]"
"""The data of the literal end-of-stream marker."""


def _kept(data: bytes) -> M8tesEvent | None:
    """A JSON object with a string ``type`` as an :class:`UnknownEvent`, else ``None``."""
    try:
        obj = json.loads(data)
    except ValueError:
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        return None
    return UnknownEvent.model_validate(obj)


class Connection:
    """The frames of one response (see the module docstring)."""

    __slots__ = ("_chunks", "_decoder", "_frames", "done", "next", "offset", "response", "run_id")

    def __init__(
        self, response: httpx.Response, run_id: int, offset: int, max_frame_bytes: int
    ) -> None:
        self.response = response
        self.run_id = run_id
        self.offset = offset
        self.next = offset
        self.done = False
        """``[DONE]`` arrived: the server ended this stream at the end of a turn."""
        self._chunks: AsyncIterator[bytes] = response.aiter_bytes()
        self._decoder = SSEDecoder(max_frame_bytes)
        self._frames: deque[SSEFrame] = deque()

    def take(self) -> tuple[int, bytes, M8tesEvent] | None:
        """The next frame of the run among those already read: ``(position, data, event)``,
        or ``None`` when more bytes are needed (:meth:`fill`)."""
        frames = self._frames
        while frames:
            frame = frames.popleft()
            data = frame.data
            if frame.error is not None:
                # Too large to keep: it is still one of the run's frames, so it holds its
                # position (the next replay holds it too), but it cannot be delivered.
                logger.warning("run %s: frame %d dropped: %s", self.run_id, self.next, frame.error)
                self.next += 1
                continue
            if data == DONE:
                self.done = True
                continue
            try:
                event = parse_frame(data)
            except DecodeError as exc:
                found = _kept(data)
                if found is None:
                    # The SDK's rule: a frame that is not a JSON object is logged and skipped.
                    # It is no frame of the run's history, so it takes no position.
                    logger.warning("run %s: skipped an undecodable frame: %s", self.run_id, exc)
                    continue
                # A known type with fields this version cannot read: still a frame of the
                # run (it holds its position), delivered as it is rather than lost.
                logger.warning("run %s: frame %d kept as unknown: %s", self.run_id, self.next, exc)
                event = found
            if event.type in CONTROL_TYPES:
                continue
            position = self.next
            self.next = position + 1
            return position, data, event
        return None

    async def fill(self) -> bool:
        """Read the next chunk; ``False`` at the end of the response.

        Raises httpx errors when the connection breaks (a read timeout included).
        """
        try:
            chunk = await self._chunks.__anext__()
        except StopAsyncIteration:
            return False
        self._frames.extend(self._decoder.feed(chunk))
        return True

    async def aclose(self) -> None:
        """Close the response (shielded: it also runs while a task is being cancelled)."""
        with anyio.CancelScope(shield=True):
            aclose = getattr(self._chunks, "aclose", None)
            if aclose is not None:
                await aclose()
            await self.response.aclose()
