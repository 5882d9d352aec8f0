"""The App's tools as Everruns ``client_side`` tool definitions, for creating a session.

::

    session = await client.sessions.create(title="support", tools=tool_definitions(app))

The platform then pauses the turn with ``tool.call_requested`` whenever the agent calls one
of them, and ``app.run`` runs it (policies first for ``confirm=True`` tools) and posts the
result.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["tool_definitions"]


def tool_definitions(app_or_tools: Any) -> list[dict[str, Any]]:
    """``[{"type": "client_side", "name", "description", "parameters"}]`` for every tool.

    Takes an :class:`~agentflow.App` (its ``app.tools``), a tool registry, or an iterable of
    tools (anything with ``name``, ``description`` and ``input_schema``).
    """
    tools: Iterable[Any] = getattr(app_or_tools, "tools", app_or_tools)
    return [
        {
            "type": "client_side",
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.input_schema,
        }
        for tool in tools
    ]
