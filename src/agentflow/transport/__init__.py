"""The Managed Agents wire: HTTP client, SSE decoding, the resilient stream and polling.

``ManagedAgentsClient`` is the entry point (also importable from ``agentflow``);
``client.events.stream(...)`` returns an :class:`EventStream`, ``client.events.poll(...)`` an
:class:`EventPoller`. :class:`SSEDecoder` is the I/O-free event-stream parser underneath.
"""

from __future__ import annotations

from ._backoff import Backoff, retry_after_seconds
from ._client import DEFAULT_BASE_URL, ManagedAgentsClient
from ._errors import FATAL_STREAM_ERRORS
from ._http import API_VERSION, BETA
from ._models import DeletedSession, Session
from ._poll import EventPoller
from ._resources import EventList, Events, SessionList, Sessions
from ._sse import DEFAULT_MAX_FRAME_BYTES, SSEDecoder, SSEFrame
from ._stream import EventStream

__all__ = [
    "API_VERSION",
    "BETA",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_FRAME_BYTES",
    "FATAL_STREAM_ERRORS",
    "Backoff",
    "DeletedSession",
    "EventList",
    "EventPoller",
    "EventStream",
    "Events",
    "ManagedAgentsClient",
    "SSEDecoder",
    "SSEFrame",
    "Session",
    "SessionList",
    "Sessions",
    "retry_after_seconds",
]
