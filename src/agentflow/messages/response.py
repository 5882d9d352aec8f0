"""One attempt at one streamed response: ``POST /v1/messages``, frames, typed events.

:func:`stream_response` opens the request, frames the body with agentflow's own SSE decoder
(frames are cut at newlines only, so a UTF-8 character split across reads is whole by the
time a frame is decoded), decodes each frame, feeds it to the :class:`MessageBuilder` and
yields the enriched event. It stops after ``message_stop``. Anything that means "this
response cannot be trusted, ask again" raises :class:`Failed` with whether a retry may help:

- an error status before the stream (retryable per the status and ``x-should-retry``);
- a transient ``error`` event (after it was yielded, so handlers see it);
- a broken or stalled connection, a frame that does not decode, or a body that ends before
  ``message_stop`` (never taken as a finished response).

A fatal ``error`` event (``invalid_request_error``, ...) is yielded and ends the response
normally: the dialect ends the turn with ``error``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

import httpx

from ..core.exceptions import AgentflowError, DecodeError, TransportError
from ..wire.errors import FATAL_STREAM_ERRORS, api_error, stream_error
from ..wire.http import should_retry, transport_error
from ..wire.sse import SSEDecoder
from .events.decode import parse_event

if TYPE_CHECKING:
    from ..core.events import Event
    from ..wire.http import HTTPCore
    from .builder import MessageBuilder

__all__ = ["PATH", "Failed", "stream_response"]

PATH = "/v1/messages"


class Failed(Exception):
    """A response attempt failed: ``error`` is what to raise if no retry follows."""

    def __init__(self, error: AgentflowError, *, retryable: bool, retry_after: float | None = None):
        super().__init__(str(error))
        self.error = error
        self.retryable = retryable
        self.retry_after = retry_after


async def _open(core: HTTPCore, content: bytes, read_timeout: float | None) -> httpx.Response:
    timeout = httpx.Timeout(
        connect=core.timeout.connect,
        read=read_timeout,
        write=core.timeout.write,
        pool=core.timeout.pool,
    )
    headers = {**core.headers, "content-type": "application/json"}
    request = core.http.build_request(
        "POST", core.url(PATH), content=content, headers=headers, timeout=timeout
    )
    try:
        response = await core.http.send(request, stream=True)
    except httpx.HTTPError as exc:
        raise Failed(transport_error(exc, f"POST {PATH}", core.redact), retryable=True) from exc
    status = response.status_code
    if status >= 400:
        try:
            body = await response.aread()
        except httpx.HTTPError:
            body = b""
        finally:
            await response.aclose()
        error = api_error(status, response.headers, body, core.redact)
        retry = should_retry(status, response.headers, "all")
        raise Failed(error, retryable=retry, retry_after=error.retry_after)
    return response


async def stream_response(
    core: HTTPCore, content: bytes, builder: MessageBuilder, *, read_timeout: float | None
) -> AsyncGenerator[Event, None]:
    """The events of one response attempt (see the module docstring)."""
    response = await _open(core, content, read_timeout)
    request_id = response.headers.get("request-id")
    decoder = SSEDecoder()
    add = builder.add
    try:
        try:
            async for chunk in response.aiter_bytes():
                for frame in decoder.feed(chunk):
                    if frame.error is not None:
                        raise Failed(DecodeError(frame.error), retryable=True)
                    if not frame.data:
                        continue  # an empty data field carries nothing (the SDK skips it too)
                    try:
                        event: Any = parse_event(frame.data)
                    except DecodeError as exc:
                        raise Failed(exc, retryable=True) from exc
                    add(event)
                    yield event
                    if builder.stopped:
                        return
                    if event.type == "error":
                        _after_error(frame.data, request_id, core)
                        return
        except httpx.HTTPError as exc:
            error = transport_error(exc, f"reading the POST {PATH} stream", core.redact)
            raise Failed(error, retryable=True) from exc
    finally:
        await response.aclose()
    kind = response.headers.get("content-type", "")
    what = "" if kind.startswith("text/event-stream") else f" (content-type {kind!r})"
    raise Failed(
        TransportError(f"the POST {PATH} stream ended before message_stop{what}"),
        retryable=True,
    )


def _after_error(data: bytes, request_id: str | None, core: HTTPCore) -> None:
    """After an ``error`` event was yielded: raise to retry, unless it is fatal."""
    error = stream_error(data, request_id, core.redact)
    if error.type not in FATAL_STREAM_ERRORS:
        raise Failed(error, retryable=True)
