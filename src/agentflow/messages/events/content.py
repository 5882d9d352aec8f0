"""The parts of Messages stream events: content blocks, deltas, usage and errors.

Field names follow the wire exactly. Every model is frozen and keeps fields this version does
not know (``extra="allow"``), so a newer API loses nothing on the way through.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CitationsDelta",
    "ContentBlock",
    "Delta",
    "ErrorInfo",
    "InputJsonDelta",
    "MessageInfo",
    "SignatureDelta",
    "StopInfo",
    "TextDelta",
    "ThinkingDelta",
    "UnknownDelta",
    "Usage",
]

_CONFIG = ConfigDict(frozen=True, extra="allow")


class Part(BaseModel):
    """Base of the parts: frozen, unknown fields kept."""

    model_config = _CONFIG


class Usage(Part):
    """Token counts. In ``message_delta`` they are running totals of the response."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None


class ContentBlock(Part):
    """A content block as ``content_block_start`` opens it (``text``, ``thinking``,
    ``tool_use``, ``server_tool_use``, ``redacted_thinking``, ``*_tool_result``, ...).

    One model for every block type: the fields that apply are set, the others are ``None``;
    the complete block arrives on ``content_block_stop`` (:attr:`ContentBlockStop.block`).
    """

    type: str
    id: str | None = None
    name: str | None = None
    input: Any = None
    text: str | None = None
    thinking: str | None = None
    signature: str | None = None


class MessageInfo(Part):
    """The message ``message_start`` opens: id, model, role and the usage so far."""

    id: str | None = None
    type: str = "message"
    role: str = "assistant"
    model: str | None = None
    content: list[Any] = Field(default_factory=list)
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: Usage | None = None


class TextDelta(Part):
    """A piece of a text block's text."""

    type: Literal["text_delta"]
    text: str


class InputJsonDelta(Part):
    """A piece of a tool call's input, as JSON text cut anywhere (join, then parse)."""

    type: Literal["input_json_delta"]
    partial_json: str


class ThinkingDelta(Part):
    """A piece of a thinking block's thinking."""

    type: Literal["thinking_delta"]
    thinking: str


class SignatureDelta(Part):
    """The signature of a thinking block (sent just before its stop)."""

    type: Literal["signature_delta"]
    signature: str


class CitationsDelta(Part):
    """A citation added to a text block."""

    type: Literal["citations_delta"]
    citation: dict[str, Any]


class UnknownDelta(Part):
    """A delta type this version does not know (every field kept)."""

    type: str


KnownDelta = Annotated[
    TextDelta | InputJsonDelta | ThinkingDelta | SignatureDelta | CitationsDelta,
    Field(discriminator="type"),
]

Delta = Annotated[KnownDelta | UnknownDelta, Field(union_mode="left_to_right")]
"""What ``content_block_delta`` carries: a known delta model, else :class:`UnknownDelta`."""


class StopInfo(Part):
    """The ``delta`` of ``message_delta``: how the response stopped."""

    stop_reason: str | None = None
    stop_sequence: str | None = None
    stop_details: dict[str, Any] | None = None


class ErrorInfo(Part):
    """An ``error`` event's error: ``type`` (``overloaded_error``, ...) and ``message``."""

    type: str = "error"
    message: str = ""
