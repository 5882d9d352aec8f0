"""The m8tes calls on top of :class:`~agentflow.wire.HTTPCore`: idempotency keys, streams.

What the m8tes SDK does, and agentflow with it:

- every run-creating POST (``/runs/``, ``/runs/{id}/reply``) carries an ``Idempotency-Key``
  (minted per call unless given), and only such POSTs are retried after a timeout or a
  5xx: the server answers a repeat with the run the first attempt made (``Idempotent-Replay``);
- other POSTs (approve, answer, cancel) and PATCHes are retried only when the request surely
  never reached the server; reads are retried on connection errors, 408/409/429 and 5xx;
- a streaming POST answers with SSE, a replayed one with the run as JSON: the caller looks
  at :func:`is_replay`. ``X-Run-Id`` names the run before its first frame.

Errors are the typed :class:`~agentflow.APIError` subclasses; :func:`error_code` reads the
machine-readable reason (``run_not_active``, ``gate_resolved_otherwise``, ...) from the v2
envelope. The API key never appears in a message.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Literal

import httpx

from ..core.exceptions import APIError
from ..wire.errors import api_error
from ..wire.http import HTTPCore, RetryPolicy, logger, should_retry, transport_error

__all__ = [
    "IDEMPOTENCY_HEADER",
    "REPLAY_HEADER",
    "RUN_ID_HEADER",
    "M8tesHTTP",
    "error_code",
    "is_replay",
    "new_key",
]

IDEMPOTENCY_HEADER = "idempotency-key"
REPLAY_HEADER = "idempotent-replay"
RUN_ID_HEADER = "x-run-id"

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

Method = Literal["GET", "POST", "PATCH", "DELETE"]


def new_key() -> str:
    """A fresh idempotency key (what the SDK mints: a UUID4)."""
    return str(uuid.uuid4())


def is_replay(response: httpx.Response) -> bool:
    """Whether a run-creating POST was answered from an earlier attempt (JSON, not SSE)."""
    return bool(response.headers.get(REPLAY_HEADER))


def error_code(exc: BaseException) -> str | None:
    """The v2 envelope's machine code of an API error (``error.error_code`` or
    ``error.details.error_code``), or ``None``."""
    body = getattr(exc, "body", None)
    err = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(err, Mapping):
        return None
    details = err.get("details")
    for value in (
        err.get("error_code"),
        details.get("error_code") if isinstance(details, Mapping) else None,
        err.get("code"),
    ):
        if isinstance(value, str):
            return value
    return None


class M8tesHTTP:
    """Requests and streams for one client (see the module docstring)."""

    def __init__(self, core: HTTPCore) -> None:
        self.core = core

    def _error(self, response: httpx.Response, content: bytes) -> APIError:
        error = api_error(response.status_code, response.headers, content, self.core.redact)
        if error.request_id is None:
            error.request_id = response.headers.get("x-request-id")
        return error

    async def request(
        self,
        method: Method,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        key: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> httpx.Response:
        """One call, retried per the module docstring (``retry`` overrides); ``key`` is the
        idempotency key of a run-creating POST. Returns the response with its body read."""
        return await self._send(method, path, json=json, params=params, key=key, retry=retry)

    async def open(
        self,
        method: Method,
        path: str,
        *,
        json: Any = None,
        key: str | None = None,
        read_timeout: float | None,
        retry: RetryPolicy | None = None,
    ) -> httpx.Response:
        """Open a streaming response: headers received, body unread (close it!).

        A ``GET`` stream is one attempt unless ``retry`` says otherwise (the run's stream
        owns its re-attaches); a run-creating POST is retried like :meth:`request`.
        """
        if retry is None and method == "GET":
            retry = "none"
        return await self._send(
            method, path, json=json, key=key, retry=retry, stream=True, read_timeout=read_timeout
        )

    async def _send(
        self,
        method: Method,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        key: str | None = None,
        retry: RetryPolicy | None = None,
        stream: bool = False,
        read_timeout: float | None = None,
    ) -> httpx.Response:
        core = self.core
        if retry is None:
            retry = "all" if method == "GET" or key is not None else "safe"
        headers = core.headers if key is None else {**core.headers, IDEMPOTENCY_HEADER: key}
        timeout = core.timeout
        if stream:
            timeout = httpx.Timeout(
                connect=timeout.connect, read=read_timeout, write=timeout.write, pool=timeout.pool
            )
        attempt = 0
        while True:
            request = core.http.build_request(
                method, core.url(path), params=params, json=json, headers=headers, timeout=timeout
            )
            try:
                response = await core.http.send(request, stream=stream)
            except httpx.HTTPError as exc:
                retryable = retry == "all" or (retry == "safe" and isinstance(exc, _NOT_SENT))
                if not retryable or attempt >= core.max_retries:
                    raise transport_error(exc, f"{method} {path}", core.redact) from exc
                delay = core.backoff.delay(attempt, core.random)
                logger.debug("%s %s: %s; retry in %.3fs", method, path, type(exc).__name__, delay)
            else:
                status = response.status_code
                if status < 400:
                    logger.debug("%s %s -> %d", method, path, status)
                    return response
                try:
                    content = await response.aread()
                finally:
                    await response.aclose()
                error = self._error(response, content)
                # A 409 is the run's state speaking (finished, or a gate decided otherwise),
                # never a hiccup worth repeating.
                retryable = status != 409 and should_retry(status, response.headers, retry)
                if attempt >= core.max_retries or not retryable:
                    raise error
                delay = core.backoff.delay(attempt, core.random, error.retry_after)
                logger.debug("%s %s -> %d; retry in %.3fs", method, path, status, delay)
            attempt += 1
            await core.sleep(delay)
