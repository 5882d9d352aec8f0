"""What every part of the Everruns emulator shares: sessions, ids, clock and the event writer.

:meth:`Hub.emit` wraps ``data`` in the platform's envelope (``id``, ``type``, ``ts``,
``session_id``, ``sequence``, ``context``, ``data``), stores it and streams it; the waits
wake on every stored event or stream change, without polling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio

from .._local_server import Spawn
from .._wire import Clock
from ..faults import Faults
from ..scenario import Scenario
from .state import EverrunsSession
from .wire import Ids, SteppedClock, not_found

__all__ = ["RECORDING_EPOCH_MS", "Hub"]

RECORDING_EPOCH_MS = 1_767_225_600_000
"""2026-01-01T00:00:00Z: where a deterministic emulator's clock starts."""


class Hub:
    """Holds the sessions of one emulator and writes their events."""

    def __init__(self, scenario: Scenario, *, deterministic: bool = False) -> None:
        self.scenario = scenario
        self.clock: Clock = SteppedClock(RECORDING_EPOCH_MS) if deterministic else Clock()
        self.ids = Ids(self.clock)
        self.sessions: dict[str, EverrunsSession] = {}
        self.spawn: Spawn | None = None
        self.errors: list[BaseException] = []
        self.stream_faults: tuple[Faults, ...] = ()
        self.stream_connections = 0
        self._changed: anyio.Event | None = None

    def notify(self) -> None:
        """Wake :meth:`wait_until` callers (an event was stored or a stream came or went)."""
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Wait until ``condition()`` holds, re-checking after every change (no polling)."""
        while not condition():
            if self._changed is None:
                self._changed = anyio.Event()
            await self._changed.wait()

    def connection_faults(self) -> Faults:
        """The stream faults of the next ``/sse`` connection: the scenario's, or the next
        entry of ``stream_faults`` in turn (connection n gets entry n modulo its length)."""
        plan = self.stream_faults
        self.stream_connections += 1
        if not plan:
            return self.scenario.faults
        return plan[(self.stream_connections - 1) % len(plan)]

    def get(self, session_id: str) -> EverrunsSession:
        """The live session ``session_id``; 404 when unknown or deleted."""
        session = self.sessions.get(session_id)
        if session is None or session.deleted:
            raise not_found("session", session_id)
        return session

    def emit(
        self,
        session: EverrunsSession,
        event_type: str,
        data: dict[str, Any],
        *,
        context: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store and stream one event; ``context`` defaults to the active turn's ids."""
        if context is None:
            turn = session.active
            context = (
                {"turn_id": turn.turn_id, "input_message_id": turn.input_message_id}
                if turn is not None
                else {}
            )
        event = {
            "id": self.ids.new("event"),
            "type": event_type,
            "ts": self.clock.stamp(),
            "session_id": session.id,
            "sequence": len(session.history) + 1,
            "context": context,
            "data": data,
        }
        session.store(event)
        self.notify()
        return event

    def touch(self, session: EverrunsSession, status: str | None = None) -> None:
        """Set the session's status (when given) and its ``updated_at``."""
        if status is not None:
            session.status = status
        session.resource["updated_at"] = self.clock.stamp()
        self.notify()
