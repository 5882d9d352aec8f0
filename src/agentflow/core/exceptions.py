"""The errors agentflow raises, all under :class:`AgentflowError`.

::

    AgentflowError
    ├── APIError                 the server answered with an error (status, type, request_id)
    │   ├── BadRequestError          400 invalid_request_error
    │   ├── AuthenticationError      401
    │   ├── PermissionDeniedError    403
    │   ├── NotFoundError            404
    │   ├── ConflictError            409
    │   ├── RateLimitError           429
    │   ├── ServerError              5xx (and 529 overloaded)
    │   └── StreamError              an ``event: error`` frame inside an open stream
    ├── TransportError           the connection failed, or the stream could not be resumed
    │   └── StreamClosedError        the stream ended for good (session terminated or deleted)
    ├── DecodeError              bad JSON, or a known event type with invalid fields
    ├── DispatchError            a handler or middleware raised; ``.event`` and ``__cause__`` set
    ├── PluginError              a confirmation policy or plugin misbehaved
    │   └── PolicyError              a policy raised while deciding
    ├── ToolError                a custom tool failed, or its registration is wrong
    │   └── UnknownToolError         no executor for a tool name
    ├── SessionBusyError         another live run holds the session (same checkpoint store)
    └── SessionErrorRaised       ``ErrorEscalation`` escalated an error event out of ``run``

Messages never contain an API key: they are built from status codes, error types, the
server's message and request ids only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .events import Event

__all__ = [
    "APIError",
    "AgentflowError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "DecodeError",
    "DispatchError",
    "NotFoundError",
    "PermissionDeniedError",
    "PluginError",
    "PolicyError",
    "RateLimitError",
    "ServerError",
    "SessionBusyError",
    "SessionErrorRaised",
    "StreamClosedError",
    "StreamError",
    "ToolError",
    "TransportError",
    "UnknownToolError",
]


class AgentflowError(Exception):
    """Base class of every error agentflow raises.

    An error raised out of ``app.run`` / ``app.serve`` carries what the run did until then
    in :attr:`run_result` (a partial :class:`~agentflow.RunResult`: the tool calls made, the
    replies stored, the counts), so no work is lost from view when a run fails.
    """

    run_result: Any = None
    """The partial ``RunResult`` of the run this error ended, when raised out of a run."""


class APIError(AgentflowError):
    """The server answered with an error.

    ``status`` is the HTTP status (200 for an ``event: error`` frame inside a stream),
    ``type`` the error type from the body (``"rate_limit_error"``, ``"overloaded_error"``, …),
    ``message`` the server's message and ``request_id`` the ``request-id`` response header.
    Match on ``type`` rather than on ``status``.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        type: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.type = type
        self.request_id = request_id
        self.body = body
        self.retry_after = retry_after
        super().__init__(message)

    def __str__(self) -> str:
        parts = [f"{self.type or 'error'}: {self.message}"]
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, type={self.type!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


class BadRequestError(APIError):
    """400: the request was rejected (``invalid_request_error``)."""


class AuthenticationError(APIError):
    """401: the API key is missing or wrong. Never retried."""


class PermissionDeniedError(APIError):
    """403: the key may not do this. Never retried."""


class NotFoundError(APIError):
    """404: no such session (or resource). Never retried."""


class ConflictError(APIError):
    """409: the request conflicts with the session's state."""


class RateLimitError(APIError):
    """429: slow down; ``retry_after`` holds the server's hint in seconds, if any."""


class ServerError(APIError):
    """5xx or 529: the server failed; retried with backoff."""


class StreamError(APIError):
    """An ``event: error`` frame arrived on an open stream; ``type`` says which error."""


class TransportError(AgentflowError):
    """The connection failed, or the stream could not be resumed within the retry budget."""


class StreamClosedError(TransportError):
    """The stream ended for good: the session was terminated or deleted."""


class DecodeError(AgentflowError):
    """A frame could not be decoded: bad JSON, or a known event type with invalid fields.

    ``event_type``, ``event_id`` and ``field`` name what was wrong where known; ``data`` holds
    the offending payload (truncated in the message, never in the attribute).
    """

    def __init__(
        self,
        message: str,
        *,
        event_type: str | None = None,
        event_id: str | None = None,
        field: str | None = None,
        data: bytes | str | None = None,
    ) -> None:
        self.event_type = event_type
        self.event_id = event_id
        self.field = field
        self.data = data
        super().__init__(message)


class DispatchError(AgentflowError):
    """A handler or middleware raised while handling ``event``; the original is ``__cause__``."""

    def __init__(self, message: str, *, event: Event | None = None) -> None:
        self.event = event
        super().__init__(message)


class PluginError(AgentflowError):
    """A plugin is malformed or misbehaved; the message names the plugin and the hook."""


class PolicyError(PluginError):
    """A confirmation policy raised while deciding; the call is denied."""


class ToolError(AgentflowError):
    """A custom tool failed, or a tool registration is invalid."""


class UnknownToolError(ToolError):
    """No executor is registered for a tool name."""


class SessionBusyError(AgentflowError):
    """Another live run holds the session in the same checkpoint store.

    ``app.run`` fails fast with it (``wait=True`` waits for the session instead), and a run
    that loses its lease (it stalled past the lease, and another run took the session over)
    ends with it. ``owner`` names the holder (``host:pid:token``); ``expires_at`` is when its
    lease runs out unless renewed (``time.time()`` seconds).
    """

    def __init__(
        self,
        message: str,
        *,
        session_id: str | None = None,
        owner: str | None = None,
        expires_at: float | None = None,
    ) -> None:
        self.session_id = session_id
        self.owner = owner
        self.expires_at = expires_at
        super().__init__(message)


class SessionErrorRaised(AgentflowError):
    """An error event (``kind == "error"``, e.g. ``session.error``) was escalated out of
    ``App.run`` by ``ErrorEscalation``.

    ``event`` is the error event; ``error_type`` and ``retry_status`` are copied from its
    ``error`` for matching.
    """

    def __init__(self, message: str, *, event: Event | None = None) -> None:
        self.event = event
        err = getattr(event, "error", None)
        self.error_type: str | None = getattr(err, "type", None)
        rs = getattr(err, "retry_status", None)
        self.retry_status: str | None = getattr(rs, "type", None)
        super().__init__(message)
