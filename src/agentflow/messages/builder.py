"""Building one response's message from its stream events, enriching each event on the way.

:class:`MessageBuilder` is what the SDK's ``MessageStream`` snapshot does, but cheaper: text,
thinking and tool-input fragments are appended to lists and joined once, when their block
stops (never a partial JSON parse per delta). Each event gets what the stream only implies:

- an ``input_json_delta`` learns its block (tool name, call id, and the fragments so far for
  a best-effort ``.partial_input`` computed on access);
- ``content_block_stop`` gets the complete block (text joined; tool input parsed);
- ``message_stop`` gets the whole message (content in index order, stop reason, usage).

No I/O; the channel feeds it every event of one response, in order.
"""

from __future__ import annotations

import json
from typing import Any

from .events.content import ContentBlock

__all__ = ["MessageBuilder"]

_INPUT_BLOCKS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})


class _Block:
    """One open content block: how it started and the fragments received so far."""

    __slots__ = ("citations", "parts", "signature", "start")

    def __init__(self, start: ContentBlock) -> None:
        self.start = start
        self.parts: list[str] = []
        self.signature: str | None = None
        self.citations: list[Any] | None = None


class MessageBuilder:
    """Accumulates one response (see the module docstring); :meth:`add` every event."""

    __slots__ = ("_blocks", "_content", "_tool_stops", "message", "stopped")

    def __init__(self) -> None:
        self.message: dict[str, Any] | None = None
        """The message so far (``None`` before ``message_start``)."""
        self.stopped = False
        """True once ``message_stop`` arrived: the message is complete."""
        self._blocks: dict[int, _Block] = {}
        self._content: dict[int, dict[str, Any]] = {}
        self._tool_stops: list[Any] = []

    def add(self, event: Any) -> None:
        """Take one event of the response into the message, enriching it."""
        kind = event.type
        if kind == "content_block_delta":
            block = self._blocks.get(event.index)
            if block is None:
                return  # a delta for a block that never started: nothing to add it to
            delta = event.delta
            dtype = delta.type
            if dtype == "text_delta":
                block.parts.append(delta.text)
            elif dtype == "input_json_delta":
                block.parts.append(delta.partial_json)
                event.enrich(block, len(block.parts))
            elif dtype == "thinking_delta":
                block.parts.append(delta.thinking)
            elif dtype == "signature_delta":
                block.signature = delta.signature
            elif dtype == "citations_delta":
                if block.citations is None:
                    block.citations = []
                block.citations.append(delta.citation)
        elif kind == "content_block_start":
            self._open()
            self._blocks[event.index] = _Block(event.content_block)
        elif kind == "content_block_stop":
            block = self._blocks.pop(event.index, None)
            if block is not None:
                done, call_input = _finish(block)
                self._content[event.index] = done
                event.enrich(done, call_input)
                if done.get("type") == "tool_use":
                    self._tool_stops.append(event)
        elif kind == "message_delta":
            self._stop_info(event)
        elif kind == "message_start":
            message = event.message.model_dump(mode="json", exclude_none=True)
            message.setdefault("stop_reason", None)
            message.setdefault("stop_sequence", None)
            message["content"] = []
            self.message = message
        elif kind == "message_stop":
            message = self._open()
            for index in sorted(self._blocks):  # blocks the stream never closed
                self._content[index] = _finish(self._blocks[index])[0]
            self._blocks.clear()
            message["content"] = [self._content[i] for i in sorted(self._content)]
            self.stopped = True
            event.enrich(message, tuple(self._tool_stops))

    def _open(self) -> dict[str, Any]:
        if self.message is None:  # a stream without message_start: build what we can
            self.message = {"type": "message", "role": "assistant", "content": []}
        return self.message

    def _stop_info(self, event: Any) -> None:
        message = self._open()
        delta = event.delta
        message["stop_reason"] = delta.stop_reason
        message["stop_sequence"] = delta.stop_sequence
        extra = delta.model_dump(mode="json", exclude_unset=True)
        for key, value in extra.items():
            if key not in ("stop_reason", "stop_sequence"):
                message[key] = value
        if event.usage is not None:
            # Running totals of this response: overwrite what they name, keep the rest.
            usage = message.get("usage") or {}
            usage.update(
                {k: v for k, v in event.usage.model_dump(mode="json").items() if v is not None}
            )
            message["usage"] = usage


def _finish(block: _Block) -> tuple[dict[str, Any], Any]:
    """The complete block, and the input a tool call gets (parsed, or the raw JSON text)."""
    done = block.start.model_dump(mode="json", exclude_none=True)
    kind = done.get("type")
    call_input: Any = None
    if kind == "text":
        done["text"] = "".join(block.parts)
        if block.citations is not None:
            done["citations"] = block.citations
    elif kind == "thinking":
        done["thinking"] = "".join(block.parts)
        if block.signature is not None:
            done["signature"] = block.signature
    elif kind in _INPUT_BLOCKS:
        text = "".join(block.parts)
        call_input = done.get("input") if not text.strip() else None
        if call_input is None:
            try:
                call_input = json.loads(text) if text.strip() else {}
            except ValueError:
                call_input = text  # the model's JSON is broken: the tool says so
        done["input"] = call_input if isinstance(call_input, dict) else {}
    return done, call_input
