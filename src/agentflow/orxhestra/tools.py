"""agentflow tools (what ``@app.tool`` registers) as tools an orxhestra agent can call.

The agent's model sees the tool's name, description and JSON schema. A call runs
:meth:`agentflow.tools.Tool.call`, which validates the input with pydantic, runs the function
and never raises; its :class:`~agentflow.tools.ToolReply` becomes the tool response:

==========================  ===============================================================
the reply                   what orxhestra records
==========================  ===============================================================
ok                          ``result``: the text blocks joined by blank lines (other
                            blocks as JSON)
``is_error`` (raised,       ``error``: the same text (``"ValueError: ..."``,
timed out, invalid input)   ``"invalid input for tool 'f': ..."``); the model reads it
==========================  ===============================================================

``context(call)`` gives the tool its ``ctx`` (``None`` by default). An
:class:`AgentflowTool` runs the function where the agent calls it, outside any run. A
:class:`RoutedTool` (what :class:`~agentflow.orxhestra.OrxhestraSource` gives the agent with
``app_tools=True``) hands the call to ``route(call)`` instead: the source has the actions
router of the run following the session answer it, so the call is claimed in the
checkpoint, ``confirm=True`` asks the policies first (a deny is the tool's error response,
and the function never runs), and the call is recorded in ``RunResult.tool_calls``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeAlias

from langchain_core.tools import BaseTool, ToolException

from ..core.context import Context
from ..core.exceptions import ToolError
from ..tools import Tool, ToolReply
from ._calls import ToolCall, remember_context, tool_call_scope

__all__ = [
    "AgentflowTool",
    "ContextFor",
    "Route",
    "RoutedTool",
    "ToolFailed",
    "adapt_tools",
    "reply_text",
]

ContextFor: TypeAlias = Callable[[ToolCall], Context | None]
"""Which agentflow ``ctx`` a call's tool function receives (``None`` when it has none)."""

Route: TypeAlias = Callable[[ToolCall], Awaitable[ToolReply]]
"""``async def route(call) -> ToolReply``: have the call answered by a run."""


class ToolFailed(ToolError):
    """An agentflow tool's reply was an error; ``str(exc)`` is the reply text."""


def reply_text(reply: ToolReply) -> str:
    """The text of a reply: text blocks as they are, any other block as JSON."""
    parts = [
        str(block.get("text", "")) if block.get("type") == "text" else json.dumps(block)
        for block in reply.content
    ]
    return "\n\n".join(parts)


def _no_context(call: ToolCall) -> Context | None:
    return None


class AgentflowTool(BaseTool):
    """One agentflow :class:`~agentflow.tools.Tool` as a LangChain tool for orxhestra."""

    tool: Tool
    context: ContextFor = _no_context

    def __init__(self, tool: Tool, *, context: ContextFor | None = None, **fields: Any) -> None:
        super().__init__(
            name=tool.name,
            description=tool.description,
            # A JSON schema dict: LangChain hands the input over unparsed, so agentflow's
            # own pydantic validation (with its error messages) is the only one.
            args_schema=tool.input_schema,
            tool=tool,
            context=context or _no_context,
            **fields,
        )

    def inject_context(self, ctx: Any) -> None:
        """Called by orxhestra before each call: remember which invocation it belongs to."""
        remember_context(ctx)

    async def _arun(self, /, *args: Any, **kwargs: Any) -> str:
        # Positional-only ``self`` and no named parameters: every key of the input, even
        # ``self`` or ``run_manager``, reaches the tool as given.
        tool_input: dict[str, Any] = kwargs if not args else {"input": args[0]}
        with tool_call_scope(self.name, tool_input) as call:
            reply = await self.reply(call, tool_input)
        if reply.is_error:
            raise ToolFailed(reply_text(reply))
        return reply_text(reply)

    async def reply(self, call: ToolCall, tool_input: dict[str, Any]) -> ToolReply:
        """Run the tool for ``call`` (subclasses may have it run elsewhere)."""
        return await self.tool.call(tool_input, self.context(call))

    def _run(self, *args: Any, **kwargs: Any) -> Any:
        raise ToolException(f"agentflow tool {self.name!r} runs only asynchronously (ainvoke)")


def adapt_tools(tools: Iterable[Tool], *, context: ContextFor | None = None) -> list[BaseTool]:
    """Each agentflow tool (an ``app.tools`` registry, or a list) as an orxhestra tool."""
    return [AgentflowTool(tool, context=context) for tool in tools]


class RoutedTool(AgentflowTool):
    """An agentflow tool the agent calls and ``route`` answers (see the module docstring)."""

    route: Route

    def __init__(self, tool: Tool, route: Route) -> None:
        super().__init__(tool, route=route)

    async def reply(self, call: ToolCall, tool_input: dict[str, Any]) -> ToolReply:
        """The reply of ``route`` (which validates the input the call announced)."""
        return await self.route(call)
