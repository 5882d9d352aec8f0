"""orxhestra's ``human_input`` tool, answered by an async ``answer(question) -> str`` hook.

The agent asks the user through a tool named ``human_input`` (input ``{"question": ...}``,
flagged ``interactive`` on its tool-call part); what the tool returns is the answer the model
reads. orxhestra leaves the answering to the host through an injected callback: here that
callback is ``answer``. Inside ``answer``, :func:`~agentflow.orxhestra.current_call` names
the call being answered (tool-call id, session), so one hook can serve several sessions.

::

    async def answer(question: str) -> str:
        return "Paris"

    agent = LlmAgent("a", model, [human_input_tool(answer)])
    answer_human_input(runner.agent, answer)     # or: answer an agent's existing tool
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeAlias

from langchain_core.tools import BaseTool
from orxhestra.cli.tools.human_input import make_human_input_tool

from ._calls import remember_context, tool_call_scope
from .gate import GatedTool, tool_registries

__all__ = ["HUMAN_INPUT", "Answer", "answer_human_input", "human_input_tool"]

HUMAN_INPUT = "human_input"
"""The name of orxhestra's ask-the-user tool."""

Answer: TypeAlias = Callable[[str], Awaitable[str]]
"""``async def answer(question: str) -> str``: the user's answer to the agent's question."""


def _scoped(answer: Answer) -> Answer:
    async def callback(question: str) -> str:
        with tool_call_scope(HUMAN_INPUT, {"question": question}):
            return await answer(question)

    return callback


def _attach(tool: Any, answer: Answer) -> None:
    tool.set_callback(_scoped(answer))
    if getattr(tool, "inject_context", None) is None:
        # orxhestra hands the invocation context to tools that have this method; it is how
        # the hook learns which call (and session) it answers.
        object.__setattr__(tool, "inject_context", remember_context)


def human_input_tool(answer: Answer) -> BaseTool:
    """A new ``human_input`` tool whose questions ``answer`` answers."""
    tool: BaseTool = make_human_input_tool()
    _attach(tool, answer)
    return tool


def answer_human_input(target: Any | Iterable[BaseTool], answer: Answer) -> int:
    """Make ``answer`` answer every ``human_input`` tool of an agent tree (or a tool list).

    Gated ``human_input`` tools are answered behind their gate. Returns how many tools now
    use ``answer``; 0 means the agent has no such tool (its questions would go unanswered).
    """
    if isinstance(target, Iterable):
        tools: list[Any] = list(target)
    else:
        tools = [tool for registry in tool_registries(target) for tool in registry.values()]
    count = 0
    for tool in tools:
        inner = tool.inner if isinstance(tool, GatedTool) else tool
        if inner.name == HUMAN_INPUT and callable(getattr(inner, "set_callback", None)):
            _attach(inner, answer)
            count += 1
    return count
