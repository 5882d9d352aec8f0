"""Everruns sessions: resumable streams, client-side tools, approvals and questions.

- :mod:`~agentflow.everruns.events`: one frozen model per event type, ``parse_event``;
- :mod:`~agentflow.everruns.builders`: what a client sends (``user_message``, ...);
- :class:`EverrunsDialect` (``EVERRUNS``): what the events mean, for the core;
- :class:`EverrunsClient`: sessions, messages, events, the resilient
  :class:`EverrunsStream`, and the :class:`EverrunsChannel` ``app.run`` follows a session
  through;
- :func:`tool_definitions`: the App's tools as ``client_side`` definitions.

::

    from agentflow import App
    from agentflow.everruns import EverrunsClient

    async with EverrunsClient(agent_url=..., agent_key=...) as client:
        session = await client.sessions.create(tools=client.tool_definitions(app))
        result = await app.run(client, session.id, send=["Where is order 42?"])

Names are imported lazily: the events and the dialect need no HTTP client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .builders import question_answer, tool_approval, tool_result, user_message
    from .channel import STATUS_TYPES, EverrunsChannel
    from .client import DEFAULT_BASE_URL, EverrunsClient
    from .dialect import DECLINED_ANSWER, EVENT_TYPES, EVERRUNS, EverrunsDialect
    from .events import EverrunsEvent, InvalidEvent, UnknownEvent, parse_event
    from .models import Message, Session
    from .resources import Events, Messages, Sessions
    from .stats import StreamStats
    from .stream import EverrunsStream
    from .tools import tool_definitions

_EXPORTS: dict[str, str] = {
    "DECLINED_ANSWER": ".dialect",
    "DEFAULT_BASE_URL": ".client",
    "EVENT_TYPES": ".dialect",
    "EVERRUNS": ".dialect",
    "EverrunsChannel": ".channel",
    "EverrunsClient": ".client",
    "EverrunsDialect": ".dialect",
    "EverrunsEvent": ".events",
    "EverrunsStream": ".stream",
    "Events": ".resources",
    "InvalidEvent": ".events",
    "Message": ".models",
    "Messages": ".resources",
    "STATUS_TYPES": ".channel",
    "Session": ".models",
    "Sessions": ".resources",
    "StreamStats": ".stats",
    "UnknownEvent": ".events",
    "parse_event": ".events",
    "question_answer": ".builders",
    "tool_approval": ".builders",
    "tool_definitions": ".tools",
    "tool_result": ".builders",
    "user_message": ".builders",
}

__all__ = [
    "DECLINED_ANSWER",
    "DEFAULT_BASE_URL",
    "EVENT_TYPES",
    "EVERRUNS",
    "STATUS_TYPES",
    "EverrunsChannel",
    "EverrunsClient",
    "EverrunsDialect",
    "EverrunsEvent",
    "EverrunsStream",
    "Events",
    "InvalidEvent",
    "Message",
    "Messages",
    "Session",
    "Sessions",
    "StreamStats",
    "UnknownEvent",
    "parse_event",
    "question_answer",
    "tool_approval",
    "tool_definitions",
    "tool_result",
    "user_message",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentflow.everruns' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
