"""What the resolver and the poster see of the router: the state of one session's calls."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..checkpoint import CheckpointStore
    from ..context import Context
    from ..dialect import Call, Dialect
    from ..observers import Observers
    from ..results import ToolCallRecord

__all__ = ["RouterState"]


class RouterState(Protocol):
    """The calls of one session: announced, answered, recorded (the router implements it)."""

    session_id: str
    dialect: Dialect
    checkpoint: CheckpointStore
    errors: list[str]
    observers: Observers

    def call(self, call_id: str, ctx: Context) -> Call | None:
        """The call ``call_id``, if announced or found in ``ctx``."""
        ...

    def answered(self, call_id: str) -> bool:
        """Whether the server holds a reply to ``call_id``."""
        ...

    def mark_answered(self, call_id: str) -> None:
        """Note that the server holds a reply to ``call_id``."""
        ...

    def add_record(self, record: ToolCallRecord) -> None:
        """Keep the record of a call."""
        ...

    def record(self, call_id: str) -> ToolCallRecord | None:
        """The record of ``call_id``, if any."""
        ...

    def substitute(self, call_id: str, why: str) -> dict[str, Any] | None:
        """A reply in the place of a rejected one (``None`` when the call is unknown)."""
        ...

    def leave(self, call_id: str, call: Call | None, why: str, kind: str | None = None) -> None:
        """Leave ``call_id`` unanswered, reporting it once."""
        ...

    async def read_history(self, *, again: bool = False) -> None:
        """Read the session's history once (or again)."""
        ...

    def spawn(self, fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``fn()`` in the router's task group."""
        ...

    async def send_replies(self, batch: list[dict[str, Any]]) -> None:
        """Post one batch in one attempt."""
        ...
