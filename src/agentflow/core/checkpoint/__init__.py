"""Checkpoints: which events were dispatched and which calls were answered, per session.

See :mod:`agentflow.core.checkpoint.base` for what is recorded and the states of a call.
"""

from __future__ import annotations

from .base import CallState, CheckpointStore, Lease, Position
from .memory import MemoryCheckpointStore
from .sqlite import SqliteCheckpointStore

__all__ = [
    "CallState",
    "CheckpointStore",
    "Lease",
    "MemoryCheckpointStore",
    "Position",
    "SqliteCheckpointStore",
]
