"""m8tes stream frames as the platform writes them: pure builders, no I/O.

The wire is data-only SSE: each frame is ``data: <json>\\n\\n`` with a JSON object naming
its ``type``; a stream that reaches the end of a turn closes with ``data: [DONE]``. Keys use
the platform's mixed casing: ``toolCallId``, ``toolName`` and ``messageId`` in camelCase,
everything else (``run_id``, ``stop_reason``, ``request_id``, metrics) in snake_case.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "DONE_MARKER",
    "KEEPALIVE",
    "chunks",
    "done",
    "encode",
    "error",
    "json_fragments",
    "message",
    "reasoning_block",
    "run_metrics",
    "sse",
    "text_block",
    "tool_call",
    "tool_result",
]

Frame = dict[str, Any]

DONE_MARKER = "data: [DONE]\n\n"
"""The literal end-of-stream marker written after a turn's ``done`` frame."""

KEEPALIVE = b'data: {"type":"keep-alive"}\n\n'
"""The heartbeat written while nothing else is sent (a JSON frame, not a comment)."""


def encode(frame: Frame) -> str:
    """Compact JSON, as the platform sends it (non-ASCII kept as is)."""
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def sse(frame: Frame) -> str:
    """The complete SSE message of one frame."""
    return f"data: {encode(frame)}\n\n"


def chunks(text: str, size: int = 3) -> list[str]:
    """Split ``text`` into deltas of about ``size`` words that join back to ``text``."""
    words = text.split(" ")
    groups = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    return [g if i == 0 else " " + g for i, g in enumerate(groups)] or [""]


def json_fragments(value: Any, size: int = 16) -> list[str]:
    """The JSON text of ``value`` cut into ``size``-character argument fragments."""
    text = encode(value)
    return [text[i : i + size] for i in range(0, len(text), size)] or [text]


def message(message_id: str, *, end: bool = False) -> Frame:
    """``message-start`` / ``message-end`` around one model response."""
    return {"type": "message-end" if end else "message-start", "messageId": message_id}


def text_block(block_id: str, deltas: list[str]) -> list[Frame]:
    """``text-start``, one ``text-delta`` per piece, ``text-end``."""
    return [
        {"type": "text-start", "id": block_id},
        *({"type": "text-delta", "id": block_id, "delta": d} for d in deltas),
        {"type": "text-end", "id": block_id},
    ]


def reasoning_block(block_id: str, deltas: list[str]) -> list[Frame]:
    """``reasoning-start``, one ``reasoning-delta`` per piece, ``reasoning-end``."""
    return [
        {"type": "reasoning-start", "id": block_id},
        *({"type": "reasoning-delta", "id": block_id, "delta": d} for d in deltas),
        {"type": "reasoning-end", "id": block_id},
    ]


def tool_call(call_id: str, name: str, tool_input: Any) -> list[Frame]:
    """``tool-call-start``, the input as ``tool-call-delta`` JSON fragments, ``tool-call-end``."""
    return [
        {"type": "tool-call-start", "toolCallId": call_id, "toolName": name},
        *(
            {"type": "tool-call-delta", "toolCallId": call_id, "delta": piece}
            for piece in json_fragments(tool_input)
        ),
        {"type": "tool-call-end", "toolCallId": call_id},
    ]


def tool_result(call_id: str, result: Any, *, is_error: bool = False) -> list[Frame]:
    """``tool-result-start`` and ``tool-result-end`` carrying the server-side result."""
    end: Frame = {"type": "tool-result-end", "toolCallId": call_id, "result": result}
    if is_error:
        end["is_error"] = True
    return [{"type": "tool-result-start", "toolCallId": call_id}, end]


def run_metrics(
    *,
    model_requests: int,
    input_tokens: int,
    output_tokens: int,
    stop_reason: str | None = None,
    completion_state: str | None = None,
) -> Frame:
    """A ``run_metrics`` frame; the figures are emulated, and deterministic for a scenario."""
    frame: Frame = {
        "type": "run_metrics",
        "execution_time_ms": 250 * max(model_requests, 1),
        "input_tokens_used": input_tokens,
        "output_tokens_used": output_tokens,
        # Emulated prices: $3 / $15 per million input / output tokens.
        "claude_token_cost_usd": round(input_tokens * 3e-6 + output_tokens * 15e-6, 6),
    }
    if stop_reason is not None:
        frame["stop_reason"] = stop_reason
        frame["completion_state"] = completion_state
        frame["unresolved_tool_use_ids"] = []
    return frame


def done(stop_reason: str, completion_state: str = "complete") -> Frame:
    """The terminal ``done`` frame of a turn."""
    return {
        "type": "done",
        "stop_reason": stop_reason,
        "completion_state": completion_state,
        "unresolved_tool_use_ids": [],
    }


def error(message: str, code: str | None = None) -> Frame:
    """A run-level ``error`` frame (``error`` is the message string)."""
    frame: Frame = {"type": "error", "error": message}
    if code is not None:
        frame["error_code"] = code
    return frame
