"""Claude-native frames the platform may pass through (``content_block_*``, ``tool_use``, ...).

The m8tes SDK renames them to the hyphenated types; agentflow keeps the wire's ``type`` and
gives them the same meaning through ``kind``: a ``content_block_delta`` with a
``text_delta`` is a ``message.delta``, a ``thinking_delta`` or ``plan_delta`` (whose text is
in ``delta.text``, as the SDK reads it) a ``reasoning.delta``, an ``input_json_delta`` a
``tool.args_delta``; a ``tool_use`` block or frame is a ``tool.started``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from ._base import M8tesEvent

__all__ = [
    "ClaudeMessage",
    "ClaudeMessageDelta",
    "ClaudeReasoning",
    "ContentBlockDelta",
    "ContentBlockStart",
    "ContentBlockStop",
    "ToolResult",
    "ToolUse",
]

_DELTA_KINDS = {
    "text_delta": "message.delta",
    "thinking_delta": "reasoning.delta",
    "plan_delta": "reasoning.delta",
    "input_json_delta": "tool.args_delta",
}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


class ContentBlockStart(M8tesEvent):
    """A content block opens (``content_block.type``: text, thinking, plan, tool_use)."""

    type: Literal["content_block_start"]
    block_id: str | None = Field(None, alias="id")
    content_block: dict[str, Any] = Field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        return "tool.started" if self.content_block.get("type") == "tool_use" else None

    @property
    def call_id(self) -> str | None:
        found = self.block_id or self.content_block.get("id")
        return found if isinstance(found, str) else None

    @property
    def tool_name(self) -> str | None:
        if self.content_block.get("type") != "tool_use":
            return None
        name = self.content_block.get("name") or (self.__pydantic_extra__ or {}).get("name")
        return name if isinstance(name, str) else None


class ContentBlockDelta(M8tesEvent):
    """A piece of a content block (``delta.type`` says what kind)."""

    type: Literal["content_block_delta"]
    block_id: str | None = Field(None, alias="id")
    delta: dict[str, Any] = Field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        return _DELTA_KINDS.get(_str(self.delta.get("type")))

    @property
    def text(self) -> str:
        if self.delta.get("type") == "input_json_delta":
            return _str(self.delta.get("partial_json"))
        return _str(self.delta.get("text"))

    @property
    def call_id(self) -> str | None:
        return self.block_id if self.delta.get("type") == "input_json_delta" else None


class ContentBlockStop(M8tesEvent):
    """A content block ends."""

    type: Literal["content_block_stop"]
    block_id: str | None = Field(None, alias="id")


class ClaudeMessage(M8tesEvent):
    """A model message starts or stops (``message_start``, ``message_stop``, ...)."""

    type: Literal["message_start", "message_stop", "message_complete"]


class ClaudeMessageDelta(M8tesEvent):
    """Message-level change; with ``delta.text`` it is streamed text (as the SDK reads it)."""

    type: Literal["message_delta"]
    delta: Any = None

    @property
    def kind(self) -> str | None:
        has_text = isinstance(self.delta, dict) and isinstance(self.delta.get("text"), str)
        return "message.delta" if has_text else None

    @property
    def text(self) -> str:
        return _str(self.delta.get("text")) if isinstance(self.delta, dict) else ""


class ClaudeReasoning(M8tesEvent):
    """Streamed thinking in Claude's own shape (``thinking``, ``reasoning``, ``plan_delta``)."""

    type: Literal["thinking", "reasoning", "plan_delta"]
    event_kind: ClassVar[str | None] = "reasoning.delta"

    @property
    def text(self) -> str:
        extra = self.__pydantic_extra__ or {}
        for key in ("text", "delta", "thinking"):
            if isinstance(extra.get(key), str):
                return str(extra[key])
        return ""


class ToolUse(M8tesEvent):
    """A whole tool call (``id``, ``name``, ``input``) in Claude's shape."""

    type: Literal["tool_use"]
    event_kind: ClassVar[str | None] = "tool.started"
    block_id: str | None = Field(None, alias="id")
    name: str | None = None
    input: Any = None

    @property
    def call_id(self) -> str | None:
        return self.block_id

    @property
    def tool_name(self) -> str | None:
        return self.name

    @property
    def tool_input(self) -> dict[str, Any] | None:
        return self.input if isinstance(self.input, dict) else None


class ToolResult(M8tesEvent):
    """A tool's result in Claude's shape (``tool_use_id``, ``content``, ``is_error``)."""

    type: Literal["tool_result"]
    tool_use_id: str | None = None
    content: Any = None
    is_error: bool | None = None

    @property
    def kind(self) -> str | None:
        return "tool.failed" if self.is_error else "tool.completed"

    @property
    def call_id(self) -> str | None:
        return self.tool_use_id or (self.__pydantic_extra__ or {}).get("id")

    @property
    def text(self) -> str:
        return self.content if isinstance(self.content, str) else ""
