"""orxhestra agents, in process: the pieces agentflow uses to watch and steer them.

Requires the ``orxhestra`` extra (``pip install "agentflow-events[orxhestra]"``). orxhestra
is not a wire protocol: a ``Runner`` yields pydantic events from ``runner.astream(...)`` in
this process, and its tools are LangChain tools. So agentflow steers it through the tools:

- :func:`gate_agent` / :func:`gate_tools`: an async ``decide(call)`` (answering
  :class:`~agentflow.plugins.Allow` or :class:`~agentflow.plugins.Deny`) runs before each
  gated tool; a deny becomes the tool's error response and the tool never runs. orxhestra's
  own ``require_confirmation`` flag is not enforced by orxhestra itself.
- :func:`human_input_tool` / :func:`answer_human_input`: the agent's questions (the
  ``human_input`` tool) answered by an async ``answer(question) -> str`` hook.
- :func:`adapt_tools` / :class:`AgentflowTool`: the App's tools (``@app.tool``) offered to
  the agent and run by agentflow's tool machinery.
- :class:`ToolCall` / :func:`current_call`: which call (tool-call id, session) a tool runs.
"""

from __future__ import annotations

from ._calls import ToolCall, current_call
from .gate import Decide, GatedTool, ToolDenied, gate_agent, gate_tools
from .human_input import HUMAN_INPUT, Answer, answer_human_input, human_input_tool
from .tools import AgentflowTool, ContextFor, ToolFailed, adapt_tools, reply_text

__all__ = [
    "HUMAN_INPUT",
    "AgentflowTool",
    "Answer",
    "ContextFor",
    "Decide",
    "GatedTool",
    "ToolCall",
    "ToolDenied",
    "ToolFailed",
    "adapt_tools",
    "answer_human_input",
    "current_call",
    "gate_agent",
    "gate_tools",
    "human_input_tool",
    "reply_text",
]
