"""What a client sends to an Everruns session, as plain dicts (the wire's own bodies).

- :func:`user_message`: a ``POST .../messages`` body (starts a turn, or waits for the next);
- :func:`tool_result`: one item of ``POST .../tool-results`` ``{"tool_results": [...]}``;
- :func:`tool_approval`: one item of ``POST .../tool-approvals`` ``{"decisions": [...]}``;
- :func:`question_answer`: a ``POST .../question-answers`` body for one question set.

The approval and question bodies are inferred (the platform passes them through without
documenting them): ``{"decisions": [{"tool_call_id", "approval_id", "decision": "allow" |
"deny", "reason"?}]}`` and ``{"question_set_id", "answers": {question_id: answer}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

__all__ = ["question_answer", "tool_approval", "tool_result", "user_message"]


def user_message(text: str, *, controls: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A user text message: ``{"message": {"role": "user", "content": [text part]}}``."""
    if not isinstance(text, str):
        raise TypeError(f"user_message takes a str, got {type(text).__name__}")
    body: dict[str, Any] = {
        "message": {"role": "user", "content": [{"type": "text", "text": text}]}
    }
    if controls is not None:
        body["controls"] = dict(controls)
    return body


def tool_result(
    tool_call_id: str, result: Any = None, *, error: str | None = None
) -> dict[str, Any]:
    """The result of one client-side tool call (``error`` instead of ``result`` on failure)."""
    if error is not None:
        return {"tool_call_id": tool_call_id, "error": error}
    return {"tool_call_id": tool_call_id, "result": result}


def tool_approval(
    tool_call_id: str,
    decision: Literal["allow", "deny"],
    *,
    approval_id: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """An allow / deny decision on a held-back tool call (``reason`` goes to the agent)."""
    if decision not in ("allow", "deny"):
        raise ValueError(f"decision must be 'allow' or 'deny', got {decision!r}")
    item: dict[str, Any] = {"tool_call_id": tool_call_id, "decision": decision}
    if approval_id is not None:
        item["approval_id"] = approval_id
    if reason:
        item["reason"] = reason
    return item


def question_answer(question_set_id: str, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers to one question set: ``{question_id (or its text): answer}``."""
    return {"question_set_id": question_set_id, "answers": dict(answers)}
