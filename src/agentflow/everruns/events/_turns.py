"""Input, output, reasoning, turn and session events (``input.message``, ``output.message.*``,
``reason.*``, ``turn.*``, ``session.*``, ``llm.generation``)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from ._base import ErrorInfo, EverrunsEvent
from ._data import ContentPart, DataModel, Message, Usage

__all__ = [
    "InputMessage",
    "LlmGeneration",
    "OutputMessageCompleted",
    "OutputMessageDelta",
    "OutputMessageReplaced",
    "OutputMessageStarted",
    "ReasonCompleted",
    "ReasonStarted",
    "ReasonThinkingCompleted",
    "ReasonThinkingDelta",
    "ReasonThinkingStarted",
    "SessionActivated",
    "SessionIdled",
    "SessionStarted",
    "TurnCancelled",
    "TurnCompleted",
    "TurnFailed",
    "TurnSealed",
    "TurnStarted",
]


class _TurnData(DataModel):
    turn_id: str | None = None


class InputMessage(EverrunsEvent):
    """``input.message``: a message sent to the session (the echo of ``messages.create``)."""

    class Data(DataModel):
        message: Message = Field(default_factory=Message)

    type: Literal["input.message"]
    data: Data = Field(default_factory=Data)

    @property
    def text(self) -> str:
        """The message's text."""
        return self.data.message.text


class OutputMessageStarted(EverrunsEvent):
    """``output.message.started``: the agent starts a message (``model``, ``iteration``)."""

    class Data(_TurnData):
        model: str | None = None
        iteration: int | None = None

    type: Literal["output.message.started"]
    data: Data = Field(default_factory=Data)


class OutputMessageDelta(EverrunsEvent):
    """``output.message.delta``: streamed text (``delta``; ``accumulated`` so far)."""

    event_kind: ClassVar[str | None] = "message.delta"

    class Data(_TurnData):
        delta: str
        accumulated: str | None = None

    type: Literal["output.message.delta"]
    data: Data

    @property
    def text(self) -> str:
        """The new text."""
        return self.data.delta


class OutputMessageReplaced(EverrunsEvent):
    """``output.message.replaced``: drop the text streamed so far (a guardrail replaced it)."""

    class Data(_TurnData):
        replacement: Any = None
        reason_code: str | None = None

    type: Literal["output.message.replaced"]
    data: Data = Field(default_factory=Data)


class OutputMessageCompleted(EverrunsEvent):
    """``output.message.completed``: a whole agent message (``message``, ``usage``)."""

    event_kind: ClassVar[str | None] = "message.completed"

    class Data(DataModel):
        message: Message = Field(default_factory=Message)
        metadata: dict[str, Any] | None = None
        usage: Usage | None = None
        error_code: str | None = None

    type: Literal["output.message.completed"]
    data: Data = Field(default_factory=Data)

    @property
    def text(self) -> str:
        """The message's text parts, joined."""
        return self.data.message.text


class ReasonStarted(EverrunsEvent):
    """``reason.started``: a reasoning step began."""

    type: Literal["reason.started"]
    data: dict[str, Any] = Field(default_factory=dict)


class ReasonCompleted(EverrunsEvent):
    """``reason.completed``: a reasoning step ended (``success``, ``has_tool_calls``, ...)."""

    class Data(DataModel):
        success: bool | None = None
        has_tool_calls: bool | None = None
        tool_call_count: int | None = None
        text_preview: str | None = None
        error: str | None = None
        usage: Usage | None = None

    type: Literal["reason.completed"]
    data: Data = Field(default_factory=Data)

    @property
    def error(self) -> ErrorInfo | None:
        """The step's error, when it failed."""
        return None if self.data.error is None else ErrorInfo(message=self.data.error)


class ReasonThinkingStarted(EverrunsEvent):
    """``reason.thinking.started``: the model starts thinking."""

    class Data(_TurnData):
        model: str | None = None

    type: Literal["reason.thinking.started"]
    data: Data = Field(default_factory=Data)


class ReasonThinkingDelta(EverrunsEvent):
    """``reason.thinking.delta``: streamed thinking (``delta``, ``accumulated``)."""

    event_kind: ClassVar[str | None] = "reasoning.delta"

    class Data(_TurnData):
        delta: str
        accumulated: str | None = None

    type: Literal["reason.thinking.delta"]
    data: Data

    @property
    def text(self) -> str:
        """The new thinking text."""
        return self.data.delta


