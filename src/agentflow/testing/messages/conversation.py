"""Validating a ``POST /v1/messages`` body and finding where it stands in the scenario.

No I/O: :func:`validate` checks a parsed body the way the Messages API does (400
``invalid_request_error`` naming the field), and :func:`locate` derives the scenario position
from the ``messages`` list alone, so the emulator keeps no conversation state:

- the **turn** is the number of user messages that start a turn (those with no
  ``tool_result`` block), minus one;
- the **segment** inside that turn is the number of assistant messages after the last such
  user message: each one is a response of this turn already received (a tool group answered
  with ``tool_result`` blocks, or a ``pause_turn`` response sent back as it is).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._wire import invalid

__all__ = ["Position", "Request", "block_ids", "locate", "validate"]


@dataclass(frozen=True, order=True)
class Position:
    """Where a request stands: the scenario turn and the segment (response) inside it."""

    turn: int
    segment: int


@dataclass(frozen=True)
class Request:
    """The fields of a valid request body the emulator uses."""

    model: str
    max_tokens: int
    messages: list[dict[str, Any]]
    stream: bool
    position: Position


def _blocks(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    content = message["content"]
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return list(content)


def block_ids(message: Mapping[str, Any], block_type: str, key: str) -> list[str]:
    """The ``key`` of every block of ``block_type`` in a message (``tool_use`` ids, ...)."""
    return [str(b.get(key)) for b in _blocks(message) if b.get("type") == block_type]


def _check_message(index: int, message: Any, last: bool) -> None:
    where = f"messages.{index}"
    if not isinstance(message, Mapping):
        raise invalid(f"{where}: expected an object, got {type(message).__name__}")
    role = message.get("role")
    if role not in ("user", "assistant"):
        raise invalid(f"{where}.role: expected 'user' or 'assistant', got {role!r}")
    content = message.get("content")
    if not isinstance(content, (str, list)):
        raise invalid(f"{where}.content: expected a string or a list of content blocks")
    for j, block in enumerate(content if isinstance(content, list) else ()):
        if not isinstance(block, Mapping) or not isinstance(block.get("type"), str):
            raise invalid(f"{where}.content.{j}: expected a content block with a string 'type'")
        wrong = {"user": "tool_use", "assistant": "tool_result"}[role]
        if block["type"] == wrong:
            raise invalid(f"{where}.content.{j}: {wrong} blocks are not allowed in {role} messages")
    # NOTE: only the final assistant message (a prefill) may be empty, as in the real API.
    if not content and not (last and role == "assistant"):
        raise invalid(f"{where}: all messages must have non-empty content")


def _check_tool_pairs(messages: list[dict[str, Any]]) -> None:
    """Every ``tool_use`` is answered in the next message; every ``tool_result`` answers one."""
    for i, message in enumerate(messages):
        if message["role"] == "assistant":
            uses = block_ids(message, "tool_use", "id")
            answered = (
                set(block_ids(messages[i + 1], "tool_result", "tool_use_id"))
                if (i + 1 < len(messages))
                else set()
            )
            missing = [u for u in uses if u not in answered]
            if missing:
                raise invalid(
                    f"messages.{i + 1}: tool_use ids were found without tool_result blocks "
                    f"immediately after: {', '.join(missing)}. Each tool_use block must have a "
                    "tool_result block in the next message."
                )
            continue
        known = set(block_ids(messages[i - 1], "tool_use", "id")) if i else set()
        for j, block in enumerate(_blocks(message)):
            if block.get("type") == "tool_result" and block.get("tool_use_id") not in known:
                raise invalid(
                    f"messages.{i}.content.{j}: unexpected tool_use_id found in tool_result "
                    f"blocks: {block.get('tool_use_id')}. Each tool_result block must have a "
                    "corresponding tool_use block in the previous message."
                )


def _check_tools(tools: Any) -> None:
    if not isinstance(tools, list):
        raise invalid("tools: expected a list of tool definitions")
    names: set[str] = set()
    for i, tool in enumerate(tools):
        if not isinstance(tool, Mapping) or not isinstance(tool.get("name"), str):
            raise invalid(f"tools.{i}: expected an object with a string 'name'")
        if tool.get("type", "custom") == "custom" and not isinstance(
            tool.get("input_schema"), Mapping
        ):
            raise invalid(f"tools.{i}.input_schema: Field required")
        if tool["name"] in names:
            raise invalid(f"tools: tool names must be unique, {tool['name']!r} repeats")
        names.add(tool["name"])


def validate(body: Any) -> Request:
    """Check a parsed request body; raise a 400 ``ApiError`` naming the first problem."""
    if not isinstance(body, Mapping):
        raise invalid("request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("model: Field required (a non-empty string)")
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise invalid(f"max_tokens: Field required (an integer >= 1), got {max_tokens!r}")
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise invalid("messages: Field required (a list of messages)")
    if not messages:
        raise invalid("messages: at least one message is required")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise invalid(f"stream: expected a boolean, got {stream!r}")
    if "tools" in body:
        _check_tools(body["tools"])
    system = body.get("system")
    if system is not None and not isinstance(system, (str, list)):
        raise invalid("system: expected a string or a list of text blocks")
    for i, message in enumerate(messages):
        _check_message(i, message, i == len(messages) - 1)
    if messages[0]["role"] != "user":
        raise invalid("messages.0: the first message must use the 'user' role")
    for i in range(1, len(messages)):
        if messages[i]["role"] == messages[i - 1]["role"]:
            raise invalid(
                f"messages.{i}: roles must alternate between 'user' and 'assistant', "
                f"but found two {messages[i]['role']!r} messages in a row"
            )
    _check_tool_pairs(messages)
    return Request(model, max_tokens, messages, stream, locate(messages))


def locate(messages: list[dict[str, Any]]) -> Position:
    """The scenario position of a (valid) message list; see the module docstring."""
    turn = -1
    segment = 0
    for message in messages:
        if message["role"] == "assistant":
            segment += 1
        elif not block_ids(message, "tool_result", "tool_use_id"):
            turn += 1
            segment = 0
    return Position(max(turn, 0), segment)
