"""The Managed Agents client and its stream, under their earlier name.

Everything here now lives in :mod:`agentflow.managed_agents` (the client, the stream and the
poller) and :mod:`agentflow.wire` (SSE framing, backoff); this module keeps the old import
path working.
"""

from __future__ import annotations

from ..managed_agents.client import API_VERSION, BETA, DEFAULT_BASE_URL, ManagedAgentsClient
from ..managed_agents.models import DeletedSession, Session
from ..managed_agents.poll import EventPoller
from ..managed_agents.resources import EventList, Events, SessionList, Sessions
from ..managed_agents.stream import EventStream
from ..wire.backoff import Backoff, retry_after_seconds
from ..wire.errors import FATAL_STREAM_ERRORS
from ..wire.sse import DEFAULT_MAX_FRAME_BYTES, SSEDecoder, SSEFrame

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
