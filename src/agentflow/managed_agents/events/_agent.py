"""``agent.*`` events: what the agent says and the tools it calls."""

from __future__ import annotations

from typing import ClassVar, Literal

from ._common import Permission, _Stored, _ToolUse
from ._content import (
    ContentBlock,
    Evaluation,
)

__all__ = [
    "AgentCustomToolUse",
    "AgentMcpToolResult",
    "AgentMcpToolUse",
    "AgentMessage",
    "AgentThinking",
    "AgentThreadContextCompacted",
    "AgentThreadMessageReceived",
    "AgentThreadMessageSent",
    "AgentToolResult",
    "AgentToolUse",
]


# ------------------------------------------------------------------ agent.*


class AgentMessage(_Stored):
    """Assistant output; ``.text`` joins its text blocks."""

    type: Literal["agent.message"]
    event_kind: ClassVar[str | None] = "message.completed"
    content: list[ContentBlock]


class AgentThinking(_Stored):
    """The agent is thinking (a progress signal; no text)."""

    type: Literal["agent.thinking"]
    event_kind: ClassVar[str | None] = "reasoning.completed"


class AgentToolUse(_ToolUse):
    """A call to a built-in toolset tool (``bash``, ``read``, ``web_search``, …).

    ``evaluated_permission == "ask"`` means the call waits for a ``user.tool_confirmation``.
    """

    type: Literal["agent.tool_use"]
    event_kind: ClassVar[str | None] = "tool.started"
    evaluated_permission: Permission | None = None
    evaluation: Evaluation | None = None


class AgentToolResult(_Stored):
    """The result of a server-run (or synthetic, when denied) tool call."""

    type: Literal["agent.tool_result"]
    tool_use_id: str
    content: list[ContentBlock] | None = None
    is_error: bool | None = None

    @property
    def call_id(self) -> str | None:
        """The id of the call this answers (``tool_use_id``)."""
        return self.tool_use_id

    @property
    def kind(self) -> str | None:
        """``tool.failed`` for an error result, else ``tool.completed``."""
        return "tool.failed" if self.is_error else "tool.completed"


class AgentCustomToolUse(_ToolUse):
    """A call to one of the client's custom tools; answer with ``user.custom_tool_result``."""

    type: Literal["agent.custom_tool_use"]
    event_kind: ClassVar[str | None] = "tool.started"


class AgentMcpToolUse(_ToolUse):
    """A call to an MCP server's tool; runs on the server, the client may only confirm it."""

    type: Literal["agent.mcp_tool_use"]
    event_kind: ClassVar[str | None] = "tool.started"
    mcp_server_name: str
    evaluated_permission: Permission | None = None
    evaluation: Evaluation | None = None


class AgentMcpToolResult(_Stored):
    """The result of an MCP tool call."""

    type: Literal["agent.mcp_tool_result"]
    mcp_tool_use_id: str
    content: list[ContentBlock] | None = None
    is_error: bool | None = None

    @property
    def call_id(self) -> str | None:
        """The id of the call this answers (``mcp_tool_use_id``)."""
        return self.mcp_tool_use_id

    @property
    def kind(self) -> str | None:
        """``tool.failed`` for an error result, else ``tool.completed``."""
        return "tool.failed" if self.is_error else "tool.completed"


class AgentThreadMessageSent(_Stored):
    """A message one thread sent to another (on the sender's stream)."""

    type: Literal["agent.thread_message_sent"]
    to_session_thread_id: str
    to_agent_name: str | None = None
    content: list[ContentBlock]


class AgentThreadMessageReceived(_Stored):
    """A message a thread received (on the target thread's stream)."""

    type: Literal["agent.thread_message_received"]
    from_session_thread_id: str
    from_agent_name: str | None = None
    content: list[ContentBlock]


class AgentThreadContextCompacted(_Stored):
    """The thread's context was summarised."""

    type: Literal["agent.thread_context_compacted"]
