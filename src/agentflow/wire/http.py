"""The HTTP layer shared by every resource: headers, retries, error mapping, logging.

Retry policy (:meth:`HTTPCore.request`):

- ``"all"`` (reads, and writes that are safe to repeat): connection errors and timeouts,
  408, 409, 429 and 5xx, honouring ``x-should-retry`` (``false`` never retries, ``true``
  always does).
- ``"safe"`` (``events.send``, which has no idempotency key): only failures where the request
  surely was not processed: the connection could not be opened, a 429, or a response that
  says ``x-should-retry: true``. A read timeout or a 500 after the body was sent is raised.
- ``"none"``: a single attempt.

Delays come from :class:`~agentflow.transport.Backoff` with the client's injectable ``sleep``
and ``random``. 401, 403 and 404 are never retried under any policy.
"""

from __future__ import annotations

import logging
import os
import random as _random
import ssl
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal
from urllib.parse import quote

import anyio
import httpx

from .._version import __version__
from ..core.exceptions import APIError, AuthenticationError, TransportError
from .backoff import RETRYABLE_STATUSES, Backoff, Random, Sleep
from .errors import Redactor, api_error
from .pools import StreamPools

__all__ = ["HTTPCore", "RetryPolicy", "check_api_key", "key_and_url", "logger", "quote_id"]

logger = logging.getLogger("agentflow.transport")

RetryPolicy = Literal["all", "safe", "none"]

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_NEVER_RETRY = frozenset({400, 401, 403, 404})
KEEPALIVE = 8
"""Idle request connections kept (streams have pools of their own). httpcore 1.x walks
every idle connection once per idle connection whenever a request is assigned or returned,
so a large keep-alive pool costs more CPU under concurrency than the handshakes it saves:
100 session starts at once took 17 ms of CPU each with 100 kept, 9 ms with 20, and opening
5,000 ``app.serve`` streams 100 at a time (one history read each) took 2.3 ms of client CPU
per stream with 8 kept, 3.2 ms with 20 (``bench/streams.py``)."""


def key_and_url(
    api_key: str | None, base_url: str | None, *, key_env: str, url_env: str, default_url: str
) -> tuple[str, str]:
    """The API key and base URL a client uses: the arguments, else the environment variables
    ``key_env`` / ``url_env``, else (for the URL) ``default_url``. No key at all raises
    :class:`~agentflow.AuthenticationError` naming the variable."""
    key = api_key if api_key is not None else os.environ.get(key_env)
    if not key:
        raise AuthenticationError(
            f"No API key: pass api_key= or set the {key_env} environment variable"
        )
    return key, base_url or os.environ.get(url_env) or default_url


