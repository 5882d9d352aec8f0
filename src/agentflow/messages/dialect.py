"""What Messages API stream events mean: the Messages :class:`~agentflow.Dialect`.

The client runs every tool here: the App's tools are offered to the model, and each
``tool_use`` block of a response is a call this client answers with a ``tool_result`` block.
The channel enriches events as it builds the message (``content_block_stop`` carries the
complete block, ``message_stop`` the whole message), so this description stays pure:

- ``content_block_stop`` of a ``tool_use`` block announces a tool call (its id is the
  ``tool_use`` id). It does not start early: a response that breaks before ``message_stop`` is
  asked for again and comes back with new ids, so a tool started early could run twice;
- ``message_stop`` whose stop reason is ``tool_use`` is a pause naming the message's
  ``tool_use`` ids (and carrying their calls, so a restarted run can answer from a saved
  conversation);
- any other ``message_stop`` ends the turn with its stop reason, except ``pause_turn`` (the
  channel sends the response back and the model goes on);
- an ``error`` event is retried by the channel unless its type is fatal, which ends the turn
  with ``error``;
- usage is counted once per complete response, from ``message_stop`` (the counts in
  ``message_delta`` are running totals of one response, not increments).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..core.dialect import Call, Dialect, Pause, Severity, TokenCount
from ..wire.errors import FATAL_STREAM_ERRORS

if TYPE_CHECKING:
    from ..core.answers import ToolReply
    from ..core.events import Event
    from ..core.types import JSONObject

__all__ = ["CONTINUE_REASONS", "EVENT_TYPES", "MESSAGES", "MessagesDialect"]

EVENT_TYPES: frozenset[str] = frozenset(
    {
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
        "error",
        "interrupted",
    }
)
"""Every event type the Messages dialect decodes to its own class (``interrupted`` is made
by the channel when ``ctx.interrupt()`` cancels a response; the others are the wire's)."""

CONTINUE_REASONS = frozenset({"tool_use", "pause_turn"})
"""Stop reasons after which the turn goes on (tool results, or the response sent back)."""


def _message(event: Event) -> Mapping[str, Any] | None:
    if event.type != "message_stop":
        return None
    message = getattr(event, "message", None)
    return message if isinstance(message, Mapping) else None


def _tool_uses(message: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [b for b in content if isinstance(b, Mapping) and b.get("type") == "tool_use"]


class MessagesDialect(Dialect):
    """The Claude Messages API stream, run as a local agent loop (see the module docstring)."""

    name = "messages"
    known_types = EVENT_TYPES
    inert_types = EVENT_TYPES - {"content_block_stop", "message_stop", "error", "interrupted"}
    """Only a block's end (a call), a message's end (pause, turn end, usage), an error and
    an interruption have anything to say."""

    def calls(self, event: Event) -> Sequence[Call]:
        if event.type != "content_block_stop":
            return ()
        block = getattr(event, "block", None)
        if not isinstance(block, Mapping) or block.get("type") != "tool_use":
            return ()
        # The call's input is the raw JSON text when the model's JSON did not parse, so the
        # tool's validation answers it with an invalid_input error the model can act on.
        call_input = getattr(event, "call_input", None)
        return (Call(str(block.get("id")), "tool", event, block.get("name"), call_input),)

    def pause(self, event: Event) -> Pause | None:
        message = _message(event)
        if message is None or message.get("stop_reason") != "tool_use":
            return None
        ids = tuple(str(b.get("id")) for b in _tool_uses(message))
        # The calls come with the pause too, each with its own content_block_stop event (what
        # policies and tools see), so a run restarted from a saved conversation can answer.
        calls = tuple(c for e in getattr(event, "tool_events", ()) for c in self.calls(e))
        return Pause(ids, calls)

    def turn_end(self, event: Event) -> str | None:
        message = _message(event)
        if message is not None:
            reason = message.get("stop_reason")
            if reason in CONTINUE_REASONS:
                return None
            return str(reason) if reason else "end_turn"
        if event.type == "error" and _error_type(event) in FATAL_STREAM_ERRORS:
            return "error"
        if event.type == "interrupted":
            return "cancelled"
        return None

    def severity(self, event: Event) -> Severity | None:
        if event.type != "error":
            return None
        # The channel asks again for a transient error; a fatal one ends the turn, and the
        # conversation stays usable for the next one.
        return "exhausted" if _error_type(event) in FATAL_STREAM_ERRORS else "retrying"

    def usage(self, event: Event) -> TokenCount | None:
        message = _message(event)
        if message is None or getattr(event, "restored", False):
            return None
        usage = message.get("usage")
        if not isinstance(usage, Mapping):
            return None
        return TokenCount(_int(usage.get("input_tokens")), _int(usage.get("output_tokens")))

    def unanswered(self, event: Event) -> tuple[str, str]:
        return "custom", f"{event.type} announces no tool call"

    def user_input(self, item: str | Mapping[str, Any]) -> JSONObject:
        if isinstance(item, str):
            return {"role": "user", "content": [{"type": "text", "text": item}]}
        return dict(item)

    def tool_reply(self, call: Call, reply: ToolReply) -> JSONObject:
        return {
            "type": "tool_result",
            "tool_use_id": call.id,
            "content": reply.content,
            "is_error": reply.is_error,
        }

    def reply_target(self, reply: Mapping[str, Any]) -> str:
        return str(reply.get("tool_use_id"))


def _error_type(event: Event) -> str | None:
    error = getattr(event, "error", None)
    kind = getattr(error, "type", None)
    return kind if isinstance(kind, str) else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


MESSAGES = MessagesDialect()
"""The Messages dialect (every Messages event's ``.dialect``)."""
