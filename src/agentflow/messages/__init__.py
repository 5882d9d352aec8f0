"""The Claude Messages API: a streaming agent loop with the App's tools, policies and handlers.

::

    from agentflow import App
    from agentflow.messages import Conversation, MessagesClient

    app = App()

    @app.tool
    def get_shipping_status(order_id: str) -> str:
        "Where an order is."
        return "shipped yesterday, arriving Friday"

    @app.on(kind="tool.started")
    def show(event):
        print(f"running {event.tool_name}...")

    async with MessagesClient(model="claude-sonnet-4-5", max_tokens=1024) as client:
        conversation = Conversation.open("chat.json")
        result = await app.run(client, conversation, send=["Where is order A-1042?"])

- :mod:`~agentflow.messages.events`: one frozen model per stream event, ``parse_event``;
- :class:`MessagesDialect` (``MESSAGES``): what the events mean, for the core;
- :class:`Conversation`: the message list across turns and runs, saved as JSON;
- :class:`MessagesClient`: the source ``app.run`` follows a conversation through, and the
  :class:`MessagesChannel` that runs the loop.

Names are imported lazily: the events and the dialect need no HTTP client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .builder import MessageBuilder
    from .builders import text_block, tool_result, user_message
    from .channel import MessagesChannel
    from .client import API_VERSION, DEFAULT_BASE_URL, PARAMS, MessagesClient
    from .conversation import Conversation
    from .dialect import MESSAGES, MessagesDialect
    from .events import MessagesStreamEvent, UnknownEvent, parse_event
    from .partial import parse_partial

_EXPORTS: dict[str, str] = {
    "API_VERSION": ".client",
    "Conversation": ".conversation",
    "DEFAULT_BASE_URL": ".client",
    "MESSAGES": ".dialect",
    "MessageBuilder": ".builder",
    "MessagesChannel": ".channel",
    "MessagesClient": ".client",
    "MessagesDialect": ".dialect",
    "MessagesStreamEvent": ".events",
    "PARAMS": ".client",
    "UnknownEvent": ".events",
    "parse_event": ".events",
    "parse_partial": ".partial",
    "text_block": ".builders",
    "tool_result": ".builders",
    "user_message": ".builders",
}

__all__ = [
    "API_VERSION",
    "DEFAULT_BASE_URL",
    "MESSAGES",
    "PARAMS",
    "Conversation",
    "MessageBuilder",
    "MessagesChannel",
    "MessagesClient",
    "MessagesDialect",
    "MessagesStreamEvent",
    "UnknownEvent",
    "parse_event",
    "parse_partial",
    "text_block",
    "tool_result",
    "user_message",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
