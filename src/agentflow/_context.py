"""The Context every handler, middleware, tool and policy receives as ``ctx``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .events import interrupt as _interrupt_event

if TYPE_CHECKING:
    from ._types import JSONObject, Sender
    from .events import Event

__all__ = ["Context"]

_DEFAULT_LOGGER = logging.getLogger("agentflow")


_CALL_TYPES = frozenset({"agent.tool_use", "agent.custom_tool_use", "agent.mcp_tool_use"})


class Context:
    """What a handler knows about the session it is serving, and how it talks back.

    One Context lives as long as a run (``app.run``) and is shared by every event of it.
    ``state`` is a plain dict for your own data across events. ``await ctx.send(...)``
    sends client events (the dicts from :mod:`agentflow.events` builders) to the session.

    A context without a ``sender`` is *detached* (``app.dispatch(event)`` makes one, and
    tests and replays use them): what handlers send is appended to :attr:`outbox` instead.

    >>> from agentflow.events import user_message
    >>> ctx = Context()
    >>> import asyncio; asyncio.run(ctx.send(user_message("hi")))
    >>> ctx.outbox
    [{'type': 'user.message', 'content': [{'type': 'text', 'text': 'hi'}]}]
    """

    max_remembered = 1_000
    """How many recent events of any type :meth:`remember` keeps (oldest dropped first)."""

    max_remembered_calls = 10_000
    """How many tool-use events :meth:`remember` keeps, in addition (oldest dropped first).

    Results, confirmations and ``requires_action`` pauses refer to tool calls by id, often
    long after the call, so calls are kept longer than other events. Both bounds keep a long
    run's memory (and the garbage collector's work) flat.
    """

    def __init__(
        self,
        session_id: str | None = None,
        *,
        sender: Sender | None = None,
        state: dict[str, Any] | None = None,
        logger: logging.Logger | None = None,
        app: Any = None,
    ) -> None:
        self.session_id = session_id
        """The session being served (``None`` for a detached context)."""
        self.state: dict[str, Any] = {} if state is None else state
        """Your data, shared by every event of the run. Never logged by agentflow."""
        self.logger: logging.Logger = _DEFAULT_LOGGER if logger is None else logger
        """A logger for handlers (default: the ``agentflow`` logger)."""
        self.app = app
        """The :class:`~agentflow.App` dispatching the events, when there is one."""
        self.outbox: list[JSONObject] = []
        """Events sent through a detached context, in order."""
        self._sender = sender
        self._events: dict[str, Event] = {}
        self._calls: dict[str, Event] = {}
        self._stopped = False

    @property
    def detached(self) -> bool:
        """True when there is no sender: :meth:`send` appends to :attr:`outbox`."""
        return self._sender is None

    async def send(self, *events: JSONObject) -> Any:
        """Send client events to the session in one batch, in the order given.

        Returns what the sender returns (the transport gives the server's echoes);
        ``None`` when detached or when no events are given.
        """
        if not events:
            return None
        if self._sender is None:
            self.outbox.extend(events)
            return None
        return await self._sender(list(events))

    async def interrupt(self, thread_id: str | None = None) -> Any:
        """Send ``user.interrupt``: pause every thread, or only ``thread_id``."""
        return await self.send(_interrupt_event(thread_id))

    def remember(self, event: Event) -> None:
        """Index ``event`` by id for :meth:`event_by_id` (the run loop does this for you).

        Events without an id (previews) are ignored. The last :attr:`max_remembered` events
        are kept, and tool-use events (``agent.tool_use``, ``agent.custom_tool_use``,
        ``agent.mcp_tool_use``) up to :attr:`max_remembered_calls`; the oldest go first.
        """
        event_id = event.id
        if event_id is None:
            return
        if event.type in _CALL_TYPES:
            calls = self._calls
            calls[event_id] = event
            if len(calls) > self.max_remembered_calls:
                del calls[next(iter(calls))]
            return
        events = self._events
        events[event_id] = event
        if len(events) > self.max_remembered:
            del events[next(iter(events))]

    def event_by_id(self, event_id: str) -> Event | None:
        """The remembered event with this id, or ``None`` (see :meth:`remember`)."""
        return self._calls.get(event_id) or self._events.get(event_id)

    def stop(self) -> None:
        """Ask the run to stop after the current event.

        The other handlers of the current event still run; ``app.run`` returns once the
        event has been dispatched.
        """
        self._stopped = True

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stopped

    def __repr__(self) -> str:
        # Never show ``state`` or the outbox: they may hold secrets.
        return (
            f"Context(session_id={self.session_id!r}, detached={self.detached}, "
            f"stopped={self._stopped})"
        )
