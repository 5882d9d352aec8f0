"""One session's SSE connection for :class:`~agentflow.everruns.EverrunsStream`: opening it,
reading chunks with a stall detector, closing it, and counting failures for the backoff.

The rules (the stream's docstring states them for users): a connection that brings a new
event resets the failure count; one that ends without bringing any counts as a failure,
unless it was a ``disconnecting`` cycle after at least ``cycle_grace`` seconds; after
``max_attempts`` failures in a row the next open raises :class:`~agentflow.TransportError`.
A failure waits ``backoff.delay(failures)`` (full jitter, ``retry-after`` honoured), a
healthy cycle the server's ``retry_ms``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import anyio
import httpx

from ..core.exceptions import APIError, TransportError
from ..wire.backoff import Backoff
from ..wire.errors import is_transient
from ..wire.http import HTTPCore
from ..wire.sse import SSEDecoder, SSEFrame
from .stats import StreamStats
from .surface import SSE_HEADERS

__all__ = ["Connection"]

logger = logging.getLogger("agentflow.transport")

_MAX_RETRY_MS = 30_000


class Connection:
    """The stream's connection (see the module docstring)."""

    def __init__(
        self,
        core: HTTPCore,
        path: str,
        *,
        session_id: str,
        stale_after: float,
        max_attempts: int,
        backoff: Backoff,
        cycle_grace: float,
        max_frame_bytes: int,
        stats: StreamStats,
    ) -> None:
        self.core = core
        self.path = path
        self.session_id = session_id
        self.stale_after = stale_after
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.cycle_grace = cycle_grace
        self.max_frame_bytes = max_frame_bytes
        self.stats = stats
        self.failures = 0
        """Connections in a row that brought no new event."""
        self.progress = False
        """Whether the open connection brought a new event."""
        self.failure: BaseException | None = None
        self._wait: float | None = None
        self._opened_at = 0.0
        self._response: httpx.Response | None = None
        self._chunks: AsyncIterator[bytes] | None = None
        self._decoder = SSEDecoder(max_frame_bytes)

    @property
    def open(self) -> bool:
        """Whether a connection is open now."""
        return self._response is not None

    def brought_event(self) -> None:
        """The open connection delivered a new event: it is healthy."""
        self.progress = True
        self.failures = 0

    async def connect(self, params: list[tuple[str, str]]) -> None:
        """Open a connection (waiting first when a backoff or a cycle asks for it)."""
        while True:
            wait, self._wait = self._wait, None
            if self.failures >= self.max_attempts:
                raise TransportError(
                    f"the stream of session {self.session_id} brought no new event in "
                    f"{self.failures} connection attempts in a row; last error: "
                    f"{self.describe(self.failure)}"
                ) from self.failure
            if wait is not None:
                logger.debug("session %s: reconnecting in %.3fs", self.session_id, wait)
                await self.core.sleep(wait)
            if self.stats.connections:
                self.stats.reconnects += 1
            try:
                response = await self.core.open_stream(
                    self.path, params=params, read_timeout=self.stale_after, headers=SSE_HEADERS
                )
            except (APIError, httpx.HTTPError) as exc:
                if isinstance(exc, APIError) and not is_transient(exc):
                    raise  # 400/401/403/404 (or not a stream at all): no retry
                self._failed(exc)
                continue
            self.stats.connections += 1
            self._response = response
            self._chunks = response.aiter_bytes()
            self._decoder = SSEDecoder(self.max_frame_bytes)
            self._opened_at = time.monotonic()
            self.progress = False
            return

    async def read(self) -> list[SSEFrame] | None:
        """The frames of the next chunk; ``None`` when the connection ended (it is closed
        and the failure counted)."""
        assert self._chunks is not None
        try:
            # The read timeout is the stall detector; the guard covers a transport that
            # does not honour it on a streaming body.
            with anyio.fail_after(self.stale_after * 1.5 + 1.0):
                chunk = await self._chunks.__anext__()
        except StopAsyncIteration:
            await self.end(TransportError("the server ended the stream without disconnecting"))
            return None
        except (httpx.ReadTimeout, TimeoutError):
            self.stats.stalls += 1
            await self.end(TransportError(f"no bytes for {self.stale_after}s (stalled)"))
            return None
        except httpx.HTTPError as exc:
            self.stats.drops += 1
            await self.end(exc)
            return None
        return self._decoder.feed(chunk)

    async def end(self, cause: BaseException, *, cycle_ms: int | None = None) -> None:
        """Close the connection and decide how soon (and whether as a failure) to reconnect."""
        lived = time.monotonic() - self._opened_at
        await self.close()
        if cycle_ms is not None and (self.progress or lived >= self.cycle_grace):
            self.stats.cycles += 1
            self.progress = False
            self._wait = min(max(cycle_ms, 0), _MAX_RETRY_MS) / 1000.0
            return
        self._failed(cause)

    def _failed(self, cause: BaseException) -> None:
        self.failure = cause
        if not self.progress:
            self.failures += 1
        self.progress = False
        hint = getattr(cause, "retry_after", None)
        self._wait = self.backoff.delay(self.failures, self.core.random, hint)
        logger.debug("session %s: %s", self.session_id, self.describe(cause))

    async def close(self) -> None:
        """Close the open connection, if any (shielded: safe while being cancelled)."""
        chunks, response = self._chunks, self._response
        self._chunks = self._response = None
        with anyio.CancelScope(shield=True):
            if chunks is not None:
                aclose = getattr(chunks, "aclose", None)
                if aclose is not None:
                    await aclose()
            if response is not None:
                await response.aclose()

    def describe(self, exc: BaseException | None) -> str:
        """``Type: message`` of a failure, with the credential redacted."""
        if exc is None:
            return "none"
        return self.core.redact(f"{type(exc).__name__}: {exc}")
