"""Rendering a planned response on the Messages wire: SSE frames, or one message as JSON.

A :class:`Plan` is the content of one response (blocks, raw events, pauses, usage marks, or
a failure part way) and how it stops. :func:`stream_frames` turns it into the frames of a
streamed response in the real order (``message_start``, ``ping``, per block
``content_block_start`` / ``content_block_delta``* / ``content_block_stop``, ``message_delta``
with cumulative usage, ``message_stop``); :func:`message_body` into a non-streamed message.
No I/O.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._frames import Frame

__all__ = [
    "PING",
    "Block",
    "Failure",
    "Pause",
    "Plan",
    "Raw",
    "UsageMark",
    "error_data",
    "message_body",
    "pieces",
    "stream_frames",
    "text_block",
    "thinking_block",
    "tool_block",
]

PING = 'event: ping\ndata: {"type": "ping"}\n\n'
"""The keep-alive the Messages API sends (an SSE event the SDK drops by name)."""
TEXT_PIECE = 12
JSON_PIECE = 8


@dataclass(frozen=True)
class Block:
    """One content block: its empty start form, its deltas and its complete form."""

    start: dict[str, Any]
    deltas: tuple[dict[str, Any], ...]
    final: dict[str, Any]
    chars: int


@dataclass(frozen=True)
class Raw:
    """An event written as given (the ``Emit`` step); the SSE name is its ``type``."""

    event: Mapping[str, Any]


@dataclass(frozen=True)
class Pause:
    """Wait this long before the next frame (the ``Wait`` step)."""

    seconds: float


@dataclass(frozen=True)
class UsageMark:
    """An extra ``message_delta`` (null stop reason) with the usage so far (``Usage``)."""


@dataclass(frozen=True)
class Failure:
    """The response fails here with an ``event: error`` (streamed) or an HTTP error."""

    type: str
    message: str


Part = Block | Raw | Pause | UsageMark | Failure


@dataclass
class Plan:
    """One response: its parts, its stop reason and, for ``refusal``, its stop details."""

    parts: list[Part] = field(default_factory=list)
    stop_reason: str = "end_turn"
    stop_details: dict[str, Any] | None = None

    @property
    def failure(self) -> Failure | None:
        """The failure the response ends with, if any."""
        last = self.parts[-1] if self.parts else None
        return last if isinstance(last, Failure) else None


def pieces(text: str, size: int) -> list[str]:
    """Cut ``text`` into pieces of at most ``size`` characters, at least two when it can.

    Cuts fall anywhere (inside words, JSON strings and escapes), as model tokens do.
    """
    if len(text) < 2:
        return [text]
    size = max(1, min(size, -(-len(text) // 2)))
    return [text[i : i + size] for i in range(0, len(text), size)]


def text_block(text: str, chunks: list[str] | None = None) -> Block:
    """A text block streamed as several ``text_delta``s (``chunks`` when given)."""
    deltas = tuple({"type": "text_delta", "text": c} for c in chunks or pieces(text, TEXT_PIECE))
    return Block({"type": "text", "text": ""}, deltas, {"type": "text", "text": text}, len(text))


def thinking_block(thinking: str) -> Block:
    """A thinking block: ``thinking_delta``s, then a ``signature_delta`` before its stop."""
    signature = base64.b64encode(hashlib.sha256(thinking.encode()).digest()).decode()
    deltas = [{"type": "thinking_delta", "thinking": c} for c in pieces(thinking, TEXT_PIECE)]
    deltas.append({"type": "signature_delta", "signature": signature})
    final = {"type": "thinking", "thinking": thinking, "signature": signature}
    return Block(
        {"type": "thinking", "thinking": "", "signature": ""}, tuple(deltas), final, len(thinking)
    )


def tool_block(tool_id: str, name: str, tool_input: Mapping[str, Any]) -> Block:
    """A ``tool_use`` block whose input arrives as ``input_json_delta`` fragments.

    The first fragment is empty, as the API often sends; the others cut the JSON anywhere.
    """
    text = json.dumps(dict(tool_input), ensure_ascii=False)
    fragments = ["", *pieces(text, JSON_PIECE)] if text != "{}" else [""]
    deltas = tuple({"type": "input_json_delta", "partial_json": f} for f in fragments)
    start = {"type": "tool_use", "id": tool_id, "name": name, "input": {}}
    final = {"type": "tool_use", "id": tool_id, "name": name, "input": dict(tool_input)}
    return Block(start, deltas, final, len(text))


def _tokens(chars: int) -> int:
    return max(1, (chars + 3) // 4)


def _usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output_tokens,
    }


def _dumps(data: Mapping[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _event(data: Mapping[str, Any]) -> Frame:
    return Frame("event", str(data["type"]), _dumps(data))


def error_data(error_type: str, message: str, request_id: str) -> dict[str, Any]:
    """The body of an ``event: error`` frame (and of an HTTP error), with the request id."""
    return {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": request_id,
    }


def _stop_delta(plan: Plan, reason: str | None) -> dict[str, Any]:
    delta: dict[str, Any] = {"stop_reason": reason, "stop_sequence": None}
    if reason is not None and plan.stop_details is not None:
        delta["stop_details"] = plan.stop_details
    return delta


def stream_frames(
    plan: Plan, *, message_id: str, model: str, input_tokens: int, request_id: str
) -> Iterator[Frame | float]:
    """The frames of a streamed response; a ``float`` means "pause that many seconds"."""
    message = message_body(Plan(), message_id=message_id, model=model, input_tokens=input_tokens)
    message.update(content=[], stop_reason=None, usage=_usage(input_tokens, 1))
    yield _event({"type": "message_start", "message": message})
    yield Frame("raw", text=PING)  # the API pings once early; not counted by the faults
    index = chars = 0
    marks: list[int] = []
    for part in plan.parts:
        if isinstance(part, Block):
            yield _event(
                {"type": "content_block_start", "index": index, "content_block": part.start}
            )
            for delta in part.deltas:
                yield _event({"type": "content_block_delta", "index": index, "delta": delta})
            yield _event({"type": "content_block_stop", "index": index})
            index += 1
            chars += part.chars
        elif isinstance(part, Raw):
            yield _event(part.event)
        elif isinstance(part, Pause):
            yield float(part.seconds)
        elif isinstance(part, UsageMark):
            marks.append(chars)
        else:
            yield Frame("error", "error", _dumps(error_data(part.type, part.message, request_id)))
            return
    # NOTE: usage in every message_delta is a cumulative total; a client overwrites it.
    for mark in marks:
        usage = _usage(input_tokens, _tokens(mark))
        yield _event({"type": "message_delta", "delta": _stop_delta(plan, None), "usage": usage})
    usage = _usage(input_tokens, _tokens(chars))
    delta = _stop_delta(plan, plan.stop_reason)
    yield _event({"type": "message_delta", "delta": delta, "usage": usage})
    yield _event({"type": "message_stop"})


def message_body(plan: Plan, *, message_id: str, model: str, input_tokens: int) -> dict[str, Any]:
    """The complete message of a non-streamed response (``plan`` must not fail)."""
    blocks = [p for p in plan.parts if isinstance(p, Block)]
    body: dict[str, Any] = {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [b.final for b in blocks],
        "stop_reason": plan.stop_reason,
        "stop_sequence": None,
        "usage": _usage(input_tokens, _tokens(sum(b.chars for b in blocks))),
    }
    if plan.stop_details is not None:
        body["stop_details"] = plan.stop_details
    return body
