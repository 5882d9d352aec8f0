"""The tool gate: a decision before every gated tool of an orxhestra agent runs.

orxhestra's own confirmation flag is not enforced (nothing reads it), so agentflow wraps the
tools themselves. A gated tool first awaits ``decide(call)``; :class:`~agentflow.plugins.Allow`
runs the tool unchanged, :class:`~agentflow.plugins.Deny` raises :class:`ToolDenied` instead,
which orxhestra turns into the call's tool response with ``error`` set to the deny message
(the message the model reads). The tool never runs. A ``decide`` that raises or answers
something else denies too: a gate that cannot decide stays shut.

::

    async def decide(call: ToolCall) -> Verdict:
        return Deny("No deletes.") if call.name == "delete_file" else Allow()

    gate_agent(runner.agent, decide)                 # every tool of the agent tree
    tools = gate_tools([search, delete_file], decide, names=["delete_file"])
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator, Sequence
from typing import Any, TypeAlias

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, ToolException

from ..core.exceptions import ToolError
from ..core.verdicts import Allow, Deny, Verdict
from ._calls import ToolCall, remember_context, tool_call_scope

__all__ = ["Decide", "GatedTool", "ToolDenied", "gate_agent", "gate_tools", "tool_registries"]

Decide: TypeAlias = Callable[[ToolCall], Awaitable[Verdict]]
"""``async def decide(call) -> Allow() | Deny(message)``, awaited before a gated tool runs."""


class ToolDenied(ToolError):
    """A gated tool call was refused; ``str(exc)`` is the deny message the agent receives."""


class GatedTool(BaseTool):
    """``inner`` behind a ``decide`` call: same name, description and input schema."""

    inner: BaseTool
    decide: Decide

    def __init__(self, inner: BaseTool, decide: Decide) -> None:
        if isinstance(inner, GatedTool):  # re-gating replaces the decision, never stacks
            inner = inner.inner
        super().__init__(
            name=inner.name,
            description=inner.description,
            args_schema=inner.args_schema,
            return_direct=inner.return_direct,
            inner=inner,
            decide=decide,
        )

    # orxhestra reads these flags off the tool to tag its tool-call parts.
    @property
    def interactive(self) -> bool:
        """Whether the wrapped tool asks the user (``human_input``)."""
        return bool(getattr(self.inner, "interactive", False))

    @property
    def require_confirmation(self) -> bool:
        """The wrapped tool's own (unenforced) confirmation flag."""
        return bool(getattr(self.inner, "require_confirmation", False))

    def inject_context(self, ctx: Any) -> None:
        """Called by orxhestra before each call: remember it, pass it on to the tool."""
        remember_context(ctx)
        inject = getattr(self.inner, "inject_context", None)
        if inject is not None:
            inject(ctx)

    async def ainvoke(
        self, input: str | dict[str, Any] | Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Any:
        """Decide, then run the wrapped tool with exactly this input (or raise ToolDenied)."""
        args, call_id = _split_input(input)
        with tool_call_scope(self.name, args, call_id=call_id) as call:
            verdict = await self._verdict(call)
            if isinstance(verdict, Deny):
                raise ToolDenied(verdict.message)
            return await self.inner.ainvoke(input, config, **kwargs)

    async def _verdict(self, call: ToolCall) -> Verdict:
        try:
            verdict = await self.decide(call)
        except Exception as exc:  # fail closed: an undecided call does not run
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return Deny(f"The tool call was not run: its confirmation check failed ({reason}).")
        if not isinstance(verdict, (Allow, Deny)):
            return Deny(
                f"The tool call was not run: its confirmation check returned {verdict!r}, "
                "expected Allow() or Deny(message)."
            )
        return verdict

    def _run(self, *args: Any, **kwargs: Any) -> Any:
        raise ToolException(f"gated tool {self.name!r} runs only asynchronously (ainvoke)")


def _split_input(value: Any) -> tuple[dict[str, Any], str | None]:
    if isinstance(value, dict) and value.get("type") == "tool_call" and "args" in value:
        return dict(value["args"]), value.get("id")  # a LangChain ToolCall
    if isinstance(value, dict):
        return dict(value), None
    return {"input": value}, None


def _selected(
    tools: Iterable[BaseTool], names: Collection[str] | None, exclude: Collection[str]
) -> Iterator[BaseTool]:
    for tool in tools:
        if (names is None or tool.name in names) and tool.name not in exclude:
            yield tool


def _check_names(names: Collection[str] | None, found: set[str]) -> None:
    missing = sorted(set(names or ()) - found)
    if missing:
        raise ValueError(
            f"cannot gate unknown tool(s) {missing}: the agent has {sorted(found)}; "
            "a misspelt name would leave a tool ungated"
        )


def gate_tools(
    tools: Sequence[BaseTool],
    decide: Decide,
    *,
    names: Collection[str] | None = None,
    exclude: Collection[str] = (),
) -> list[BaseTool]:
    """A copy of ``tools`` with those named (default: all, minus ``exclude``) gated."""
    _check_names(names, {t.name for t in tools})
    chosen = {id(t) for t in _selected(tools, names, exclude)}
    return [GatedTool(t, decide) if id(t) in chosen else t for t in tools]


def _agent_tree(agent: Any) -> Iterator[Any]:
    yield agent
    for child in getattr(agent, "sub_agents", None) or ():
        yield from _agent_tree(child)


def tool_registries(agent: Any) -> list[dict[str, BaseTool]]:
    """The name -> tool dicts of ``agent`` and its sub-agents (each ``LlmAgent`` has one).

    Each dict is shared with that agent's tool executor, so replacing an entry changes the
    tool the agent runs (and the one offered to its model on the next turn).
    """
    found: list[dict[str, BaseTool]] = []
    for node in _agent_tree(agent):
        tools = getattr(node, "_tools", None)
        if isinstance(tools, dict):
            found.append(tools)
    return found


def gate_agent(
    agent: Any,
    decide: Decide,
    *,
    names: Collection[str] | None = None,
    exclude: Collection[str] = (),
) -> list[str]:
    """Gate, in place, the tools of ``agent`` and of its sub-agents; returns the names gated.

    Works on a built agent (the one a ``Runner`` holds), through :func:`tool_registries`.
    Tools of an agent wrapped as a tool (``AgentTool``) are reached only by gating its agent.
    """
    registries = tool_registries(agent)
    _check_names(names, {name for tools in registries for name in tools})
    gated: list[str] = []
    for tools in registries:
        for tool in list(_selected(tools.values(), names, exclude)):
            tools[tool.name] = GatedTool(tool, decide)
            gated.append(tool.name)
    return gated
