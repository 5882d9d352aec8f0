"""The SSE response every wire emulator streams with: keep-alives and the stream faults.

Frames render themselves (``event: <type>\\ndata: <json>\\n\\n`` by default, or the text
a dialect prepared); keep-alives are whatever the wire uses (``: keepalive\\n\\n`` comments by
default). The response is a raw ASGI callable so that ``drop`` can end the connection
abruptly (no final chunk), the way a broken proxy does.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import anyio
from starlette.responses import Response

from ._frames import Subscriber
from .faults import Faults

__all__ = ["SSEResponse", "quiet_abrupt_close"]

_BATCH = 256
_ABRUPT = "ASGI callable returned without completing response."
_WRITE_SIZE = 65536  # flush the frames gathered so far once they reach this many characters


class _AbruptCloseFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _ABRUPT


_FILTER = _AbruptCloseFilter()


def quiet_abrupt_close() -> None:
    """Keep uvicorn from logging the connections the ``drop_every`` fault cuts on purpose."""
    logger = logging.getLogger("uvicorn.error")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)


def error_frame(error_type: str, message: str) -> str:
    """The JSON data of an ``event: error`` frame."""
    return json.dumps({"type": "error", "error": {"type": error_type, "message": message}})


class SSEResponse(Response):
    """Streams one :class:`Subscriber`'s frames, applying ``faults`` per connection."""

    media_type = "text/event-stream"

    def __init__(
        self,
        subscriber: Subscriber,
        faults: Faults,
        on_close: Callable[[], None],
        *,
        keepalive: bytes = b": keepalive\n\n",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.subscriber = subscriber
        self.faults = faults
        self.on_close = on_close
        self.keepalive = keepalive
        self.status_code = 200
        self.background = None
        self.init_headers({"cache-control": "no-cache", **(headers or {})})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        complete = False
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async with anyio.create_task_group() as tg:

                async def watch_disconnect() -> None:
                    while True:
                        message = await receive()
                        if message["type"] == "http.disconnect":
                            tg.cancel_scope.cancel()
                            return

                tg.start_soon(watch_disconnect)
                complete = await self._pump(send)
                tg.cancel_scope.cancel()
            if complete:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # the client went away mid-write
            pass
        finally:
            self.on_close()

    async def _pump(self, send: Any) -> bool:
        """Send frames until the stream closes; False means "drop the connection".

        Frames already queued are written together (up to ~64 KiB per write), so a backlog
        goes out at socket speed instead of one write per event; the faults still count
        single event frames, and whatever precedes a stall, drop or close is written first.
        """
        faults = self.faults
        sub = self.subscriber
        stalled = False
        out: list[str] = []
        size = 0
        while True:
            if out and (not sub.frames or size >= _WRITE_SIZE):
                await _body(send, "".join(out).encode())
                out.clear()
                size = 0
            frame = await sub.next(faults.keepalive_seconds)
            if frame is None:  # nothing queued for a while (so nothing is pending in ``out``)
                await _body(send, self.keepalive)
                continue
            if out and frame.kind != "event" and frame.kind != "preview":
                await _body(send, "".join(out).encode())
                out.clear()
                size = 0
            if frame.kind == "close":
                return True
            if frame.kind == "drop":
                return False
            if frame.kind == "error":
                text = frame.text or f"event: error\ndata: {frame.data}\n\n"
                await _body(send, text.encode())
                return True
            if frame.kind == "raw":
                await _body(send, frame.text.encode())
                continue
            parts: list[str] = []
            stall = drop = False
            while True:  # batch the frames already queued into one write
                sub.sent += 1
                n = sub.sent
                raw = frame.render()
                if faults.malformed_every and n % faults.malformed_every == 0:
                    parts.append(frame.truncated())
                parts.append(raw)
                if faults.duplicate_every and n % faults.duplicate_every == 0:
                    parts.append(raw)
                stall = bool(faults.stall_after and n == faults.stall_after and not stalled)
                drop = bool(faults.drop_every and n % faults.drop_every == 0)
                if stall or drop or len(parts) >= _BATCH or not sub.frames:
                    break
                if sub.frames[0].kind not in ("event", "preview"):
                    break
                frame = sub.frames.popleft()
            await _body(send, "".join(parts).encode())
            if stall:
                stalled = True
                with anyio.move_on_after(faults.stall_seconds):
                    await sub.closed.wait()  # a shutdown still ends the stall at once
            if drop:
                return False


async def _body(send: Any, data: bytes) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": True})
