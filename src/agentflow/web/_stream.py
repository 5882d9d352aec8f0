"""The SSE response of one browser connection: writes a :class:`Cursor`'s messages.

Messages already waiting are written together (one write per batch), a comment line goes
out after ``heartbeat`` seconds of silence so proxies and browsers keep the connection, and
the stream ends cleanly after ``relay.end``. When the relay cuts a connection that fell too
far behind, the write in progress is cancelled; the browser's ``EventSource`` then reconnects
with ``Last-Event-ID`` on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio

from ._channel import Cursor, Message

__all__ = ["RelayStream"]

_BATCH = 256
_HEARTBEAT = b": heartbeat\n\n"
_FINAL_WRITE = 1.0  # seconds a cut connection gets to take its closing chunk


class RelayStream:
    """A raw ASGI response streaming ``cursor`` (so a stalled write can be abandoned)."""

    def __init__(
        self,
        cursor: Cursor,
        notices: list[Message],
        *,
        heartbeat: float,
        coalesce_at: int,
        retry_ms: int,
        headers: list[tuple[bytes, bytes]],
        on_close: Callable[[Cursor], None],
    ) -> None:
        self.cursor = cursor
        self.notices = notices
        self.heartbeat = heartbeat
        self.coalesce_at = coalesce_at
        self.retry_ms = retry_ms
        self.headers = headers
        self.on_close = on_close

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        cursor = self.cursor
        complete = False
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.headers})
            first = [f"retry: {self.retry_ms}\n\n".encode(), *(n.body() for n in self.notices)]
            await _body(send, b"".join(first))
            async with anyio.create_task_group() as tg:
                cursor.scope = tg.cancel_scope
                if cursor.lagged:  # cut before the scope existed
                    tg.cancel_scope.cancel()

                async def watch_disconnect() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    cursor.closed = True
                    tg.cancel_scope.cancel()

                tg.start_soon(watch_disconnect)
                complete = await self._pump(send)
                tg.cancel_scope.cancel()
            if complete or cursor.lagged:
                with anyio.move_on_after(_FINAL_WRITE):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # the browser went away mid-write
            pass
        finally:
            cursor.closed = True
            self.on_close(cursor)

    async def _pump(self, send: Any) -> bool:
        """Write messages until the stream ends; True when it ended cleanly."""
        cursor = self.cursor
        while True:
            batch = cursor.take(_BATCH, self.coalesce_at)
            if batch:
                await _body(send, b"".join(m.body() for m in batch))
                cursor.advance(batch[-1].seq)
                if batch[-1].name == "relay.end":
                    return True
                continue
            if cursor.closed:
                return True
            if not await cursor.wait(self.heartbeat):
                await _body(send, _HEARTBEAT)


async def _body(send: Any, data: bytes) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": True})