def quote_id(value: str, what: str = "session_id") -> str:
    """An id made safe for a URL path segment (and checked to be a non-empty string)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return quote(value, safe="")


def should_retry(status: int, headers: httpx.Headers, policy: RetryPolicy) -> bool:
    """Whether an error response may be retried under ``policy``."""
    if policy == "none" or status in _NEVER_RETRY:
        return False
    hint = headers.get("x-should-retry")
    if hint == "true":
        return True
    if hint == "false":
        return False
    if policy == "safe":
        return status == 429
    return status in RETRYABLE_STATUSES or status >= 500


def transport_error(exc: httpx.HTTPError, what: str, redact: Redactor) -> TransportError:
    """Wrap an httpx error in a :class:`TransportError` (the cause is kept as ``__cause__``)."""
    detail = redact(str(exc)) or "no detail"
    return TransportError(f"{what} failed: {type(exc).__name__}: {detail}")


def check_api_key(api_key: str, what: str = "API key") -> None:
    """Refuse a key that cannot be sent as given: empty, or with whitespace or control
    characters (a newline pasted with it, say). The message never contains the key."""
    if not isinstance(api_key, str) or not api_key:
        raise ValueError(f"the {what} is empty")
    if api_key != api_key.strip() or any(ch.isspace() or ord(ch) < 32 for ch in api_key):
        raise ValueError(
            f"the {what} contains whitespace or a control character (a trailing newline?); "
            "remove it and try again"
        )


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


class HTTPCore:
    """Owns (or borrows) the ``httpx.AsyncClient`` and performs requests with retries.

    ``headers`` are the wire's own (authorization, versions, ``accept``); ``default_headers``
    add to or override them. The API key is only used to redact it from every message.
    """

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        headers: Mapping[str, str],
        http_client: httpx.AsyncClient | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        backoff: Backoff | None = None,
        sleep: Sleep | None = None,
        random: Random | None = None,
        max_connections: int | None,
        default_headers: Mapping[str, str] | None,
    ) -> None:
        check_api_key(api_key)
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries!r}")
        self.base_url = base_url.rstrip("/")
        self.redact = Redactor(api_key)
        if timeout is None:
            # a borrowed client keeps its own timeouts; ours reads for up to a minute
            timeout = http_client.timeout if http_client else httpx.Timeout(60.0, connect=10.0)
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.max_retries = max_retries
        self.backoff = backoff or Backoff()
        self.sleep = sleep or anyio.sleep
        self.random = random or _random.random
        self.headers: dict[str, str] = {"user-agent": f"agentflow/{__version__}"}
        self.headers.update({k.lower(): v for k, v in headers.items()})
        if default_headers:
            self.headers.update({k.lower(): v for k, v in default_headers.items()})
        self.owns_client = http_client is None
        self._max_connections = max_connections
        # An owned client is built on first use: its TLS context alone costs more CPU than
        # the rest of a client's construction, and a program may never send a request.
        self._http = http_client
        # A borrowed client is used for everything, streams included (its transport, its
        # proxies); an owned one keeps streams in pools of their own (see wire.pools).
        self.streams: StreamPools | None = None
        if self.owns_client:
            stream_limits = httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=16, keepalive_expiry=30.0
            )

            def shard(verify: ssl.SSLContext) -> httpx.AsyncClient:
                return httpx.AsyncClient(timeout=self.timeout, limits=stream_limits, verify=verify)

            self.streams = StreamPools(shard)

    @property
    def http(self) -> httpx.AsyncClient:
        """The ``httpx.AsyncClient`` requests go through (ours is created on first use)."""
        http = self._http
        if http is None:
            # Every open stream holds a connection for its whole life, so a connection cap
            # only makes stream N+1 wait silently; no cap unless asked, and a pool timeout
            # that raises instead of hanging when there is one.
            limits = httpx.Limits(
                max_connections=self._max_connections,
                max_keepalive_connections=KEEPALIVE,
                keepalive_expiry=30.0,
            )
            verify = self.streams.tls() if self.streams is not None else True
            http = self._http = httpx.AsyncClient(
                timeout=self.timeout, limits=limits, verify=verify
            )
        return http

    def url(self, path: str) -> str:
        """The absolute URL of an API path such as ``/v1/sessions``."""
        return self.base_url + path

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        retry: RetryPolicy = "all",
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send a request and return the successful response (body read), retrying per policy.

        ``headers`` are added to the core's own for this request only (an idempotency key, a
        different ``accept``); every retry sends the same ones. Raises the typed
        :class:`~agentflow.APIError` subclass for an error status and
        :class:`~agentflow.TransportError` for a connection failure, once retries are spent.
        """
        url = self.url(path)
        sent = self.headers if not headers else {**self.headers, **_lower(headers)}
        attempt = 0
        while True:
            try:
                response = await self.http.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers=sent,
                    timeout=self.timeout,
                )
            except httpx.HTTPError as exc:
                retryable = retry == "all" or (retry == "safe" and isinstance(exc, _NOT_SENT))
                if not retryable or attempt >= self.max_retries:
                    # the full URL: a wrong base URL is the usual cause, so name it
                    raise transport_error(exc, f"{method} {url}", self.redact) from exc
                delay = self.backoff.delay(attempt, self.random)
                logger.debug(
                    "%s %s: %s; retry %d in %.3fs",
                    method, path, type(exc).__name__, attempt + 1, delay,
                )  # fmt: skip
            else:
                status = response.status_code
                if status < 400:
                    logger.debug("%s %s -> %d", method, path, status)
                    return response
                error = api_error(status, response.headers, response.content, self.redact)
                if attempt >= self.max_retries or not should_retry(status, response.headers, retry):
                    logger.debug("%s %s -> %d %s (not retried)", method, path, status, error.type)
                    raise error
                delay = self.backoff.delay(attempt, self.random, error.retry_after)
                logger.debug(
                    "%s %s -> %d %s; retry %d in %.3fs",
                    method, path, status, error.type, attempt + 1, delay,
                )  # fmt: skip
            attempt += 1
            await self.sleep(delay)

    async def open_stream(
        self,
        path: str,
        *,
        params: Any,
        read_timeout: float | None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Open an SSE response (one attempt): headers received, body not yet read.

        ``read_timeout`` is the longest silence allowed between two reads: the stale-connection
        detector (keep-alive comments count as bytes). ``headers`` are added to the core's own
        (``accept: text/event-stream``, say). Raises :class:`APIError` subclasses for error
        statuses and httpx errors for connection failures.
        """
        timeout = httpx.Timeout(
            connect=self.timeout.connect,
            read=read_timeout,
            write=self.timeout.write,
            pool=self.timeout.pool,
        )
        sent = self.headers if not headers else {**self.headers, **_lower(headers)}
        http = self.http if self.streams is None else self.streams.next()
        request = http.build_request(
            "GET", self.url(path), params=params, headers=sent, timeout=timeout
        )
        response = await http.send(request, stream=True)
        status = response.status_code
        if status >= 400:
            try:
                content = await response.aread()
            finally:
                await response.aclose()
            raise api_error(status, response.headers, content, self.redact)
        content_type = response.headers.get("content-type", "").partition(";")[0].strip()
        if content_type != "text/event-stream":
            await response.aclose()
            raise APIError(
                f"Expected content-type 'text/event-stream' from GET {path}, got {content_type!r}",
                status=status,
                request_id=response.headers.get("request-id"),
            )
        logger.debug("GET %s -> %d (stream open)", path, status)
        return response

    def describe(self, exc: BaseException | None, what: str) -> str:
        """A redacted one-line account of a failure (``what``: the attempted action)."""
        if exc is None:
            return "none"
        if isinstance(exc, httpx.HTTPError):
            return str(transport_error(exc, what, self.redact))
        return self.redact(f"{type(exc).__name__}: {exc}")

    @staticmethod
    def chunks(response: httpx.Response) -> AsyncIterator[bytes]:
        """The body of an open stream, chunk by chunk.

        A body without ``content-encoding`` is read straight from the response's byte
        stream: ``aiter_bytes`` would add a decoder, a chunker and two generator frames per
        open stream, all doing nothing (a suspended read holds them for the stream's life).
        Closing the response closes that stream.
        """
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding in ("", "identity") and isinstance(response.stream, httpx.AsyncByteStream):
            return response.stream.__aiter__()
        return response.aiter_bytes()

    async def aclose(self) -> None:
        """Close the HTTP client (and the stream pools) if this core created it."""
        if self.owns_client:
            if self.streams is not None:
                await self.streams.aclose()
            if self._http is not None:
                await self._http.aclose()
