"""Everruns wire pieces with no I/O: error envelope, ids, clocks and SSE message text.

The platform's error body is ``{"error": {"code": ..., "message": ...}}`` (what
``everruns_sdk.errors.ApiError.from_response`` reads). Ids are ``<prefix>_<32 hex>`` shaped
like UUIDv7 (48-bit millisecond time, version nibble 7, variant 8, then a counter), so ids
made later always sort after earlier ones, as the platform's event ids do.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from typing import Any

from .._wire import ApiError, Clock

__all__ = [
    "CONNECTED",
    "DISCONNECTING",
    "HEARTBEAT",
    "KNOWN_TYPES",
    "MODEL",
    "EverrunsError",
    "Ids",
    "SteppedClock",
    "conflict",
    "dumps",
    "event_text",
    "invalid",
    "not_found",
]

MODEL = "emulated-model"
HEARTBEAT = b": heartbeat\n\n"
CONNECTED = 'retry: 100\nevent: connected\ndata: {"status":"connected"}\n\n'
DISCONNECTING = 'event: disconnecting\ndata: {"reason":"connection_cycle","retry_ms":100}\n\n'

KNOWN_TYPES: frozenset[str] = frozenset(
    {
        "input.message",
        "output.message.started",
        "output.message.delta",
        "output.message.replaced",
        "output.message.completed",
        "turn.started",
        "turn.completed",
        "turn.failed",
        "turn.cancelled",
        "turn.sealed",
        "tool.started",
        "tool.progress",
        "tool.output.delta",
        "tool.completed",
        "tool.failed",
        "tool.call_requested",
        "tool.call_repaired",
        "reason.started",
        "reason.completed",
        "reason.thinking.started",
        "reason.thinking.delta",
        "reason.thinking.completed",
        "llm.generation",
        "session.started",
        "session.activated",
        "session.idled",
        # Inferred names (the platform does not document its approval / question events):
        "tool.approval_requested",
        "tool.approval_resolved",
        "question.requested",
        "question.answered",
    }
)
"""Event type names ``types=`` / ``exclude=`` accept (plus any type a session has stored)."""


class EverrunsError(ApiError):
    """An error answered with the Everruns envelope ``{"error": {"code", "message"}}``."""

    def body(self) -> dict[str, Any]:
        """The JSON error envelope."""
        return {"error": {"code": self.type, "message": self.message}}


def invalid(message: str, code: str = "invalid_request") -> EverrunsError:
    """A 400 error."""
    return EverrunsError(400, code, message)


def not_found(what: str, ident: str) -> EverrunsError:
    """A 404 error naming what was looked up."""
    return EverrunsError(404, "not_found", f"{what} {ident!r} not found")


def conflict(message: str) -> EverrunsError:
    """A 409 error (the session is not in the state the call needs)."""
    return EverrunsError(409, "conflict", message)


class SteppedClock(Clock):
    """A clock that starts at ``start_ms`` and advances one millisecond per reading.

    Used for recordings: the same requests then produce byte-identical streams.
    """

    def __init__(self, start_ms: int) -> None:
        super().__init__()
        self._next = start_ms

    def now_ms(self) -> int:
        """The next millisecond (never the same twice)."""
        self._next += 1
        return self._next


class Ids:
    """UUIDv7-shaped ids: ``<prefix>_<12 hex ms>7000<8><15 hex counter>``, monotonic."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._counter = itertools.count(1)

    def new(self, prefix: str) -> str:
        """A new id such as ``event_0194…`` (sorts after every id made before it)."""
        ms = self._clock.now_ms() & 0xFFFF_FFFF_FFFF
        return f"{prefix}_{ms:012x}70008{next(self._counter):015x}"


def dumps(value: Any) -> str:
    """Compact JSON, as the stream carries it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def event_text(event: Mapping[str, Any], data: str | None = None) -> str:
    """The SSE message of a stored event: ``id:``, ``event:``, ``retry:`` then ``data:``.

    ``retry:`` follows the platform's hint: 100 ms while a turn runs, 500 ms once idle.
    ``data`` may be given already serialised.
    """
    retry = 500 if event["type"] == "session.idled" else 100
    body = data if data is not None else dumps(event)
    return f"id: {event['id']}\nevent: {event['type']}\nretry: {retry}\ndata: {body}\n\n"
