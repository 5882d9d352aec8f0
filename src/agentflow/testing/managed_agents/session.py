"""One emulated session: its resource, history, open streams and pending tool calls."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio

from .._frames import CLOSE, DROP, Frame
from .._frames import Subscriber as BaseSubscriber
from .._wire import ApiError, stored_time
from ..scenario import Step
from .disorder import Disorder

__all__ = ["CLOSE", "DROP", "EmulatedSession", "Frame", "PendingCall", "Subscriber", "TurnState"]


class Subscriber(BaseSubscriber):
    """One open SSE connection of a session (see :class:`~agentflow.testing._frames.Subscriber`).

    ``deltas`` is the set of types (``agent.message`` / ``agent.thinking``) whose previews the
    connection asked for; ``thread_id`` limits it to one thread's events (thread streams).
    """

    def __init__(self, deltas: frozenset[str], thread_id: str | None, primary: bool) -> None:
        super().__init__()
        self.deltas = deltas
        self.thread_id = thread_id
        self.primary = primary

    def wants(self, event: dict[str, Any]) -> bool:
        """Whether this connection carries ``event`` (thread streams filter by thread)."""
        if self.thread_id is None:
            return True
        owner = event.get("session_thread_id")
        return owner == self.thread_id or (owner is None and self.primary)


@dataclass
class PendingCall:
    """A tool call the session is blocked on."""

    kind: Literal["custom", "confirm", "tool_result"]
    event: dict[str, Any]
    step: Step
    verdict: str | None = None
    deny_message: str | None = None


@dataclass
class TurnState:
    """The turn in progress: its steps, where it is, and the calls answered since it blocked."""

    steps: tuple[Step, ...]
    origin: str
    pos: int = 0
    resolved: list[PendingCall] = field(default_factory=list)
    blocked_thread: str | None = None
    """The subagent thread whose calls the turn waits on (``None``: the session's own)."""


@dataclass
class EmulatedSession:
    """A session held by the emulator (``emu.sessions[id]``).

    ``history`` holds every stored event dict in ``processed_at`` order; ``pending`` maps the
    ids of the tool-call events the session waits on to what it waits for.
    """

    id: str
    primary_thread_id: str
    resource: dict[str, Any]
    status: str = "idle"
    history: list[dict[str, Any]] = field(default_factory=list)
    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscribers: set[Subscriber] = field(default_factory=set)
    threads: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: dict[str, PendingCall] = field(default_factory=dict)
    queued: list[str] = field(default_factory=list)
    active: TurnState | None = None
    next_turn: int = 0
    driving: bool = False
    driver_gen: int = 0
    cancel_scope: anyio.CancelScope | None = None
    deleted: bool = False
    disorder: Disorder | None = None
    """A test's plan to skip, swap or delay events on the live stream (``emu.disorder``)."""
    texts: dict[str, str] = field(default_factory=dict)
    """Stored events encoded as JSON, by id (see :meth:`text`)."""
    in_order: bool = True
    """Whether every ``processed_at`` in ``history`` is at or after the one before it (what
    lets a history read find its start by bisection instead of a scan)."""
    usage: dict[str, int] = field(
        default_factory=lambda: {
            "input_tokens": 0,
            "output_tokens": 0,
            "cache_read_input_tokens": 0,
        }
    )

    @property
    def terminated(self) -> bool:
        """True once ``session.status_terminated`` was emitted."""
        return self.status == "terminated"

    def resolve(self, event_id: str) -> None:
        """Mark a pending call answered; its result is emitted when the turn resumes."""
        call = self.pending.pop(event_id)
        if self.active is not None:
            self.active.resolved.append(call)

    def store(self, event: dict[str, Any]) -> None:
        """Append a stored event to history and send it to every connection that wants it."""
        self.by_id[event["id"]] = event
        if self.disorder is not None:
            self.in_order = False  # inserts by text: no promise about parsed time
            self.disorder.store(event, self.history, self.broadcast)
            return
        history = self.history
        if self.in_order:
            try:
                when = stored_time(event["processed_at"])
                self.in_order = not history or when >= stored_time(history[-1]["processed_at"])
            except (ApiError, KeyError, TypeError):
                self.in_order = False  # a stamp that does not parse: scan, as before
        history.append(event)
        self.broadcast(event)

    def broadcast(self, event: dict[str, Any]) -> None:
        """Send a stored event to the open connections that want it."""
        if not self.subscribers:
            return
        frame = Frame("event", event["type"], self.text(event))
        for sub in self.subscribers:
            if sub.wants(event):
                sub.push(frame)

    def text(self, event: dict[str, Any]) -> str:
        """A stored event as compact JSON, encoded once (stored events do not change): the
        live frame and every history page that holds it reuse the text."""
        event_id = event.get("id")
        text = self.texts.get(event_id) if isinstance(event_id, str) else None
        if text is None:
            text = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
            if isinstance(event_id, str):
                self.texts[event_id] = text
        return text

    def preview(self, event: dict[str, Any], of_type: str) -> None:
        """Send a preview (never stored) to the session streams that asked for ``of_type``."""
        targets = [s for s in self.subscribers if of_type in s.deltas and s.thread_id is None]
        if not targets:
            return
        frame = Frame("preview", event["type"], json.dumps(event, separators=(",", ":")))
        for sub in targets:
            sub.push(frame)

    def close_streams(self, frame: Frame = CLOSE) -> None:
        """End every open connection (after the frames already queued)."""
        for sub in list(self.subscribers):
            sub.push(frame)
        self.subscribers.clear()
