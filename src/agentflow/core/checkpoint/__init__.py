"""Checkpoints: which events were dispatched and which calls were answered, per session.

See :mod:`agentflow.core.checkpoint.base` for what is recorded and the states of a call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import CallState, CheckpointStore, Lease, Position
from .memory import MemoryCheckpointStore

if TYPE_CHECKING:
    from .sqlite import SqliteCheckpointStore

__all__ = [
    "CallState",
    "CheckpointStore",
    "Lease",
    "MemoryCheckpointStore",
    "Position",
    "SqliteCheckpointStore",
]


def __getattr__(name: str) -> Any:
    # the SQLite store (and the sqlite3 module) load when first asked for
    if name == "SqliteCheckpointStore":
        from .sqlite import SqliteCheckpointStore

        return SqliteCheckpointStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
