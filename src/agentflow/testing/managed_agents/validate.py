"""Validation of an ``events.send`` batch: every reply must name a pending call of its kind.

The whole batch is checked before anything is stored, so a bad batch changes nothing
(400 ``invalid_request_error`` naming the offending ``events[i]`` and field).
"""

from __future__ import annotations

from typing import Any

from .._wire import invalid
from .session import EmulatedSession

__all__ = ["CLIENT_TYPES", "validate_send"]

CLIENT_TYPES = frozenset(
    (
        "user.message",
        "user.interrupt",
        "user.tool_confirmation",
        "user.custom_tool_result",
        "user.tool_result",
        "user.define_outcome",
        "system.message",
    )
)
_REPLY_ID = {
    "user.tool_confirmation": ("tool_use_id", "confirm"),
    "user.custom_tool_result": ("custom_tool_use_id", "custom"),
    "user.tool_result": ("tool_use_id", "tool_result"),
}


def _content(event: dict[str, Any], where: str, *, required: bool) -> None:
    if "content" not in event or event["content"] is None:
        if required:
            raise invalid(f"{where}.content is required")
        return
    content = event["content"]
    if not isinstance(content, list) or not content:
        raise invalid(f"{where}.content must be a non-empty list of content blocks")
    for j, block in enumerate(content):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise invalid(f"{where}.content[{j}] must be an object with a 'type'")
        if block["type"] == "text" and not isinstance(block.get("text"), str):
            raise invalid(f"{where}.content[{j}].text must be a string")


def validate_send(session: EmulatedSession, events: Any, self_hosted: bool) -> None:
    """Raise a 400 :class:`~._wire.ApiError` unless ``events`` is a valid batch for ``session``."""
    if not isinstance(events, list) or not events:
        raise invalid("'events' must be a non-empty list")
    claimed: set[str] = set()
    for i, event in enumerate(events):
        where = f"events[{i}]"
        if not isinstance(event, dict):
            raise invalid(f"{where} must be an object")
        etype = event.get("type")
        if etype not in CLIENT_TYPES:
            raise invalid(
                f"{where}.type {etype!r} cannot be sent; expected one of {sorted(CLIENT_TYPES)}"
            )
        if etype in ("user.message", "system.message"):
            _content(event, where, required=True)
        if etype == "system.message":
            if i != len(events) - 1:
                raise invalid(f"{where}: system.message must be the last event of the batch")
            if any(e.get("type") == "system.message" for e in events[:i] if isinstance(e, dict)):
                raise invalid(f"{where}: at most one system.message per batch")
        if etype == "user.define_outcome":
            if not isinstance(event.get("description"), str) or not isinstance(
                event.get("rubric"), dict
            ):
                raise invalid(
                    f"{where}: user.define_outcome needs 'description' and a 'rubric' object"
                )
        if etype == "user.interrupt":
            tid = event.get("session_thread_id")
            if tid is not None and tid != session.primary_thread_id and tid not in session.threads:
                raise invalid(f"{where}.session_thread_id {tid!r} names no thread of this session")
        if etype not in _REPLY_ID:
            continue
        key, kind = _REPLY_ID[etype]
        if etype == "user.tool_result" and not self_hosted:
            raise invalid(f"{where}: user.tool_result is only accepted on self-hosted environments")
        target = event.get(key)
        if not isinstance(target, str) or not target:
            raise invalid(f"{where}.{key} is required")
        call = session.pending.get(target)
        if call is None or call.kind != kind:
            raise invalid(
                f"{where}.{key} {target!r} does not name a pending event awaiting {etype}"
            )
        if target in claimed:
            raise invalid(f"{where}.{key} {target!r} is answered twice in this batch")
        claimed.add(target)
        if etype == "user.tool_confirmation":
            result = event.get("result")
            if result not in ("allow", "deny"):
                raise invalid(f"{where}.result must be 'allow' or 'deny', got {result!r}")
            if event.get("deny_message") is not None and result != "deny":
                raise invalid(f"{where}.deny_message is only allowed with result 'deny'")
        else:
            _content(event, where, required=False)
            if "is_error" in event and not isinstance(event["is_error"], bool):
                raise invalid(f"{where}.is_error must be a boolean")
