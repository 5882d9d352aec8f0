"""The default checkpoint store: in memory, as long as the process lives."""

from __future__ import annotations

import functools
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, cast

from .base import CallState, CheckpointStore, Lease, Position

__all__ = ["MemoryCheckpointStore"]

_position = cast(
    "Callable[[tuple[str, str | None]], Position]", functools.partial(tuple.__new__, Position)
)
"""``Position((event_id, cursor))`` without the NamedTuple's Python ``__new__``."""


class _MemorySession:
    __slots__ = ("calls", "claims", "dispatched", "last_at", "last_id", "lease")

    def __init__(self) -> None:
        # an OrderedDict: forgetting the oldest id is O(1) (a plain dict scans the deleted
        # slots at its front on every ``next(iter(...))``: 17x slower once full)
        self.dispatched: OrderedDict[str, None] = OrderedDict()
        # the position as two fields: ``position()`` builds the tuple when asked (rarely),
        # ``mark_dispatched`` (per event) only assigns
        self.last_id: str | None = None
        self.last_at: str | None = None
        self.calls: dict[str, tuple[CallState, dict[str, Any] | None]] = {}
        self.claims: dict[str, Lease] = {}  # claimed calls with a recorded owner
        self.lease: Lease | None = None


class MemoryCheckpointStore(CheckpointStore):
    """The default store: lives as long as the process.

    Per session it remembers the last ``max_events`` dispatched ids (oldest forgotten first;
    reconciliation only re-reads history from the last position, so older ids are not
    needed to deduplicate) and every tool call. ``clock`` is the time leases expire against
    (default ``time.time``).
    """

    def __init__(self, *, max_events: int = 65_536, clock: Callable[[], float] = time.time) -> None:
        if max_events < 1:
            raise ValueError(f"max_events must be positive, got {max_events!r}")
        self._max = max_events
        self._clock = clock
        self._sessions: dict[str, _MemorySession] = {}
        self._lock = threading.Lock()

    def _get(self, session_id: str) -> _MemorySession:
        s = self._sessions.get(session_id)
        if s is None:
            s = self._sessions[session_id] = _MemorySession()
        return s

    def is_dispatched(self, session_id: str, event_id: str) -> bool:
        s = self._sessions.get(session_id)
        return s is not None and event_id in s.dispatched

    def mark_dispatched(
        self, session_id: str, event_id: str, processed_at: str | None = None
    ) -> None:
        with self._lock:
            s = self._sessions.get(session_id) or self._get(session_id)
            dispatched = s.dispatched
            dispatched[event_id] = None
            if len(dispatched) > self._max:
                dispatched.popitem(last=False)
            s.last_id = event_id
            if processed_at is not None:  # (else the last cursor given stays)
                s.last_at = processed_at

    def position(self, session_id: str) -> Position | None:
        s = self._sessions.get(session_id)
        if s is None or s.last_id is None:
            return None
        with self._lock:  # (both fields of one mark, not one of each of two)
            return _position((s.last_id, s.last_at))

    def claim(
        self,
        session_id: str,
        call_id: str,
        *,
        owner: str | None = None,
        lease: float | None = None,
    ) -> bool:
        with self._lock:
            s = self._get(session_id)
            if call_id in s.calls:
                return False
            s.calls[call_id] = ("claimed", None)
            if owner is not None:
                expires = math.inf if lease is None else self._clock() + lease
                s.claims[call_id] = Lease(owner, expires)
            return True

    def now(self) -> float:
        return self._clock()

    def claim_holder(self, session_id: str, call_id: str) -> Lease | None:
        s = self._sessions.get(session_id)
        if s is None or s.calls.get(call_id, ("sent", None))[0] != "claimed":
            return None
        return s.claims.get(call_id)

    def acquire_session(self, session_id: str, owner: str, lease: float) -> Lease | None:
        with self._lock:
            s = self._get(session_id)
            now = self._clock()
            held = s.lease
            if held is not None and held.owner != owner and held.expires_at > now:
                return held
            s.lease = Lease(owner, now + lease)
            for call_id, claim in s.claims.items():
                if claim.owner == owner and claim.expires_at != math.inf:
                    s.claims[call_id] = Lease(owner, now + lease)
            return None

    def release_session(self, session_id: str, owner: str) -> None:
        with self._lock:
            s = self._sessions.get(session_id)
            if s is None:
                return
            if s.lease is not None and s.lease.owner == owner:
                s.lease = None
            now = self._clock()
            for call_id, claim in s.claims.items():
                if claim.owner == owner:
                    s.claims[call_id] = Lease(owner, min(claim.expires_at, now))

    def record_result(self, session_id: str, call_id: str, reply: dict[str, Any]) -> None:
        with self._lock:
            calls = self._get(session_id).calls
            if calls.get(call_id, ("claimed", None))[0] != "sent":
                self._get(session_id).claims.pop(call_id, None)
                calls.pop(call_id, None)  # re-insert: pending_results keeps recording order
                calls[call_id] = ("result_ready", json.loads(json.dumps(reply)))

    def mark_sent(self, session_id: str, call_id: str) -> None:
        with self._lock:
            s = self._get(session_id)
            s.claims.pop(call_id, None)
            s.calls[call_id] = ("sent", s.calls.get(call_id, ("sent", None))[1])

    def call_state(self, session_id: str, call_id: str) -> CallState | None:
        s = self._sessions.get(session_id)
        entry = None if s is None else s.calls.get(call_id)
        return None if entry is None else entry[0]

    def get_result(self, session_id: str, call_id: str) -> dict[str, Any] | None:
        s = self._sessions.get(session_id)
        entry = None if s is None else s.calls.get(call_id)
        return None if entry is None or entry[1] is None else json.loads(json.dumps(entry[1]))

    def pending_results(self, session_id: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            s = self._sessions.get(session_id)
            if s is None:
                return {}
            return {k: r for k, (st, r) in s.calls.items() if st == "result_ready" and r}

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def __repr__(self) -> str:
        return f"MemoryCheckpointStore(sessions={len(self._sessions)})"
