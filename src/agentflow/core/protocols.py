"""What the run loop, the event path and replays need of an app, as a protocol.

:class:`~agentflow.core.app.BaseApp` (and so :class:`agentflow.App`) is one; the protocol
keeps the run loop from depending on the App class itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .config import Actions
    from .context import Context
    from .events import Event
    from .observers import Observers

__all__ = ["Dispatcher"]


class Dispatcher(Protocol):
    """An app as the run loop sees it: its answers, its observers, and dispatch."""

    actions: Actions
    observers: Observers

    async def dispatch(self, event: Event, ctx: Context | None = None) -> Context:
        """Run one event through the middleware and handlers."""
        ...
