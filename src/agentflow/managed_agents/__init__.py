"""Claude Managed Agents: the first dialect, and the one agentflow started with.

- :mod:`~agentflow.managed_agents.events`: one frozen model per event type, ``parse_event``;
- :mod:`~agentflow.managed_agents.builders`: what a client sends (``user_message``, ...);
- :class:`ManagedAgentsDialect` (``MANAGED_AGENTS``): what the events mean, for the core;
- :class:`ManagedAgentsClient`: sessions, events, the resilient stream and polling, and the
  :class:`ManagedAgentsChannel` ``app.run`` follows a session through.

Names are imported lazily: the events and the dialect need no HTTP client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..wire.backoff import Backoff, retry_after_seconds
    from ..wire.errors import FATAL_STREAM_ERRORS
    from ..wire.sse import DEFAULT_MAX_FRAME_BYTES, SSEDecoder, SSEFrame
    from .builders import (
        custom_tool_result,
        define_outcome,
        interrupt,
        system_message,
        tool_confirmation,
        tool_result,
        user_message,
    )
    from .channel import ManagedAgentsChannel
    from .client import API_VERSION, BETA, DEFAULT_BASE_URL, ManagedAgentsClient
    from .dialect import MANAGED_AGENTS, ManagedAgentsDialect, needs_confirmation
    from .events import ManagedAgentsEvent, UnknownEvent, parse_event
    from .models import DeletedSession, Session
    from .poll import EventPoller
    from .resources import EventList, Events, SessionList, Sessions
    from .router import RequiresActionRouter
    from .stream import EventStream

_EXPORTS: dict[str, str] = {
    "API_VERSION": ".client",
    "BETA": ".client",
    "Backoff": "..wire.backoff",
    "DEFAULT_BASE_URL": ".client",
    "DEFAULT_MAX_FRAME_BYTES": "..wire.sse",
    "DeletedSession": ".models",
    "EventList": ".resources",
    "EventPoller": ".poll",
    "EventStream": ".stream",
    "Events": ".resources",
    "FATAL_STREAM_ERRORS": "..wire.errors",
    "MANAGED_AGENTS": ".dialect",
    "ManagedAgentsChannel": ".channel",
    "ManagedAgentsClient": ".client",
    "ManagedAgentsDialect": ".dialect",
    "ManagedAgentsEvent": ".events",
    "RequiresActionRouter": ".router",
    "SSEDecoder": "..wire.sse",
    "SSEFrame": "..wire.sse",
    "Session": ".models",
    "SessionList": ".resources",
    "Sessions": ".resources",
    "UnknownEvent": ".events",
    "custom_tool_result": ".builders",
    "define_outcome": ".builders",
    "interrupt": ".builders",
    "needs_confirmation": ".dialect",
    "parse_event": ".events",
    "retry_after_seconds": "..wire.backoff",
    "system_message": ".builders",
    "tool_confirmation": ".builders",
    "tool_result": ".builders",
    "user_message": ".builders",
}

__all__ = [
    "API_VERSION",
    "BETA",
    "Backoff",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_FRAME_BYTES",
    "DeletedSession",
    "EventList",
    "EventPoller",
    "EventStream",
    "Events",
    "FATAL_STREAM_ERRORS",
    "MANAGED_AGENTS",
    "ManagedAgentsChannel",
    "ManagedAgentsClient",
    "ManagedAgentsDialect",
    "ManagedAgentsEvent",
    "RequiresActionRouter",
    "SSEDecoder",
    "SSEFrame",
    "Session",
    "SessionList",
    "Sessions",
    "UnknownEvent",
    "custom_tool_result",
    "define_outcome",
    "interrupt",
    "needs_confirmation",
    "parse_event",
    "retry_after_seconds",
    "system_message",
    "tool_confirmation",
    "tool_result",
    "user_message",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentflow.managed_agents' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
