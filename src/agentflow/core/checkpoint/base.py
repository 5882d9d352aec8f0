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

**Owners and leases.** Several processes may share one store. A claim records its
``owner`` (a run: ``host:pid:token``) and a ``lease`` in seconds; a run also holds the
session's lease (:meth:`~CheckpointStore.acquire_session`), renews it (which renews its
claims too) while it runs and releases it when it ends (which ends its claims' leases, so
what it left running counts as interrupted at once). A claim whose lease is live and whose
owner is not known to be dead belongs to a live run: it is never reported as interrupted.

These methods have defaults, so a store written before them keeps working (without session
exclusivity and without owners: every left-over claim counts as interrupted, as before); a
store that implements them needs only the memory and SQLite stores' semantics. Times are
``time.time()`` seconds (:meth:`~CheckpointStore.now`), comparable across processes.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import Any, Literal, NamedTuple

__all__ = ["CallState", "CheckpointStore", "Lease", "Position"]

CallState = Literal["claimed", "result_ready", "sent"]


class Lease(NamedTuple):
    """Who holds a session or a claim, and until when (``time.time()`` seconds; ``inf``:
    no expiry recorded)."""

    owner: str
    expires_at: float


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
    def claim(
        self,
        session_id: str,
        call_id: str,
        *,
        owner: str | None = None,
        lease: float | None = None,
    ) -> bool:
        """Atomically take ``call_id`` for execution; ``False`` if it already has a state.

        ``owner`` names the run taking it and ``lease`` how many seconds the claim holds
        without renewal (``None``: no expiry; :meth:`acquire_session` renews it). A store
        that does not track owners may ignore both.
        """

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

    # -- owners and leases (defaults: no owners, no exclusivity) ---------------------------

    def now(self) -> float:
        """The store's clock (``time.time()``), against which leases expire."""
        return time.time()

    def claim_holder(self, session_id: str, call_id: str) -> Lease | None:
        """Who claimed ``call_id`` and until when its claim holds; ``None`` when the call is
        not ``claimed``, or no owner was recorded (the default: owners are not tracked)."""
        return None

    def acquire_session(self, session_id: str, owner: str, lease: float) -> Lease | None:
        """Take (or renew) the lease of ``session_id`` for ``owner`` for ``lease`` seconds,
        renewing ``owner``'s claims in the session too.

        Returns ``None`` when ``owner`` now holds it, else the live lease of its holder (left
        as it is). An expired lease is taken over. The default always grants it (a store
        without session leases gives no exclusivity).
        """
        return None

    def release_session(self, session_id: str, owner: str) -> None:
        """Give up ``owner``'s lease of ``session_id`` (if it holds it) and end the leases
        of its claims there, so a call it left running counts as interrupted at once."""
        return None

    def is_answered(self, session_id: str, call_id: str) -> bool:
        """Whether the answer to ``call_id`` was sent."""
        return self.call_state(session_id, call_id) == "sent"

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release resources (a no-op unless the store holds any)."""
