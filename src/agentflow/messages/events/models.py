"""One frozen model per Messages stream event type, with the conventions handlers use.

Class name = the wire type in PascalCase: ``content_block_delta`` →
:class:`ContentBlockDelta`. The wire gives its events no ids, so ``.id`` is ``None``. The
channel fills in what the stream only implies as it builds the message: which block a delta
belongs to (``.tool_name``, ``.call_id``, ``.partial_input`` on ``input_json_delta``), the
complete block on ``content_block_stop`` (:attr:`ContentBlockStop.block`) and the whole
message on ``message_stop`` (:attr:`MessageStop.message`). ``.raw`` is always the event as
the wire sent it.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from ...core.events import Event
from ..dialect import CONTINUE_REASONS, MESSAGES
from ..partial import parse_partial
from .content import ContentBlock, Delta, ErrorInfo, MessageInfo, StopInfo, Usage

__all__ = [
    "ContentBlockDelta",
    "ContentBlockStart",
    "ContentBlockStop",
    "Error",
    "Interrupted",
    "MessageDelta",
    "MessageStart",
    "MessageStop",
    "MessagesEvent",
    "Ping",
    "UnknownEvent",
]

_TOOL_BLOCKS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})
_DELTA_KINDS = {
    "text_delta": "message.delta",
    "thinking_delta": "reasoning.delta",
    "input_json_delta": "tool.args_delta",
}
_STOP_KINDS = {
    "text": "message.completed",
    "thinking": "reasoning.completed",
    "redacted_thinking": "reasoning.completed",
}


def _set(event: Any, name: str, value: Any) -> None:
    # What the builder learns is kept on the instance, outside the model's fields, so
    # ``raw`` stays the wire's event. Not pydantic private attributes: those cost a Python
    # call for every event validated, which was most of the decoding time.
    object.__setattr__(event, name, value)


class MessagesEvent(BaseModel, Event):
    """The base of every Messages event: ``type`` as on the wire, ``id`` always ``None``."""

    model_config = ConfigDict(frozen=True, extra="allow")

    type: str
    id: str | None = None

    dialect: ClassVar[Any] = MESSAGES
    """The Messages dialect (:class:`~agentflow.messages.MessagesDialect`)."""

    event_kind: ClassVar[str | None] = None
    """The ``kind`` of every event of this class (classes whose kind depends on their data
    override :attr:`kind`)."""

    @property
    def kind(self) -> str | None:
        """What the event means in the common vocabulary (:mod:`agentflow.core.events`)."""
        return self.event_kind

    @property
    def raw(self) -> dict[str, Any]:
        """The event as the wire sent it (fields absent from the input stay absent)."""
        return self.model_dump(mode="json", exclude_unset=True)


class _NoError:
    """For events that carry no ``error`` (a field of :class:`Error`, so not on the base)."""

    __slots__ = ()

    @property
    def error(self) -> None:
        """``None``: only ``error`` events carry an error."""
        return None


class MessageStart(_NoError, MessagesEvent):
    """A response begins: its message id, model and the input token count."""

    type: Literal["message_start"]
    message: MessageInfo
    event_kind: ClassVar[str | None] = "turn.started"


class ContentBlockStart(_NoError, MessagesEvent):
    """A content block opens at ``index``; a ``tool_use`` block names its tool here."""

    type: Literal["content_block_start"]
    index: int
    content_block: ContentBlock

    @property
    def kind(self) -> str | None:
        return "tool.started" if self.content_block.type in _TOOL_BLOCKS else None

    @property
    def tool_name(self) -> str | None:
        block = self.content_block
        return block.name if block.type in _TOOL_BLOCKS else None

    @property
    def call_id(self) -> str | None:
        block = self.content_block
        return block.id if block.type in _TOOL_BLOCKS else None


class ContentBlockDelta(_NoError, MessagesEvent):
    """A piece of the block at ``index``: text, tool input JSON, thinking, a signature or a
    citation (``delta``)."""

    type: Literal["content_block_delta"]
    index: int
    delta: Delta
    _block: ClassVar[Any] = None
    _upto: ClassVar[int] = 0

    def enrich(self, block: Any, upto: int) -> None:
        """Name the block this delta belongs to (done by the channel's message builder)."""
        _set(self, "_block", block)
        _set(self, "_upto", upto)

    @property
    def kind(self) -> str | None:
        return _DELTA_KINDS.get(self.delta.type)

    @property
    def text(self) -> str:
        """The new text of a ``text_delta`` (``""`` for other deltas)."""
        return getattr(self.delta, "text", "") if self.delta.type == "text_delta" else ""

    @property
    def thinking(self) -> str:
        """The new thinking of a ``thinking_delta`` (``""`` for other deltas)."""
        return (
            str(getattr(self.delta, "thinking", "")) if self.delta.type == "thinking_delta" else ""
        )

    @property
    def partial_json(self) -> str | None:
        """The JSON fragment of an ``input_json_delta`` (``None`` for other deltas)."""
        value = getattr(self.delta, "partial_json", None)
        return value if isinstance(value, str) else None

    @property
    def partial_input(self) -> Any:
        """Best effort: the tool input as far as it has streamed, with this delta.

        Parsed on access only (the stream never re-parses a snapshot per delta): open strings
        are closed, a key without a value is left out. ``None`` before any input arrived, or
        outside a channel (the fragments so far are not known).
        """
        block = self._block
        if block is None or self.delta.type != "input_json_delta":
            return None
        return parse_partial("".join(block.parts[: self._upto]))

    @property
    def tool_name(self) -> str | None:
        start = getattr(self._block, "start", None)
        return start.name if start is not None and start.type in _TOOL_BLOCKS else None

    @property
    def call_id(self) -> str | None:
        start = getattr(self._block, "start", None)
        return start.id if start is not None and start.type in _TOOL_BLOCKS else None


class ContentBlockStop(_NoError, MessagesEvent):
    """The block at ``index`` is complete; :attr:`block` holds it whole."""

    type: Literal["content_block_stop"]
    index: int
    _done: ClassVar[dict[str, Any] | None] = None
    _input: ClassVar[Any] = None

    def enrich(self, block: dict[str, Any], call_input: Any = None) -> None:
        """Attach the complete block (done by the channel's message builder)."""
        _set(self, "_done", block)
        _set(self, "_input", call_input)

    @property
    def block(self) -> dict[str, Any] | None:
        """The complete block: text joined, tool input parsed (``None`` outside a channel)."""
        return self._done

    @property
    def block_type(self) -> str | None:
        """The block's ``type`` (``text``, ``tool_use``, ...), once known."""
        return None if self._done is None else self._done.get("type")

    @property
    def kind(self) -> str | None:
        block_type = self.block_type
        if block_type is None:
            return None
        found = _STOP_KINDS.get(block_type)
        if found is None and block_type.endswith("_tool_result"):
            return "tool.completed"
        return found

    @property
    def text(self) -> str:
        """The whole text of a text block (``""`` for other blocks)."""
        block = self._done
        if block is None or block.get("type") != "text":
            return ""
        return str(block.get("text", ""))

    @property
    def thinking(self) -> str:
        """The whole thinking of a thinking block (``""`` for other blocks)."""
        block = self._done
        return "" if block is None else str(block.get("thinking", "") or "")

    @property
    def tool_name(self) -> str | None:
        block = self._done
        return (
            block.get("name") if block is not None and block.get("type") in _TOOL_BLOCKS else None
        )

    @property
    def call_id(self) -> str | None:
        block = self._done
        return block.get("id") if block is not None and block.get("type") in _TOOL_BLOCKS else None

    @property
    def tool_input(self) -> dict[str, Any] | None:
        """The complete, parsed input of a tool block (``None`` if it was not valid JSON)."""
        value = self._input
        return value if self.call_id is not None and isinstance(value, dict) else None

    @property
    def call_input(self) -> Any:
        """The input a tool is called with: the parsed object, or the JSON text as the model
        sent it when that did not parse (the tool then reports invalid input)."""
        return self._input


class MessageDelta(_NoError, MessagesEvent):
    """How the response stopped (``delta.stop_reason``) and the usage so far (running
    totals of this response: overwrite, never add)."""

    type: Literal["message_delta"]
    delta: StopInfo
    usage: Usage | None = None
    event_kind: ClassVar[str | None] = "usage.updated"

    @property
    def stop_reason(self) -> str | None:
        """The stop reason the delta sets (``None`` on intermediate usage updates)."""
        return self.delta.stop_reason


class MessageStop(_NoError, MessagesEvent):
    """The response is complete; :attr:`message` holds it whole."""

    type: Literal["message_stop"]
    _message: ClassVar[dict[str, Any] | None] = None
    _tools: ClassVar[tuple[ContentBlockStop, ...]] = ()
    _restored: ClassVar[bool] = False

    def enrich(
        self,
        message: dict[str, Any],
        tool_events: tuple[ContentBlockStop, ...] = (),
        *,
        restored: bool = False,
    ) -> None:
        """Attach the whole message and the ``content_block_stop`` events of its tool calls
        (done by the channel's message builder)."""
        _set(self, "_message", message)
        _set(self, "_tools", tool_events)
        _set(self, "_restored", restored)

    @property
    def tool_events(self) -> tuple[ContentBlockStop, ...]:
        """The ``content_block_stop`` events of the message's ``tool_use`` blocks: the calls
        the pause answers (policies and tools see these events)."""
        return self._tools

    @property
    def message(self) -> dict[str, Any] | None:
        """The whole message: ``id``, ``model``, ``role``, ``content``, ``stop_reason``,
        ``stop_sequence``, ``usage`` (``None`` outside a channel)."""
        return self._message

    @property
    def restored(self) -> bool:
        """True when the channel rebuilt this event from a saved conversation (a restart
        re-announcing the tool calls still waiting for results), not received it."""
        return self._restored

    @property
    def stop_reason(self) -> str | None:
        """The message's stop reason (``end_turn``, ``tool_use``, ``pause_turn``, ...)."""
        return None if self._message is None else self._message.get("stop_reason")

    @property
    def content(self) -> list[dict[str, Any]]:
        """The message's content blocks (empty outside a channel)."""
        return [] if self._message is None else list(self._message.get("content") or [])

    @property
    def tool_uses(self) -> list[dict[str, Any]]:
        """The message's ``tool_use`` blocks, in order."""
        return [b for b in self.content if b.get("type") == "tool_use"]

    @property
    def kind(self) -> str | None:
        reason = self.stop_reason
        if reason == "tool_use":
            return "tool.requested"
        if reason == "pause_turn" or self._message is None:
            return None
        return "turn.completed"

    @property
    def text(self) -> str:
        """The text blocks of the message, joined."""
        return "".join(str(b.get("text", "")) for b in self.content if b.get("type") == "text")

    def is_final_response(self) -> bool:
        return self._message is not None and self.stop_reason not in CONTINUE_REASONS


class Ping(_NoError, MessagesEvent):
    """A keep-alive."""

    type: Literal["ping"]


class Error(MessagesEvent):
    """An error reported inside an open stream (``overloaded_error``, ``api_error``, ...)."""

    type: Literal["error"]
    error: ErrorInfo
    request_id: str | None = None
    event_kind: ClassVar[str | None] = "error"


class Interrupted(_NoError, MessagesEvent):
    """Made by the channel, not the API: ``ctx.interrupt()`` cancelled the response being
    streamed (nothing of it is kept in the conversation) and the turn ends ``cancelled``."""

    type: Literal["interrupted"]
    event_kind: ClassVar[str | None] = "turn.cancelled"

    def is_final_response(self) -> bool:
        return True


class UnknownEvent(MessagesEvent):
    """An event type this version does not know; every field is kept."""

    @property
    def error(self) -> Any:
        """The event's ``error`` field, if it has one."""
        return (self.__pydantic_extra__ or {}).get("error")
