"""Frames of what the agent writes and the tools it calls (the AI SDK UI stream vocabulary).

Keys keep the wire's casing: ``toolCallId``, ``toolName`` and ``messageId`` are camelCase
on the wire and snake_case here (``tool_call_id``, ``name``, ``message_id``). A text or
reasoning block's own ``id`` is :attr:`~_Block.block_id`: ``event.id`` is the frame's
position id (see :mod:`._base`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import AliasChoices, Field

from ._base import M8tesEvent

__all__ = [
    "MessageDelta",
    "MessageEnd",
    "MessageStart",
    "ReasoningDelta",
    "ReasoningEnd",
    "ReasoningStart",
    "Source",
    "TextDelta",
    "TextEnd",
    "TextStart",
    "TodoUpdate",
    "ToolCallDelta",
    "ToolCallEnd",
    "ToolCallStart",
    "ToolResultDelta",
    "ToolResultEnd",
    "ToolResultStart",
]


class _Block(M8tesEvent):
    block_id: str | None = Field(None, alias="id")
    """The text or reasoning block the frame belongs to."""


class TextStart(_Block):
    """A text block opens."""

    type: Literal["text-start"]


class TextDelta(_Block):
    """A piece of streamed text: ``.text`` is the new text."""

    type: Literal["text-delta"]
    event_kind: ClassVar[str | None] = "message.delta"
    delta: str = ""

    @property
    def text(self) -> str:
        return self.delta


class TextEnd(_Block):
    """A text block is complete: ``.text`` is the whole block (the stream joins its deltas)."""

    type: Literal["text-end"]
    event_kind: ClassVar[str | None] = "message.completed"

    @property
    def text(self) -> str:
        return self.note("text") or ""


class ReasoningStart(_Block):
    """A reasoning (``thinking-*``, ``plan-*``) block opens."""

    type: Literal["reasoning-start", "thinking-start", "plan-start"]


class ReasoningDelta(_Block):
    """A piece of reasoning; the SDK reads ``delta``, else ``text``, else ``plan``."""

    type: Literal["reasoning-delta", "thinking-delta", "plan-delta"]
    event_kind: ClassVar[str | None] = "reasoning.delta"
    delta: str | None = None

    @property
    def text(self) -> str:
        if self.delta:
            return self.delta
        extra = self.__pydantic_extra__ or {}
        found = extra.get("text") or extra.get("plan")
        return found if isinstance(found, str) else ""


class ReasoningEnd(_Block):
    """A reasoning block is complete: ``.text`` is the whole block."""

    type: Literal["reasoning-end", "thinking-end", "plan-end"]
    event_kind: ClassVar[str | None] = "reasoning.completed"

    @property
    def text(self) -> str:
        return self.note("text") or ""


class MessageStart(M8tesEvent):
    """A model response begins."""

    type: Literal["message-start"]
    message_id: str | None = Field(None, alias="messageId")


class MessageDelta(M8tesEvent):
    """Message-level data (kept as sent)."""

    type: Literal["message-delta"]
    message_id: str | None = Field(None, alias="messageId")


class MessageEnd(M8tesEvent):
    """A model response ends."""

    type: Literal["message-end"]
    message_id: str | None = Field(None, alias="messageId")


class Source(M8tesEvent):
    """A source the agent cites (``source-url``, ``source-document``)."""

    type: Literal["source-url", "source-document"]


class _Tool(M8tesEvent):
    tool_call_id: str | None = Field(None, alias="toolCallId")

    @property
    def call_id(self) -> str | None:
        return self.tool_call_id

    @property
    def tool_name(self) -> str | None:
        name: str | None = self.note("tool_name")
        return name


class ToolCallStart(_Tool):
    """The agent starts a tool call (the platform runs it)."""

    type: Literal["tool-call-start"]
    event_kind: ClassVar[str | None] = "tool.started"
    name: str | None = Field(None, alias="toolName")

    @property
    def tool_name(self) -> str | None:
        return self.name


class ToolCallDelta(_Tool):
    """A fragment of the call's input JSON."""

    type: Literal["tool-call-delta"]
    event_kind: ClassVar[str | None] = "tool.args_delta"
    delta: str = ""

    @property
    def text(self) -> str:
        return self.delta


class ToolCallEnd(_Tool):
    """The call's input is complete: ``.tool_input`` is it, parsed (the stream joins the
    fragments; ``None`` when they are not a JSON object)."""

    type: Literal["tool-call-end"]

    @property
    def tool_input(self) -> dict[str, Any] | None:
        found = self.note("tool_input")
        return found if isinstance(found, dict) else None


class ToolResultStart(_Tool):
    """The tool's result starts."""

    type: Literal["tool-result-start"]


class ToolResultDelta(_Tool):
    """A piece of the tool's result."""

    type: Literal["tool-result-delta"]
    delta: str = ""


class ToolResultEnd(_Tool):
    """The tool's result (``tool.failed`` when the frame says ``is_error``)."""

    type: Literal["tool-result-end"]
    result: Any = None
    is_error: bool | None = None

    @property
    def kind(self) -> str | None:
        return "tool.failed" if self.is_error else "tool.completed"

    @property
    def text(self) -> str:
        return self.result if isinstance(self.result, str) else ""


class TodoUpdate(M8tesEvent):
    """The agent's todo list changed (``todos``)."""

    type: Literal["todo-update"]
    tool_call_id: str | None = Field(
        None, validation_alias=AliasChoices("toolCallId", "tool_call_id")
    )
    todos: list[Any] = Field(default_factory=list)

    @property
    def call_id(self) -> str | None:
        return self.tool_call_id
