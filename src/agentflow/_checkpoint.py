"""Checkpoints: which events were dispatched and which tool calls were answered, per session.

A :class:`CheckpointStore` lets a restarted process resume a session without re-dispatching
events or re-running tools. Two things are recorded:

**Dispatched events.** ``EventStream`` and ``EventPoller`` skip every event the store says was
dispatched, and start reading history at the store's :meth:`~CheckpointStore.position` (the
last dispatched event). An event counts as dispatched when the consumer acknowledges it: by
asking for the next event, by leaving the ``async with`` block without an exception, or by
calling ``stream.ack()`` (see ``ManagedAgentsClient.events.stream``).

**Tool calls**, keyed by the id of the event that asked (the ``agent.custom_tool_use`` /
``agent.tool_use`` id), move through three states::

    (none) ──claim()──► claimed ──record_result()──► result_ready ──mark_sent()──► sent

- ``claim`` is an atomic insert-if-absent: exactly one caller (across processes sharing a
  :class:`SqliteCheckpointStore`) gets ``True`` and may run the tool.
- ``record_result`` stores the reply *before* it is posted; if the post fails or the process
  dies, :meth:`~CheckpointStore.pending_results` returns it and the restarted process posts
  the stored reply without running the tool again.
- ``mark_sent`` once the post succeeded (or when history shows the call already answered):
  it is never sent again. ``mark_sent`` works from any state.

A call left ``claimed`` by a process that died while the tool ran has no result: whoever
resumes decides (report it, or answer with an error) instead of silently running it twice.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from abc import ABC, abstractmethod
from typing import Any, Literal, NamedTuple

__all__ = [
    "CallState",
    "CheckpointStore",
    "MemoryCheckpointStore",
    "Position",
    "SqliteCheckpointStore",
]

CallState = Literal["claimed", "result_ready", "sent"]


class Position(NamedTuple):
    """The last dispatched event of a session: its id and ``processed_at``."""

    event_id: str
    processed_at: str | None


class CheckpointStore(ABC):
    """Per-session record of dispatched events and answered tool calls (see the module doc).

    Methods are synchronous and fast (a dict lookup, or one short SQLite transaction), so
    they are called directly from async code.
    """

    # -- events ---------------------------------------------------------------------------

    @abstractmethod
    def is_dispatched(self, session_id: str, event_id: str) -> bool:
        """Whether ``event_id`` was dispatched (acknowledged) in ``session_id``."""

    @abstractmethod
    def mark_dispatched(
        self, session_id: str, event_id: str, processed_at: str | None = None
    ) -> None:
        """Record ``event_id`` as dispatched; it becomes the session's :meth:`position`."""

    @abstractmethod
    def position(self, session_id: str) -> Position | None:
        """The last event marked dispatched in ``session_id`` (``None`` if none)."""

    # -- tool calls -----------------------------------------------------------------------

    @abstractmethod
    def claim(self, session_id: str, call_id: str) -> bool:
        """Atomically take ``call_id`` for execution; ``False`` if it already has a state."""

    @abstractmethod
    def record_result(self, session_id: str, call_id: str, reply: dict[str, Any]) -> None:
        """Store the reply for ``call_id`` (state ``result_ready``); ignored once ``sent``."""

    @abstractmethod
    def mark_sent(self, session_id: str, call_id: str) -> None:
        """Record that the answer to ``call_id`` was posted (state ``sent``)."""

    @abstractmethod
    def call_state(self, session_id: str, call_id: str) -> CallState | None:
        """The state of ``call_id``: ``claimed``, ``result_ready``, ``sent`` or ``None``."""

    @abstractmethod
    def get_result(self, session_id: str, call_id: str) -> dict[str, Any] | None:
        """The stored reply of ``call_id`` (kept after it is sent), or ``None``."""

    @abstractmethod
    def pending_results(self, session_id: str) -> dict[str, dict[str, Any]]:
        """Replies recorded but not yet sent, ``{call_id: reply}`` in recording order."""

    @abstractmethod
    def forget(self, session_id: str) -> None:
        """Drop everything recorded for ``session_id``."""

    def is_answered(self, session_id: str, call_id: str) -> bool:
        """Whether the answer to ``call_id`` was sent."""
        return self.call_state(session_id, call_id) == "sent"

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release resources (a no-op unless the store holds any)."""


class _MemorySession:
    __slots__ = ("calls", "dispatched", "position")

    def __init__(self) -> None:
        self.dispatched: dict[str, None] = {}
        self.position: Position | None = None
        self.calls: dict[str, tuple[CallState, dict[str, Any] | None]] = {}


class MemoryCheckpointStore(CheckpointStore):
    """The default store: lives as long as the process.

    Per session it remembers the last ``max_events`` dispatched ids (oldest forgotten first;
    reconciliation only re-reads history from the last position, so older ids are not
    needed to deduplicate) and every tool call.
    """

    def __init__(self, *, max_events: int = 65_536) -> None:
        if max_events < 1:
            raise ValueError(f"max_events must be positive, got {max_events!r}")
        self._max = max_events
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
            s = self._get(session_id)
            s.dispatched[event_id] = None
            if len(s.dispatched) > self._max:
                del s.dispatched[next(iter(s.dispatched))]
            if processed_at is None and s.position is not None:
                processed_at = s.position.processed_at
            s.position = Position(event_id, processed_at)

    def position(self, session_id: str) -> Position | None:
        s = self._sessions.get(session_id)
        return None if s is None else s.position

    def claim(self, session_id: str, call_id: str) -> bool:
        with self._lock:
            calls = self._get(session_id).calls
            if call_id in calls:
                return False
            calls[call_id] = ("claimed", None)
            return True

    def record_result(self, session_id: str, call_id: str, reply: dict[str, Any]) -> None:
        with self._lock:
            calls = self._get(session_id).calls
            if calls.get(call_id, ("claimed", None))[0] != "sent":
                calls.pop(call_id, None)  # re-insert: pending_results keeps recording order
                calls[call_id] = ("result_ready", json.loads(json.dumps(reply)))

    def mark_sent(self, session_id: str, call_id: str) -> None:
        with self._lock:
            calls = self._get(session_id).calls
            calls[call_id] = ("sent", calls.get(call_id, ("sent", None))[1])

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


_SCHEMA = """
CREATE TABLE IF NOT EXISTS agentflow_dispatched (
    session_id TEXT NOT NULL, event_id TEXT NOT NULL, PRIMARY KEY (session_id, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS agentflow_position (
    session_id TEXT PRIMARY KEY, event_id TEXT NOT NULL, processed_at TEXT
);
CREATE TABLE IF NOT EXISTS agentflow_calls (
    session_id TEXT NOT NULL, call_id TEXT NOT NULL, state TEXT NOT NULL, reply TEXT,
    UNIQUE (session_id, call_id)
);
"""


class SqliteCheckpointStore(CheckpointStore):
    """A store in a SQLite file (stdlib ``sqlite3``) that survives process restarts.

    Opened in WAL mode, so several processes on one machine may share the file: readers never
    block, writers take turns, and a writer that finds the file locked waits up to
    ``timeout`` seconds (SQLite's busy timeout) before raising ``sqlite3.OperationalError``.
    Every method is one short transaction, committed before it returns, so a process killed
    at any point leaves the file consistent and loses at most the call in progress.

    ``synchronous="NORMAL"`` (default) survives a process crash; a power loss may drop the
    last commits. Pass ``"FULL"`` to sync every commit to disk. Calls are synchronous (tens
    of microseconds each); one connection per store, guarded by a lock, so a store may be used
    from worker threads too. Open one store per process; do not share it across ``fork``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 5.0,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
    ) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous must be 'NORMAL' or 'FULL', got {synchronous!r}")
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.executescript(_SCHEMA)  # idempotent; each statement commits on its own
        except BaseException:
            self._db.close()
            raise

    def _write(self, *statements: tuple[str, tuple[Any, ...]]) -> int:
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                rows = 0
                for sql, args in statements:
                    rows += db.execute(sql, args).rowcount
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return rows

    def _one(self, sql: str, args: tuple[Any, ...]) -> Any:
        with self._lock:
            return self._db.execute(sql, args).fetchone()

    def is_dispatched(self, session_id: str, event_id: str) -> bool:
        sql = "SELECT 1 FROM agentflow_dispatched WHERE session_id = ? AND event_id = ?"
        return self._one(sql, (session_id, event_id)) is not None

    def mark_dispatched(
        self, session_id: str, event_id: str, processed_at: str | None = None
    ) -> None:
        self._write(
            (
                "INSERT OR IGNORE INTO agentflow_dispatched VALUES (?, ?)",
                (session_id, event_id),
            ),
            (
                "INSERT INTO agentflow_position VALUES (?, ?, ?) ON CONFLICT (session_id) DO "
                "UPDATE SET event_id = excluded.event_id, "
                "processed_at = COALESCE(excluded.processed_at, processed_at)",
                (session_id, event_id, processed_at),
            ),
        )

    def position(self, session_id: str) -> Position | None:
        sql = "SELECT event_id, processed_at FROM agentflow_position WHERE session_id = ?"
        row = self._one(sql, (session_id,))
        return None if row is None else Position(row[0], row[1])

    def claim(self, session_id: str, call_id: str) -> bool:
        sql = "INSERT OR IGNORE INTO agentflow_calls VALUES (?, ?, 'claimed', NULL)"
        return self._write((sql, (session_id, call_id))) == 1

    def record_result(self, session_id: str, call_id: str, reply: dict[str, Any]) -> None:
        data = json.dumps(reply)
        self._write(
            (
                "INSERT INTO agentflow_calls VALUES (?, ?, 'result_ready', ?) "
                "ON CONFLICT (session_id, call_id) DO UPDATE SET state = 'result_ready', "
                "reply = excluded.reply WHERE state != 'sent'",
                (session_id, call_id, data),
            ),
        )

    def mark_sent(self, session_id: str, call_id: str) -> None:
        self._write(
            (
                "INSERT INTO agentflow_calls VALUES (?, ?, 'sent', NULL) "
                "ON CONFLICT (session_id, call_id) DO UPDATE SET state = 'sent'",
                (session_id, call_id),
            ),
        )

    def call_state(self, session_id: str, call_id: str) -> CallState | None:
        sql = "SELECT state FROM agentflow_calls WHERE session_id = ? AND call_id = ?"
        row = self._one(sql, (session_id, call_id))
        return None if row is None else row[0]

    def get_result(self, session_id: str, call_id: str) -> dict[str, Any] | None:
        sql = "SELECT reply FROM agentflow_calls WHERE session_id = ? AND call_id = ?"
        row = self._one(sql, (session_id, call_id))
        return None if row is None or row[0] is None else json.loads(row[0])

    def pending_results(self, session_id: str) -> dict[str, dict[str, Any]]:
        sql = (
            "SELECT call_id, reply FROM agentflow_calls WHERE session_id = ? "
            "AND state = 'result_ready' ORDER BY rowid"
        )
        with self._lock:
            rows = self._db.execute(sql, (session_id,)).fetchall()
        return {call_id: json.loads(reply) for call_id, reply in rows}

    def forget(self, session_id: str) -> None:
        self._write(
            *(
                (f"DELETE FROM {table} WHERE session_id = ?", (session_id,))
                for table in ("agentflow_dispatched", "agentflow_position", "agentflow_calls")
            )
        )

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> SqliteCheckpointStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteCheckpointStore({self.path!r})"