class ReasonThinkingCompleted(EverrunsEvent):
    """``reason.thinking.completed``: the whole thinking text."""

    event_kind: ClassVar[str | None] = "reasoning.completed"

    class Data(_TurnData):
        thinking: str | None = None

    type: Literal["reason.thinking.completed"]
    data: Data = Field(default_factory=Data)

    @property
    def text(self) -> str:
        """The thinking text."""
        return self.data.thinking or ""


class TurnStarted(EverrunsEvent):
    """``turn.started``: the agent works on an input message."""

    event_kind: ClassVar[str | None] = "turn.started"

    class Data(_TurnData):
        input_message_id: str | None = None
        input_content: list[ContentPart] | None = None

    type: Literal["turn.started"]
    data: Data = Field(default_factory=Data)


class TurnCompleted(EverrunsEvent):
    """``turn.completed``: the turn ended normally (``usage`` holds the turn's tokens)."""

    event_kind: ClassVar[str | None] = "turn.completed"

    class Data(_TurnData):
        iterations: int | None = None
        duration_ms: float | None = None
        usage: Usage | None = None
        final_message_id: str | None = None
        final_answer_preview: str | None = None
        tool_call_count: int | None = None

    type: Literal["turn.completed"]
    data: Data = Field(default_factory=Data)

    def is_final_response(self) -> bool:
        """True: the turn is over."""
        return True


class TurnFailed(EverrunsEvent):
    """``turn.failed``: the turn ended in failure (``error``, ``error_code``).

    Its ``kind`` is ``turn.failed`` (not ``error``): the turn is over and the session lives
    on, so error middleware that escalates ``kind == "error"`` events leaves it alone;
    ``event.error`` still reports what went wrong.
    """

    event_kind: ClassVar[str | None] = "turn.failed"

    class Data(_TurnData):
        error: str | None = None
        error_code: str | None = None

    type: Literal["turn.failed"]
    data: Data = Field(default_factory=Data)

    @property
    def error(self) -> ErrorInfo:
        """What failed: ``type`` is the ``error_code``."""
        return ErrorInfo(type=self.data.error_code, message=self.data.error or "")

    def is_final_response(self) -> bool:
        """True: the turn is over."""
        return True


class TurnCancelled(EverrunsEvent):
    """``turn.cancelled``: the turn was cancelled (``reason``)."""

    event_kind: ClassVar[str | None] = "turn.cancelled"

    class Data(_TurnData):
        reason: str | None = None
        usage: Usage | None = None

    type: Literal["turn.cancelled"]
    data: Data = Field(default_factory=Data)

    def is_final_response(self) -> bool:
        """True: the turn is over."""
        return True


class TurnSealed(EverrunsEvent):
    """``turn.sealed``: the platform closed the turn (``reason``: ``no_progress``, ``budget``)."""

    event_kind: ClassVar[str | None] = "turn.failed"

    class Data(_TurnData):
        reason: str | None = None
        detail: Any = None
        iterations: int | None = None
        usage: Usage | None = None

    type: Literal["turn.sealed"]
    data: Data = Field(default_factory=Data)

    def is_final_response(self) -> bool:
        """True: the turn is over."""
        return True


class SessionIdled(EverrunsEvent):
    """``session.idled``: after a turn ends, the session idles (``usage`` of that turn).

    Its ``kind`` is ``usage.updated``: the turn's end was already reported by its
    ``turn.*`` event, so this one does not end a turn a second time.
    """

    event_kind: ClassVar[str | None] = "usage.updated"

    class Data(_TurnData):
        iterations: int | None = None
        usage: Usage | None = None

    type: Literal["session.idled"]
    data: Data = Field(default_factory=Data)


class SessionStarted(EverrunsEvent):
    """``session.started``."""

    type: Literal["session.started"]
    data: dict[str, Any] = Field(default_factory=dict)


class SessionActivated(EverrunsEvent):
    """``session.activated``."""

    type: Literal["session.activated"]
    data: dict[str, Any] = Field(default_factory=dict)


class LlmGeneration(EverrunsEvent):
    """``llm.generation``: one model request (details in ``data``)."""

    type: Literal["llm.generation"]
    data: dict[str, Any] = Field(default_factory=dict)
