"""The message-level events: ``message_start``, ``message_delta``, ``message_stop``, ``ping``,
``error``, the channel's own ``interrupted``, and :class:`UnknownEvent`.

The channel attaches the whole message to ``message_stop`` (:attr:`MessageStop.message`).
Class name = the wire type in PascalCase: ``message_stop`` → :class:`MessageStop`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from ..dialect import CONTINUE_REASONS
from .base import MessagesEvent, NoError, enrich_field
from .blocks import ContentBlockStop
from .content import ErrorInfo, MessageInfo, StopInfo, Usage

__all__ = [
    "Error",
    "Interrupted",
    "MessageDelta",
    "MessageStart",
    "MessageStop",
    "Ping",
    "UnknownEvent",
]


class MessageStart(NoError, MessagesEvent):
    """A response begins: its message id, model and the input token count."""

    type: Literal["message_start"]
    message: MessageInfo
    event_kind: ClassVar[str | None] = "turn.started"


class MessageDelta(NoError, MessagesEvent):
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


class MessageStop(NoError, MessagesEvent):
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
        enrich_field(self, "_message", message)
        enrich_field(self, "_tools", tool_events)
        enrich_field(self, "_restored", restored)

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


class Ping(NoError, MessagesEvent):
    """A keep-alive."""

    type: Literal["ping"]


class Error(MessagesEvent):
    """An error reported inside an open stream (``overloaded_error``, ``api_error``, ...)."""

    type: Literal["error"]
    error: ErrorInfo
    request_id: str | None = None
    event_kind: ClassVar[str | None] = "error"


class Interrupted(NoError, MessagesEvent):
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
