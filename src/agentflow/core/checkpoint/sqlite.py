"""A checkpoint store in a SQLite file that survives process restarts."""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

from .base import CallState, CheckpointStore, Lease, Position

__all__ = ["SqliteCheckpointStore"]

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
CREATE TABLE IF NOT EXISTS agentflow_leases (
    session_id TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at REAL NOT NULL
);
"""
# Added after the first release: files made before get them on open (NULL = not recorded).
_CALL_COLUMNS = (("owner", "TEXT"), ("expires_at", "REAL"))


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
    Claims record their owner and lease, and the session lease lives in the file too, so
    processes sharing it see each other's runs. ``clock`` is the time leases expire against
    (default ``time.time``; processes sharing a file must share the clock).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 5.0,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous must be 'NORMAL' or 'FULL', got {synchronous!r}")
        self.path = os.fspath(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.executescript(_SCHEMA)  # idempotent; each statement commits on its own
            self._add_columns()
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

    def _add_columns(self) -> None:
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                have = {row[1] for row in db.execute("PRAGMA table_info(agentflow_calls)")}
                for name, kind in _CALL_COLUMNS:
                    if name not in have:
                        db.execute(f"ALTER TABLE agentflow_calls ADD COLUMN {name} {kind}")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

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

    def claim(
        self,
        session_id: str,
        call_id: str,
        *,
        owner: str | None = None,
        lease: float | None = None,
    ) -> bool:
        expires = None if owner is None or lease is None else self._clock() + lease
        sql = (
            "INSERT OR IGNORE INTO agentflow_calls (session_id, call_id, state, reply, owner, "
            "expires_at) VALUES (?, ?, 'claimed', NULL, ?, ?)"
        )
        return self._write((sql, (session_id, call_id, owner, expires))) == 1

    def record_result(self, session_id: str, call_id: str, reply: dict[str, Any]) -> None:
        data = json.dumps(reply)
        self._write(
            (
                "INSERT INTO agentflow_calls (session_id, call_id, state, reply) "
                "VALUES (?, ?, 'result_ready', ?) "
                "ON CONFLICT (session_id, call_id) DO UPDATE SET state = 'result_ready', "
                "reply = excluded.reply WHERE state != 'sent'",
                (session_id, call_id, data),
            ),
        )

    def mark_sent(self, session_id: str, call_id: str) -> None:
        self._write(
            (
                "INSERT INTO agentflow_calls (session_id, call_id, state, reply) "
                "VALUES (?, ?, 'sent', NULL) "
                "ON CONFLICT (session_id, call_id) DO UPDATE SET state = 'sent'",
                (session_id, call_id),
            ),
        )

    # -- owners and leases ----------------------------------------------------------------

    def now(self) -> float:
        return self._clock()

    def claim_holder(self, session_id: str, call_id: str) -> Lease | None:
        sql = (
            "SELECT owner, expires_at FROM agentflow_calls WHERE session_id = ? AND call_id = ? "
            "AND state = 'claimed' AND owner IS NOT NULL"
        )
        row = self._one(sql, (session_id, call_id))
        return None if row is None else Lease(row[0], math.inf if row[1] is None else row[1])

    def acquire_session(self, session_id: str, owner: str, lease: float) -> Lease | None:
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")  # read and write in one transaction: atomic
            try:
                now = self._clock()
                row = db.execute(
                    "SELECT owner, expires_at FROM agentflow_leases WHERE session_id = ?",
                    (session_id,),
                ).fetchone()
                if row is not None and row[0] != owner and row[1] > now:
                    db.execute("ROLLBACK")
                    return Lease(row[0], row[1])
                until = now + lease
                db.execute(
                    "INSERT INTO agentflow_leases VALUES (?, ?, ?) ON CONFLICT (session_id) DO "
                    "UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at",
                    (session_id, owner, until),
                )
                db.execute(
                    "UPDATE agentflow_calls SET expires_at = ? WHERE session_id = ? AND owner = ? "
                    "AND state = 'claimed' AND expires_at IS NOT NULL",
                    (until, session_id, owner),
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return None

    def release_session(self, session_id: str, owner: str) -> None:
        now = self._clock()
        self._write(
            (
                "DELETE FROM agentflow_leases WHERE session_id = ? AND owner = ?",
                (session_id, owner),
            ),
            (
                "UPDATE agentflow_calls SET expires_at = MIN(COALESCE(expires_at, ?), ?) "
                "WHERE session_id = ? AND owner = ? AND state = 'claimed'",
                (now, now, session_id, owner),
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
                for table in (
                    "agentflow_dispatched",
                    "agentflow_position",
                    "agentflow_calls",
                    "agentflow_leases",
                )
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
