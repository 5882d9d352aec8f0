"""One emulated m8tes run: its frames, open streams, human gates and the resources it renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import anyio

from .._frames import CLOSE, Frame, Subscriber
from .._wire import Clock, Ids
from ..scenario import Scenario
from .frames import DONE_MARKER, sse

__all__ = ["TERMINAL", "EmulatedRun", "Gate", "Host", "RunSubscriber", "event_frame"]

TERMINAL = frozenset(("completed", "failed", "cancelled"))
"""Statuses after which a run has no live stream (``GET /runs/{id}/stream`` answers 409)."""

_DONE = Frame("raw", text=DONE_MARKER)


def event_frame(frame: dict[str, Any]) -> Frame:
    """The queued SSE message of one stored frame (an event the stream faults count)."""
    return Frame("event", str(frame.get("type", "")), text=sse(frame))


class RunSubscriber(Subscriber):
    """One open stream of a run; it ends after the turn numbered ``turn`` ends."""

    def __init__(self, turn: int) -> None:
        super().__init__()
        self.turn = turn


@dataclass
class Gate:
    """A human gate: a tool approval, or an ``AskUserQuestion`` question."""

    request_id: str
    kind: Literal["approval", "question"]
    tool_name: str
    tool_input: dict[str, Any]
    tool_use_id: str
    created_at: str
    status: str = "pending"
    """``pending``, then ``allowed``, ``denied`` or ``cancelled``."""
    resolved_at: str | None = None
    remembered: bool | None = None
    reason: str | None = None
    answers: dict[str, str] | None = None
    answered: anyio.Event = field(default_factory=anyio.Event)

    def render(self) -> dict[str, Any]:
        """The ``PermissionRequest`` resource (``GET /runs/{id}/permissions``)."""
        return {
            "request_id": self.request_id,
            "tool_name": self.tool_name,
            "tool_input": self.tool_input,
            "status": self.status,
            "created_at": self.created_at,
            "resolved_at": self.resolved_at,
            "tool_use_id": self.tool_use_id,
            "display_name": "Ask a question" if self.kind == "question" else self.tool_name,
            "consequence": "" if self.kind == "question" else f"Runs {self.tool_name}.",
            "ask_reason": "",
            "surface": "question" if self.kind == "question" else "command",
            "fields": [
                [k, str(v)] for k, v in self.tool_input.items() if k not in ("questions", "answers")
            ],
            "prose": None,
            "can_remember": self.kind == "approval",
            "remember_default": True,
            "timeout_seconds": 55,
            "auto_resolved": False,
            "remembered": self.remembered,
        }


@dataclass
class EmulatedRun:
    """A run held by the emulator (``emu.runs[id]``).

    ``frames`` is every frame the run produced, in order (what a re-attach replays);
    ``gates`` every human gate it opened, by request id.
    """

    id: int
    body: dict[str, Any]
    created_at: str
    status: str = "running"
    updated_at: str | None = None
    permission_mode: str | None = None
    human_in_the_loop: bool | None = None
    frames: list[dict[str, Any]] = field(default_factory=list)
    subscribers: set[RunSubscriber] = field(default_factory=set)
    gates: dict[str, Gate] = field(default_factory=dict)
    turn: int = 0
    """Turns started so far (the create's turn is 1; each reply adds one)."""
    todo: int = 0
    """Turns asked for that start as soon as the driver gets to them (create, a reply)."""
    queued: list[int] = field(default_factory=list)
    """Ids of replies sent while a turn was in progress: each runs after it ends."""
    text: list[str] = field(default_factory=list)
    output: str | None = None
    stop_reason: str | None = None
    error: str | None = None
    error_code: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    model_requests: int = 0
    held: bool = False
    release: anyio.Event | None = None
    driving: bool = False
    driver_gen: int = 0
    cancel_scope: anyio.CancelScope | None = None

    @property
    def terminal(self) -> bool:
        """True once the run completed, failed or was cancelled (until a reply)."""
        return self.status in TERMINAL

    def open_gate(self) -> Gate | None:
        """The gate the run waits on, if any."""
        return next((g for g in self.gates.values() if g.status == "pending"), None)

    def store(self, frame: dict[str, Any]) -> None:
        """Append a frame to the run's history and send it to every open stream."""
        self.frames.append(frame)
        if self.subscribers:
            queued = event_frame(frame)
            for sub in self.subscribers:
                sub.push(queued)

    def end_streams(self, turn: int | None = None) -> None:
        """Write ``[DONE]`` and close the streams waiting on ``turn`` (or every stream)."""
        for sub in list(self.subscribers):
            if turn is None or sub.turn <= turn:
                sub.push(_DONE)
                sub.push(CLOSE)
                self.subscribers.discard(sub)

    def close_streams(self, frame: Frame = CLOSE) -> None:
        """End every open stream with ``frame`` (clean close by default; no ``[DONE]``)."""
        for sub in list(self.subscribers):
            sub.push(frame)
        self.subscribers.clear()

    def render(self) -> dict[str, Any]:
        """The ``Run`` resource (``id`` first: the SDK reads it off a replay body's head)."""
        usage = {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": 0,
            "cache_creation_tokens": 0,
            "total_tokens": self.input_tokens + self.output_tokens,
            "cost_usd": f"{self.input_tokens * 3e-6 + self.output_tokens * 15e-6:.6f}",
        }
        return {
            "id": self.id,
            "teammate_id": self.body.get("teammate_id"),
            "task_id": self.id,
            "status": self.status,
            "output": self.output,
            "error": self.error,
            "error_code": self.error_code,
            "retryable": self.status == "failed",
            "user_id": self.body.get("user_id"),
            "metadata": self.body.get("metadata"),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "permission_mode": self.permission_mode,
            "stop_reason": self.stop_reason,
            "billing_surface": "platform",
            "channel": "api",
            "usage": usage if self.model_requests else None,
            "pending_queued_message_ids": list(self.queued),
        }


class Host(Protocol):
    """What the turn and gate code needs from the engine (kept here so neither imports it)."""

    scenario: Scenario
    ids: Ids
    clock: Clock
    remembered: set[str]

    def emit(self, run: EmulatedRun, frame: dict[str, Any]) -> None:
        """Store and stream one frame of ``run``."""

    def notify(self) -> None:
        """Wake the waiters (a frame, a status or a stream changed)."""

    async def hold_point(self, run: EmulatedRun) -> None:
        """Wait here while the emulator holds turn ends."""

    def end_turn(self, run: EmulatedRun, status: str, stop_reason: str) -> None:
        """Record the end of the current turn and end the streams that waited on it."""
