"""The objects inside Everruns events: messages, content parts, tool calls, usage, questions.

Every model is frozen and keeps fields this version does not know (``extra="allow"``), so an
event re-dumped with ``event.raw`` equals what the server sent. Only what agentflow relies on
is required; the rest is optional, as the platform's own reference leaves it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ContentPart",
    "EventContext",
    "Message",
    "QuestionItem",
    "QuestionOption",
    "ToolCallInfo",
    "Usage",
    "parts_text",
]


class DataModel(BaseModel):
    """Base of every nested object: frozen, unknown fields kept."""

    model_config = ConfigDict(frozen=True, extra="allow")


class ContentPart(DataModel):
    """One part of a message: ``text`` {``text``}, ``image``, ``image_file``, ``tool_call``
    {``id``, ``name``, ``arguments``} or ``tool_result`` {``tool_call_id``, ``result``,
    ``error``}; other types are kept as they are."""

    type: str
    text: str | None = None


def parts_text(parts: Any) -> str:
    """The text parts of a content list, joined (other parts are skipped, never assumed)."""
    if not isinstance(parts, list):
        return ""
    out: list[str] = []
    for part in parts:
        if isinstance(part, ContentPart):
            if part.type == "text" and isinstance(part.text, str):
                out.append(part.text)
        elif isinstance(part, dict) and part.get("type") == "text":
            text = part.get("text")
            if isinstance(text, str):
                out.append(text)
    return "".join(out)


class Message(DataModel):
    """A message: ``role`` (``user``, ``agent``, ``tool_result``, ...) and content parts."""

    id: str | None = None
    role: str | None = None
    content: list[ContentPart] = Field(default_factory=list)
    created_at: str | None = None

    @property
    def text(self) -> str:
        """The text parts joined."""
        return parts_text(self.content)


class ToolCallInfo(DataModel):
    """A tool call: its ``id`` (what a result or an approval refers to), ``name`` and
    ``arguments`` (normally an object)."""

    id: str
    name: str
    arguments: Any = Field(default_factory=dict)


class Usage(DataModel):
    """Token counts; the cache buckets are separate from ``input_tokens``."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int | None = None
    cache_creation_tokens: int | None = None


class EventContext(DataModel):
    """Where an event belongs: its turn, input message, execution and trace span."""

    turn_id: str | None = None
    input_message_id: str | None = None
    exec_id: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    parent_span_id: str | None = None


class QuestionOption(DataModel):
    """One offered answer to a question."""

    label: str
    description: str | None = None


class QuestionItem(DataModel):
    """One question of an ``ask_user`` question set."""

    id: str
    question: str
    options: list[QuestionOption] = Field(default_factory=list)
    multi_select: bool = False
    header: str | None = None
