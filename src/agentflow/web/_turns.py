"""The summary of a turn, computed from the events the relay sees (so every dialect has one).

A turn starts with the first event after the previous turn ended (the echo of the user's
input, or the turn's own start event) and ends with ``turn.completed``, ``turn.failed`` or
``turn.cancelled``. Time to first token is the first ``message.delta``, or, when the text is
not streamed, the first ``message.completed``; a tool's duration runs from its
``tool.started`` to its ``tool.completed`` / ``tool.failed`` (waiting for an approval included).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["ToolRecord", "TurnTracker"]


@dataclass
class ToolRecord:
    """One tool call of the turn."""

    id: str | None
    name: str | None
    started: float
    duration: float | None = None
    outcome: str = "pending"
    """``pending``, ``ok``, ``error`` or ``denied``."""
    verdict: str | None = None

    def summary(self) -> dict[str, Any]:
        """The JSON form sent in a turn's summary."""
        return {
            "id": self.id,
            "name": self.name,
            "duration": self.duration,
            "outcome": self.outcome,
        }


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 4)


class TurnTracker:
    """Timings and tool calls of the current turn of one session."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._ended = False
        self._reset()

    def _reset(self) -> None:
        self.started: float | None = None
        self.first_token: float | None = None
        self.first_text: float | None = None
        self.events = 0
        self.errors = 0
        self.tools: list[ToolRecord] = []
        self._open: dict[str, ToolRecord] = {}

    def elapsed(self) -> float:
        """Seconds since the turn started."""
        return _round(self.clock() - (self.started or self.clock())) or 0.0

    def saw(self, kind: str | None) -> None:
        """Count an event of the turn (starting the turn's clock on the first)."""
        now = self.clock()
        if self.started is None:
            self.started = now
        self.events += 1
        if kind == "message.delta" and self.first_token is None:
            self.first_token = now - self.started
        elif kind == "message.completed" and self.first_text is None:
            self.first_text = now - self.started

    def tool_started(self, call_id: str | None, name: str | None) -> None:
        """A tool call was announced."""
        record = ToolRecord(call_id, name, self.clock())
        self.tools.append(record)
        if call_id is not None:
            self._open[call_id] = record

    def _find(self, call_id: str | None, name: str | None) -> ToolRecord | None:
        if call_id is not None:
            return self._open.get(call_id)
        pending = [t for t in self.tools if t.outcome == "pending"]
        if name is not None:  # no id to go by: the oldest pending call of that name
            pending = [t for t in pending if t.name == name] or pending
        return pending[0] if pending else None

    def name_of(self, call_id: str | None) -> str | None:
        """The name of a call of this turn, by its id."""
        record = self._open.get(call_id) if call_id is not None else None
        return None if record is None else record.name

    def tool_finished(self, call_id: str | None, name: str | None, *, failed: bool) -> ToolRecord:
        """A call's result arrived: its record, with duration and outcome set."""
        record = self._find(call_id, name)
        if record is None:  # a result for a call announced before the relay was watching
            record = ToolRecord(call_id, name, self.clock())
            self.tools.append(record)
        record.duration = _round(self.clock() - record.started)
        if record.verdict == "deny":
            record.outcome = "denied"
        else:
            record.outcome = "error" if failed else "ok"
        return record

    def verdict(self, call_id: str | None, verdict: str | None) -> None:
        """A call was allowed or denied."""
        record = self._find(call_id, None) if call_id is not None else None
        if record is not None:
            record.verdict = verdict

    def end(self, stop_reason: str) -> dict[str, Any] | None:
        """The summary of the turn that just ended; the next event starts a new turn.

        ``None`` for an end that directly follows another (Managed Agents idles right after
        the echo of an interrupt): that turn was summarised already.
        """
        if self._ended and self.events <= 1:
            self._reset()
            return None
        self._ended = True
        started = self.started if self.started is not None else self.clock()
        first_token = self.first_token if self.first_token is not None else self.first_text
        summary = {
            "stop_reason": stop_reason,
            "duration": _round(self.clock() - started),
            "time_to_first_token": _round(first_token),
            "first_token_streamed": self.first_token is not None,
            "events": self.events,
            "errors": self.errors,
            "tools": [t.summary() for t in self.tools],
        }
        self._reset()
        return summary
