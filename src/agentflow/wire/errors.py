"""Turning error responses and ``event: error`` frames into typed exceptions.

Error bodies are read in the shapes the wires use: Anthropic's envelope
``{"type": "error", "error": {"type", "message"}}``, ``{"error": "message", "error_code"}``
(m8tes), ``{"error": {"code", "message"}}`` and ``{"detail": ...}`` / ``{"message": ...}``.

Every message is passed through a :class:`Redactor` first, so an API key that a server (or a
proxy) echoes back in an error body never reaches an exception, a log line or a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

import httpx

from ..core.exceptions import (
    AgentflowError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DecodeError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    StreamError,
    TransportError,
)
from .backoff import retry_after_seconds

__all__ = ["FATAL_STREAM_ERRORS", "Redactor", "api_error", "is_transient", "stream_error"]

_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}

FATAL_STREAM_ERRORS = frozenset(
    {
        "authentication_error",
        "permission_error",
        "not_found_error",
        "invalid_request_error",
        "billing_error",
        "request_too_large",
    }
)
"""``event: error`` types that end a stream. Any other type (``overloaded_error``,
``api_error``, ``rate_limit_error``, ``timeout_error`` and types this version does not know)
is transient: the stream reconnects with backoff and reconciles, within its attempt limit."""


E = TypeVar("E", bound=BaseException)


class Redactor:
    """Replaces a secret with ``[redacted]`` in text (a no-op when there is no secret)."""

    __slots__ = ("_secret",)

    def __init__(self, secret: str | None) -> None:
        # very short "keys" would blank out ordinary words; real keys are long
        self._secret = secret if secret and len(secret) >= 8 else None

    def __call__(self, text: str) -> str:
        if self._secret is not None and self._secret in text:
            return text.replace(self._secret, "[redacted]")
        return text

    def deep(self, value: Any) -> Any:
        """``value`` with the secret replaced in every string (and bytes) inside it: for
        payloads kept on exceptions (``APIError.body``, ``DecodeError.data``)."""
        secret = self._secret
        if secret is None or value is None:
            return value
        if isinstance(value, str):
            return self(value)
        if isinstance(value, (bytes, bytearray)):
            raw = secret.encode()
            return bytes(value).replace(raw, b"[redacted]") if raw in value else value
        if isinstance(value, Mapping):
            return {self.deep(k): self.deep(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.deep(v) for v in value]
        return value

    def scrub(self, exc: E) -> E:
        """Remove the secret from ``exc`` in place: its message, its payload attributes and
        its chain of causes. A foreign cause that shows the secret (a pydantic error quoting
        its input, say) is cut off; agentflow errors in the chain are scrubbed too."""
        if self._secret is None:
            return exc
        current: BaseException | None = exc
        while current is not None:
            current.args = tuple(self.deep(a) for a in current.args)
            if isinstance(current, APIError):
                current.message = self(current.message)
                current.body = self.deep(current.body)
            if isinstance(current, DecodeError):
                current.data = self.deep(current.data)
                current.event_id = self.deep(current.event_id)
                current.event_type = self.deep(current.event_type)
                current.field = self.deep(current.field)
            cause = current.__cause__ or (
                None if current.__suppress_context__ else current.__context__
            )
            if cause is not None and not isinstance(cause, AgentflowError):
                if self._secret in f"{cause!s}{cause!r}":
                    current.__cause__ = current.__context__ = None
                    current.__suppress_context__ = True
                    break
            current = cause if isinstance(cause, AgentflowError) else None
        return exc

    def __repr__(self) -> str:
        return "Redactor(<hidden>)"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _error_fields(body: Any) -> tuple[str | None, str | None]:
    """``(type, message)`` from an error body in any of the shapes the module doc lists."""
    if not isinstance(body, Mapping):
        return None, None
    err = body.get("error")
    if isinstance(err, Mapping):
        etype = _text(err.get("type")) or _text(err.get("code"))
        return etype, _text(err.get("message"))
    if isinstance(err, str):
        return _text(body.get("error_code")) or _text(body.get("code")), err
    detail = body.get("detail")
    if isinstance(detail, str):
        return _text(body.get("code")), detail
    return _text(body.get("code")), _text(body.get("message"))


def _load(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except ValueError:
        return None


def api_error(
    status: int, headers: Mapping[str, str], content: bytes, redact: Redactor
) -> APIError:
    """The typed :class:`APIError` for an HTTP error response."""
    body = _load(content)
    etype, message = _error_fields(body)
    if message is None:
        text = content[:500].decode("utf-8", "replace").strip()
        message = text or f"HTTP {status}"
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else APIError)
    return cls(
        redact(message),
        status=status,
        type=etype,
        request_id=headers.get("request-id"),
        body=redact.deep(body),
        retry_after=retry_after_seconds(headers),
    )


def stream_error(data: bytes, request_id: str | None, redact: Redactor) -> StreamError:
    """The :class:`StreamError` for the data of an ``event: error`` frame."""
    body = _load(data)
    etype, message = _error_fields(body)
    if etype is None and isinstance(body, Mapping) and isinstance(body.get("type"), str):
        etype = body["type"] if body["type"] != "error" else None
    if message is None:
        message = "the server sent an error event"
    return StreamError(
        redact(message), status=200, type=etype, request_id=request_id, body=redact.deep(body)
    )


def is_transient(exc: BaseException) -> bool:
    """Whether a failure is worth a retry: connection trouble, 408/409/429/5xx, a transient
    ``event: error``, or an undecodable history page."""
    if isinstance(exc, StreamError):
        return exc.type not in FATAL_STREAM_ERRORS
    if isinstance(exc, DecodeError):  # a garbled page (single bad events are skipped)
        return True
    if isinstance(exc, (RateLimitError, ServerError, ConflictError)):
        return True
    if isinstance(exc, APIError):
        return exc.status == 408
    return isinstance(exc, (TransportError, httpx.HTTPError))
