"""The :class:`~agentflow.ToolCallRecord` each answered (or left) call leaves in the result."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..results import CallKind, ToolCallRecord

if TYPE_CHECKING:
    from ..dialect import Call

__all__ = ["record_for", "recovered_record", "unanswered_record"]

_KINDS: dict[str, CallKind] = {"tool": "custom", "approval": "confirmation", "question": "question"}


def _input(call: Call | None) -> Any:
    if call is None:
        return {}
    value = call.input
    return dict(value) if isinstance(value, dict) else value


def record_for(call: Call, **fields: Any) -> ToolCallRecord:
    """A record of ``call`` with ``fields`` (outcome, reply, duration, ...)."""
    return ToolCallRecord(
        id=call.id, name=call.name, input=_input(call), kind=_KINDS[call.kind], **fields
    )


def unanswered_record(call_id: str, call: Call | None, why: str) -> ToolCallRecord:
    """A call left for its owner (``call`` is None when it was not found)."""
    if call is None:
        return ToolCallRecord(id=call_id, error=why)
    return record_for(call, error=why)


def recovered_record(call_id: str, call: Call | None, reply: dict[str, Any]) -> ToolCallRecord:
    """A reply stored by an earlier run, posted as it is."""
    is_error = bool(reply.get("is_error", False))
    if call is None:
        return ToolCallRecord(id=call_id, outcome="recovered", is_error=is_error, reply=reply)
    return record_for(call, outcome="recovered", is_error=is_error, reply=reply)
