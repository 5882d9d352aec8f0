"""agentflow: watch and steer AI agents through their event streams.

Decorate handlers for event types, register the custom tools an agent may call, install
confirmation policies as plugins, and run the app against a live agent session::

    from agentflow import App, ManagedAgentsClient

    app = App()

    @app.on("agent.message")
    def show(event):
        print(event.text)

    @app.tool
    def get_weather(city: str) -> str:
        "Current weather for a city."
        return f"Sunny in {city}"

    async def main(session_id: str) -> None:
        async with ManagedAgentsClient() as client:
            result = await app.run(client, session_id, send=["Weather in Paris?"])
            print(result.stop_reason, result.text)

The same App runs over every dialect (Managed Agents, the Messages API, Everruns, m8tes,
orxhestra): ``app.run(source, session, send=[...])``. Public names are imported lazily, so
``import agentflow`` stays cheap: no dialect, no HTTP client and no optional extra is
imported until used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .app import App
    from .core.actions.router import ActionsRouter
    from .core.answers import ToolReply
    from .core.channel import Channel, Source
    from .core.checkpoint import CheckpointStore, MemoryCheckpointStore, SqliteCheckpointStore
    from .core.context import Context
    from .core.dialect import Call, Dialect, Pause, TokenCount
    from .core.events import KINDS, Event
    from .core.exceptions import (
        AgentflowError,
        APIError,
        AuthenticationError,
        BadRequestError,
        ConflictError,
        DecodeError,
        DispatchError,
        NotFoundError,
        PermissionDeniedError,
        PluginError,
        PolicyError,
        RateLimitError,
        ServerError,
        SessionBusyError,
        SessionErrorRaised,
        StreamClosedError,
        StreamError,
        ToolError,
        TransportError,
        UnknownToolError,
    )
    from .core.known import UnknownEventTypeWarning
    from .core.path import EventPath
    from .core.results import RunResult, TokenUsage, ToolCallRecord
    from .core.routes import Router, StopPropagation
    from .core.verdicts import Allow, Decision, Deny, Verdict
    from .everruns.client import EverrunsClient
    from .m8tes.client import M8tesClient
    from .managed_agents.builders import (
        custom_tool_result,
        define_outcome,
        interrupt,
        system_message,
        tool_confirmation,
        tool_result,
        user_message,
    )
    from .managed_agents.client import ManagedAgentsClient
    from .managed_agents.events import UnknownEvent, parse_event
    from .messages.client import MessagesClient
    from .messages.conversation import Conversation
    from .plugins import hookimpl
    from .wire.backoff import Backoff

# public name -> module that defines it (relative to this package)
_EXPORTS: dict[str, str] = {
    "APIError": ".core.exceptions",
    "ActionsRouter": ".core.actions.router",
    "AgentflowError": ".core.exceptions",
    "Allow": ".core.verdicts",
    "App": ".app",
    "AuthenticationError": ".core.exceptions",
    "Backoff": ".wire.backoff",
    "BadRequestError": ".core.exceptions",
    "Call": ".core.dialect",
    "Channel": ".core.channel",
    "CheckpointStore": ".core.checkpoint",
    "ConflictError": ".core.exceptions",
    "Context": ".core.context",
    "Conversation": ".messages.conversation",
    "Decision": ".core.verdicts",
    "DecodeError": ".core.exceptions",
    "Deny": ".core.verdicts",
    "Dialect": ".core.dialect",
    "DispatchError": ".core.exceptions",
    "Event": ".core.events",
    "EventPath": ".core.path",
    "EverrunsClient": ".everruns.client",
    "KINDS": ".core.events",
    "M8tesClient": ".m8tes.client",
    "ManagedAgentsClient": ".managed_agents.client",
    "MemoryCheckpointStore": ".core.checkpoint",
    "MessagesClient": ".messages.client",
    "NotFoundError": ".core.exceptions",
    "Pause": ".core.dialect",
    "PermissionDeniedError": ".core.exceptions",
    "PluginError": ".core.exceptions",
    "PolicyError": ".core.exceptions",
    "RateLimitError": ".core.exceptions",
    "Router": ".core.routes",
    "RunResult": ".core.results",
    "ServerError": ".core.exceptions",
    "SessionBusyError": ".core.exceptions",
    "SessionErrorRaised": ".core.exceptions",
    "Source": ".core.channel",
    "SqliteCheckpointStore": ".core.checkpoint",
    "StopPropagation": ".core.routes",
    "StreamClosedError": ".core.exceptions",
    "StreamError": ".core.exceptions",
    "TokenCount": ".core.dialect",
    "TokenUsage": ".core.results",
    "ToolCallRecord": ".core.results",
    "ToolError": ".core.exceptions",
    "ToolReply": ".core.answers",
    "TransportError": ".core.exceptions",
    "UnknownEvent": ".managed_agents.events",
    "UnknownEventTypeWarning": ".core.known",
    "UnknownToolError": ".core.exceptions",
    "Verdict": ".core.verdicts",
    "custom_tool_result": ".managed_agents.builders",
    "define_outcome": ".managed_agents.builders",
    "hookimpl": ".plugins",
    "interrupt": ".managed_agents.builders",
    "parse_event": ".managed_agents.events",
    "system_message": ".managed_agents.builders",
    "tool_confirmation": ".managed_agents.builders",
    "tool_result": ".managed_agents.builders",
    "user_message": ".managed_agents.builders",
}

__all__ = [
    "APIError",
    "ActionsRouter",
    "AgentflowError",
    "Allow",
    "App",
    "AuthenticationError",
    "Backoff",
    "BadRequestError",
    "Call",
    "Channel",
    "CheckpointStore",
    "ConflictError",
    "Context",
    "Conversation",
    "Decision",
    "DecodeError",
    "Deny",
    "Dialect",
    "DispatchError",
    "Event",
    "EventPath",
    "EverrunsClient",
    "KINDS",
    "M8tesClient",
    "ManagedAgentsClient",
    "MemoryCheckpointStore",
    "MessagesClient",
    "NotFoundError",
    "Pause",
    "PermissionDeniedError",
    "PluginError",
    "PolicyError",
    "RateLimitError",
    "Router",
    "RunResult",
    "ServerError",
    "SessionBusyError",
    "SessionErrorRaised",
    "Source",
    "SqliteCheckpointStore",
    "StopPropagation",
    "StreamClosedError",
    "StreamError",
    "TokenCount",
    "TokenUsage",
    "ToolCallRecord",
    "ToolError",
    "ToolReply",
    "TransportError",
    "UnknownEvent",
    "UnknownEventTypeWarning",
    "UnknownToolError",
    "Verdict",
    "__version__",
    "custom_tool_result",
    "define_outcome",
    "hookimpl",
    "interrupt",
    "parse_event",
    "system_message",
    "tool_confirmation",
    "tool_result",
    "user_message",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentflow' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
