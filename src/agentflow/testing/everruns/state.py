"""One emulated Everruns session: its resource, event history, open streams and gates.

Every stored event has a ``sequence`` (1, 2, ...) and a UUIDv7-shaped id; the rendered SSE
message of each is kept beside it so replays and broadcasts serialise an event only once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio

from .._frames import CLOSE, Frame, Subscriber
from ..scenario import Step
from .wire import event_text

__all__ = [
    "CallKind",
    "EverrunsSession",
    "StreamSubscriber",
    "ToolCall",
    "TurnState",
    "completed_data",
]

CallKind = Literal["client", "approval", "question"]


class StreamSubscriber(Subscriber):
    """One open ``/sse`` connection with its ``types=`` / ``exclude=`` filters."""

    def __init__(self, types: frozenset[str], exclude: frozenset[str]) -> None:
        super().__init__()
        self.types = types
        self.exclude = exclude

    def wants(self, event_type: str) -> bool:
        """Whether this connection carries events of ``event_type``."""
        if self.types and event_type not in self.types:
            return False
        return event_type not in self.exclude


@dataclass
class ToolCall:
    """A tool call the turn waits on: a client-side tool, an approval or a question set."""

    id: str
    name: str
    arguments: dict[str, Any]
    kind: CallKind
    step: Step
    created_at: str
    gate_id: str | None = None
    """``approval_…`` / ``qset_…`` id for approvals and questions."""
    answered: bool = False
    success: bool = True
    result: Any = None
    error: str | None = None
    status: str = "success"
    questions: list[dict[str, Any]] = field(default_factory=list)


def completed_data(call: ToolCall) -> dict[str, Any]:
    """The ``tool.completed`` data of an answered call (result as text content parts)."""
    data: dict[str, Any] = {
        "tool_call_id": call.id,
        "tool_name": call.name,
        "success": call.success,
        "status": call.status,
    }
    if call.success:
        text = call.result if isinstance(call.result, str) else json.dumps(call.result)
        data["result"] = [{"type": "text", "text": text}]
    else:
        data["error"] = call.error or "tool call failed"
    return data


@dataclass
class TurnState:
    """The turn in progress: its steps, position, counters and the calls it waits on."""

    steps: tuple[Step, ...]
    turn_id: str
    input_message_id: str
    pos: int = 0
    iterations: int = 0
    tool_call_count: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    final_message_id: str | None = None
    final_text: str | None = None
    waiting: list[ToolCall] = field(default_factory=list)

    def usage(self) -> dict[str, int]:
        """Token counts of the turn so far (separate cache buckets, as the platform has)."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": 0,
            "cache_creation_tokens": 0,
        }


@dataclass
class EverrunsSession:
    """A session held by the emulator (``emu.sessions[id]``).

    ``status`` is the platform's: ``started`` (new), ``active`` (a turn runs or waits on a
    human), ``waitingfortoolresults`` (paused on client-side tools) or ``idle``.
    """

    id: str
    resource: dict[str, Any]
    status: str = "started"
    history: list[dict[str, Any]] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)
    seen_types: set[str] = field(default_factory=set)
    subscribers: set[StreamSubscriber] = field(default_factory=set)
    messages: list[dict[str, Any]] = field(default_factory=list)
    queued: list[dict[str, Any]] = field(default_factory=list)
    pending: dict[str, ToolCall] = field(default_factory=dict)
    active: TurnState | None = None
    next_turn: int = 0
    driving: bool = False
    driver_gen: int = 0
    cancel_scope: anyio.CancelScope | None = None
    deleted: bool = False
    input_tokens: int = 0
    output_tokens: int = 0

    def store(self, event: dict[str, Any]) -> None:
        """Append an event to history and push it to every connection that wants it."""
        frame = Frame("event", event["type"], text=event_text(event))
        self.positions[event["id"]] = len(self.history)
        self.history.append(event)
        self.frames.append(frame)
        self.seen_types.add(event["type"])
        for sub in self.subscribers:
            if sub.wants(event["type"]):
                sub.push(frame)

    def close_streams(self, frame: Frame = CLOSE) -> int:
        """End every open connection (after what is queued); returns how many."""
        count = len(self.subscribers)
        for sub in list(self.subscribers):
            sub.push(frame)
        self.subscribers.clear()
        return count

    def pending_of(self, kind: CallKind) -> list[ToolCall]:
        """The unanswered calls of one kind, in the order they were made."""
        return [call for call in self.pending.values() if call.kind == kind]

    def pending_approvals(self) -> list[dict[str, Any]]:
        """``pending_approvals`` as the session resource shows them."""
        return [
            {
                "id": call.gate_id,
                "tool_call_id": call.id,
                "tool_name": call.name,
                "arguments": call.arguments,
                "created_at": call.created_at,
            }
            for call in self.pending_of("approval")
        ]

    def pending_questions(self) -> list[dict[str, Any]]:
        """``pending_questions`` as the session resource shows them."""
        return [
            {
                "id": call.gate_id,
                "tool_call_id": call.id,
                "questions": call.questions,
                "created_at": call.created_at,
            }
            for call in self.pending_of("question")
        ]

    def render(self) -> dict[str, Any]:
        """The session resource (status, usage and pending gates as of now)."""
        usage = {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens}
        return {
            **self.resource,
            "status": self.status,
            "usage": usage,
            "pending_approvals": self.pending_approvals(),
            "pending_questions": self.pending_questions(),
        }
