"""orxhestra agents, in process: the same App routes their events and gates their tools.

Requires the ``orxhestra`` extra (``pip install "agentflow-events[orxhestra]"``). orxhestra
is not a wire protocol: a ``Runner`` yields pydantic events from ``runner.astream(...)`` in
this process, and its tools are LangChain tools. So agentflow follows it through
:class:`OrxhestraSource` and steers it through the tools::

    source = OrxhestraSource(runner, user_id="u")
    result = await app.run(source, "session-1", send=["Tidy up."])

- :class:`OrxhestraSource`: ``app.run`` drives ``runner.astream`` and dispatches every event
  it yields (as an :class:`OrxhestraEvent`: the native event, plus ``kind``); the App's
  policies decide before the agent's tools run, ``@app.on_question`` answers
  ``human_input``, and the App's tools can be given to the agent (``app_tools=True``).
- :class:`OrxhestraDialect` (:data:`ORXHESTRA`): what the events mean to the run loop.
- :func:`gate_agent` / :func:`gate_tools`: the gate on its own, with any async
  ``decide(call)``. orxhestra's own ``require_confirmation`` flag is not enforced by
  orxhestra itself.
- :func:`human_input_tool` / :func:`answer_human_input`: the agent's questions answered by
  an async ``answer(question) -> str`` hook.
- :func:`adapt_tools` / :class:`AgentflowTool`: agentflow tools run where the agent calls
  them, outside any run.
- :class:`ToolCall` / :func:`current_call`: which call (tool-call id, session) a tool runs.
"""

from __future__ import annotations

try:
    import langchain_core  # noqa: F401
    import orxhestra  # noqa: F401
except ImportError as exc:  # the extra is missing: say which one
    raise ImportError(
        f"agentflow.orxhestra needs the 'orxhestra' extra ({exc.name or exc} is not installed): "
        "python -m pip install 'agentflow-events[orxhestra]'"
    ) from exc

from ._calls import ToolCall, current_call
from .channel import OrxhestraChannel
from .dialect import ORXHESTRA, OrxhestraDialect
from .events import CallView, OrxhestraEvent, kind_of
from .gate import Decide, GatedTool, ToolDenied, gate_agent, gate_tools
from .human_input import HUMAN_INPUT, Answer, answer_human_input, human_input_tool
from .source import DECLINED, OrxhestraSource
from .tools import AgentflowTool, ContextFor, RoutedTool, ToolFailed, adapt_tools, reply_text
from .turns import AgentFailed

__all__ = [
    "DECLINED",
    "HUMAN_INPUT",
    "ORXHESTRA",
    "AgentFailed",
    "AgentflowTool",
    "Answer",
    "CallView",
    "ContextFor",
    "Decide",
    "GatedTool",
    "OrxhestraChannel",
    "OrxhestraDialect",
    "OrxhestraEvent",
    "OrxhestraSource",
    "RoutedTool",
    "ToolCall",
    "ToolDenied",
    "ToolFailed",
    "adapt_tools",
    "answer_human_input",
    "current_call",
    "gate_agent",
    "gate_tools",
    "human_input_tool",
    "kind_of",
    "reply_text",
]
