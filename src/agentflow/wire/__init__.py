"""The wire: what every HTTP + SSE dialect shares, with no knowledge of any dialect.

:class:`SSEDecoder` frames a byte stream into server-sent messages (no I/O);
:class:`Backoff` times retries (full jitter, ``retry-after``); :class:`HTTPCore` sends
requests with retries, typed errors and redaction of the API key.
"""

from __future__ import annotations

from .backoff import RETRYABLE_STATUSES, Backoff, Random, Sleep, retry_after_seconds
from .errors import FATAL_STREAM_ERRORS, Redactor, api_error, is_transient, stream_error
from .http import HTTPCore, RetryPolicy, check_api_key, quote_id, transport_error
from .sse import DEFAULT_MAX_FRAME_BYTES, SSEDecoder, SSEFrame

__all__ = [
    "DEFAULT_MAX_FRAME_BYTES",
    "FATAL_STREAM_ERRORS",
    "RETRYABLE_STATUSES",
    "Backoff",
    "HTTPCore",
    "Random",
    "Redactor",
    "RetryPolicy",
    "SSEDecoder",
    "SSEFrame",
    "Sleep",
    "api_error",
    "check_api_key",
    "is_transient",
    "quote_id",
    "retry_after_seconds",
    "stream_error",
    "transport_error",
]
