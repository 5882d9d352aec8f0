"""The content-block events: ``content_block_start``, ``content_block_delta``,
``content_block_stop``.

The channel fills in what the stream only implies: which block a delta belongs to
(``.tool_name``, ``.call_id``, ``.partial_input`` on ``input_json_delta``) and the complete
block on ``content_block_stop`` (:attr:`ContentBlockStop.block`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from ..partial import parse_partial
from .base import TOOL_BLOCKS, MessagesEvent, NoError, enrich_field
from .content import ContentBlock, Delta

__all__ = ["ContentBlockDelta", "ContentBlockStart", "ContentBlockStop"]

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


class ContentBlockStart(NoError, MessagesEvent):
    """A content block opens at ``index``; a ``tool_use`` block names its tool here."""

    type: Literal["content_block_start"]
    index: int
    content_block: ContentBlock

    @property
    def kind(self) -> str | None:
        return "tool.started" if self.content_block.type in TOOL_BLOCKS else None

    @property
    def tool_name(self) -> str | None:
        block = self.content_block
        return block.name if block.type in TOOL_BLOCKS else None

    @property
    def call_id(self) -> str | None:
        block = self.content_block
        return block.id if block.type in TOOL_BLOCKS else None


class ContentBlockDelta(NoError, MessagesEvent):
    """A piece of the block at ``index``: text, tool input JSON, thinking, a signature or a
    citation (``delta``)."""

    type: Literal["content_block_delta"]
    index: int
    delta: Delta
    _block: ClassVar[Any] = None
    _upto: ClassVar[int] = 0

    def enrich(self, block: Any, upto: int) -> None:
        """Name the block this delta belongs to (done by the channel's message builder)."""
        enrich_field(self, "_block", block)
        enrich_field(self, "_upto", upto)

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
        return start.name if start is not None and start.type in TOOL_BLOCKS else None

    @property
    def call_id(self) -> str | None:
        start = getattr(self._block, "start", None)
        return start.id if start is not None and start.type in TOOL_BLOCKS else None


class ContentBlockStop(NoError, MessagesEvent):
    """The block at ``index`` is complete; :attr:`block` holds it whole."""

    type: Literal["content_block_stop"]
    index: int
    _done: ClassVar[dict[str, Any] | None] = None
    _input: ClassVar[Any] = None

    def enrich(self, block: dict[str, Any], call_input: Any = None) -> None:
        """Attach the complete block (done by the channel's message builder)."""
        enrich_field(self, "_done", block)
        enrich_field(self, "_input", call_input)

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
        return block.get("name") if block is not None and block.get("type") in TOOL_BLOCKS else None

    @property
    def call_id(self) -> str | None:
        block = self._done
        return block.get("id") if block is not None and block.get("type") in TOOL_BLOCKS else None

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
