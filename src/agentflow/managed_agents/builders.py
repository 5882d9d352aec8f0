"""Builders for the events a client sends (``POST /v1/sessions/{id}/events``).

Each returns a plain JSON-ready dict, ready for ``client.events.send(session_id, [...])`` or
``ctx.send(...)``. Server-side fields (``id``, ``processed_at``, echoed thread ids) are never
included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

__all__ = [
    "custom_tool_result",
    "define_outcome",
    "interrupt",
    "system_message",
    "tool_confirmation",
    "tool_result",
    "user_message",
]

Blocks = Sequence[Mapping[str, Any]]


def _blocks(content: str | Blocks, *, what: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    blocks = [dict(b) for b in content]
    for block in blocks:
        if not isinstance(block.get("type"), str):
            raise ValueError(f"{what}: every content block needs a 'type', got {block!r}")
    return blocks


def user_message(content: str | Blocks) -> dict[str, Any]:
    """A ``user.message``: a string becomes one text block; blocks are sent as given."""
    blocks = _blocks(content, what="user_message")
    if not blocks:
        raise ValueError("user_message: content must not be empty")
    return {"type": "user.message", "content": blocks}


def tool_confirmation(
    tool_use_id: str,
    result: Literal["allow", "deny"],
    deny_message: str | None = None,
) -> dict[str, Any]:
    """A ``user.tool_confirmation`` answering an ``ask``-gated tool call.

    ``deny_message`` is only allowed with ``"deny"`` (the API rejects it with ``"allow"``).
    """
    if result not in ("allow", "deny"):
        raise ValueError(f"tool_confirmation: result must be 'allow' or 'deny', got {result!r}")
    event: dict[str, Any] = {
        "type": "user.tool_confirmation",
        "tool_use_id": tool_use_id,
        "result": result,
    }
    if deny_message is not None:
        if result != "deny":
            raise ValueError("tool_confirmation: deny_message is only allowed with 'deny'")
        event["deny_message"] = deny_message
    return event


def custom_tool_result(
    custom_tool_use_id: str, content: str | Blocks, is_error: bool = False
) -> dict[str, Any]:
    """A ``user.custom_tool_result`` answering ``agent.custom_tool_use``.

    A string becomes one text block. Empty content is rejected by the API, so it is
    rejected here too.
    """
    blocks = _blocks(content, what="custom_tool_result")
    if not blocks or blocks == [{"type": "text", "text": ""}]:
        raise ValueError("custom_tool_result: content must not be empty")
    event: dict[str, Any] = {
        "type": "user.custom_tool_result",
        "custom_tool_use_id": custom_tool_use_id,
        "content": blocks,
    }
    if is_error:
        event["is_error"] = True
    return event


def tool_result(tool_use_id: str, content: str | Blocks, is_error: bool = False) -> dict[str, Any]:
    """A ``user.tool_result`` (self-hosted environments run toolset tools client-side)."""
    blocks = _blocks(content, what="tool_result")
    if not blocks or blocks == [{"type": "text", "text": ""}]:
        raise ValueError("tool_result: content must not be empty")
    event: dict[str, Any] = {
        "type": "user.tool_result",
        "tool_use_id": tool_use_id,
        "content": blocks,
    }
    if is_error:
        event["is_error"] = True
    return event


def interrupt(thread_id: str | None = None) -> dict[str, Any]:
    """A ``user.interrupt``: pause every thread, or only ``thread_id``."""
    event: dict[str, Any] = {"type": "user.interrupt"}
    if thread_id is not None:
        event["session_thread_id"] = thread_id
    return event


def define_outcome(
    description: str,
    rubric: str | Mapping[str, Any],
    max_iterations: int | None = None,
) -> dict[str, Any]:
    """A ``user.define_outcome``: a goal graded against ``rubric``.

    A string rubric becomes ``{"type": "text", "content": rubric}``; pass
    ``{"type": "file", "file_id": ...}`` for a stored one. ``max_iterations`` is 1 to 20.
    """
    rub = {"type": "text", "content": rubric} if isinstance(rubric, str) else dict(rubric)
    event: dict[str, Any] = {
        "type": "user.define_outcome",
        "description": description,
        "rubric": rub,
    }
    if max_iterations is not None:
        if not 1 <= max_iterations <= 20:
            raise ValueError(f"define_outcome: max_iterations must be 1..20, got {max_iterations}")
        event["max_iterations"] = max_iterations
    return event


def system_message(text: str) -> dict[str, Any]:
    """A ``system.message`` (text only). Send it last, after the input it accompanies."""
    if not text:
        raise ValueError("system_message: text must not be empty")
    return {"type": "system.message", "content": [{"type": "text", "text": text}]}
