"""agentflow: watch and steer AI agents through their event streams.

Decorate handlers for event types, register the custom tools an agent may call, install
confirmation policies as plugins, and run the app against a live agent session::

    from agentflow import App, ManagedAgentsClient, user_message

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
            result = await app.run(client, session_id, send=[user_message("Weather in Paris?")])
            print(result.stop_reason, result.text)

Public names are imported lazily, so ``import agentflow`` stays cheap and optional extras
(the emulator, the terminal view) are only imported when used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from ._app import App
    from ._checkpoint import CheckpointStore, MemoryCheckpointStore, SqliteCheckpointStore
    from ._context import Context
    from ._dispatch import Router, StopPropagation
    from ._exceptions import (
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
        SessionErrorRaised,
        StreamClosedError,
        StreamError,
        ToolError,
        TransportError,
        UnknownToolError,
    )
    from ._run import RunResult, ToolCallRecord
    from .events import (
        Event,
        UnknownEvent,
        custom_tool_result,
        define_outcome,
        interrupt,
        parse_event,
        system_message,
        tool_confirmation,
        tool_result,
        user_message,
    )
    from .plugins import Allow, Deny, hookimpl
    from .transport import Backoff, ManagedAgentsClient

# public name -> module that defines it (relative to this package)
_EXPORTS: dict[str, str] = {
    "APIError": "._exceptions",
    "AgentflowError": "._exceptions",
    "Allow": ".plugins",
    "App": "._app",
    "AuthenticationError": "._exceptions",
    "BadRequestError": "._exceptions",
    "Backoff": ".transport",
    "CheckpointStore": "._checkpoint",
    "ConflictError": "._exceptions",
    "Context": "._context",
    "DecodeError": "._exceptions",
    "Deny": ".plugins",
    "DispatchError": "._exceptions",
    "Event": ".events",
    "ManagedAgentsClient": ".transport",
    "MemoryCheckpointStore": "._checkpoint",
    "NotFoundError": "._exceptions",
    "PermissionDeniedError": "._exceptions",
    "PluginError": "._exceptions",
    "PolicyError": "._exceptions",
    "RateLimitError": "._exceptions",
    "Router": "._dispatch",
    "RunResult": "._run",
    "ServerError": "._exceptions",
    "SessionErrorRaised": "._exceptions",
    "SqliteCheckpointStore": "._checkpoint",
    "StopPropagation": "._dispatch",
    "StreamClosedError": "._exceptions",
    "StreamError": "._exceptions",
    "ToolCallRecord": "._run",
    "ToolError": "._exceptions",
    "TransportError": "._exceptions",
    "UnknownEvent": ".events",
    "UnknownToolError": "._exceptions",
    "custom_tool_result": ".events",
    "define_outcome": ".events",
    "hookimpl": ".plugins",
    "interrupt": ".events",
    "parse_event": ".events",
    "system_message": ".events",
    "tool_confirmation": ".events",
    "tool_result": ".events",
    "user_message": ".events",
}

__all__ = [
    "APIError",
    "AgentflowError",
    "Allow",
    "App",
    "AuthenticationError",
    "Backoff",
    "BadRequestError",
    "CheckpointStore",
    "ConflictError",
    "Context",
    "DecodeError",
    "Deny",
    "DispatchError",
    "Event",
    "ManagedAgentsClient",
    "MemoryCheckpointStore",
    "NotFoundError",
    "PermissionDeniedError",
    "PluginError",
    "PolicyError",
    "RateLimitError",
    "Router",
    "RunResult",
    "ServerError",
    "SessionErrorRaised",
    "SqliteCheckpointStore",
    "StopPropagation",
    "StreamClosedError",
    "StreamError",
    "ToolCallRecord",
    "ToolError",
    "TransportError",
    "UnknownEvent",
    "UnknownToolError",
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
