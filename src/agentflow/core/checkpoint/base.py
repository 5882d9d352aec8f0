"""Checkpoints: which events were dispatched and which tool calls were answered, per session.

A :class:`CheckpointStore` lets a restarted process resume a session without re-dispatching
events or re-running tools, whatever the dialect. Two things are recorded:

**Dispatched events.** A dialect's channel skips every event the store says was dispatched
and resumes reading at the store's :meth:`~CheckpointStore.position`: the last dispatched
event's id and the dialect's own cursor (an opaque string: Managed Agents stores the event's
``processed_at``, other wires a sequence number or a replay position). An event counts as
dispatched when the consumer acknowledges it, which a channel does when the next event is
asked for or the run ends cleanly.

**Calls**, keyed by the id the answer refers to (a tool call's or an approval's id), move
through three states::

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

from abc import ABC, abstractmethod
from typing import Any, Literal, NamedTuple

__all__ = ["CallState", "CheckpointStore", "Position"]

CallState = Literal["claimed", "result_ready", "sent"]


class Position(NamedTuple):
    """The last dispatched event of a session: its id and the dialect's cursor there.

    ``processed_at`` is the cursor's historical name (Managed Agents keeps the event's
    ``processed_at`` there); :attr:`cursor` reads the same value.
    """

    event_id: str
    processed_at: str | None

    @property
    def cursor(self) -> str | None:
        """The dialect's opaque resume cursor at this event."""
        return self.processed_at


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
