"""The Context every handler, middleware, tool and policy receives as ``ctx``."""

from __future__ import annotations

import copy
import logging
from collections import OrderedDict, deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .channel import Channel
    from .events import Event
    from .types import JSONObject, Sender

__all__ = ["INTERRUPT_RECORD", "Context"]

_DEFAULT_LOGGER = logging.getLogger("agentflow")

INTERRUPT_RECORD = "user.interrupt"
"""The ``type`` a detached context records in :attr:`Context.outbox` for an interrupt."""


class Context:
    """What a handler knows about the session it is serving, and how it talks back.

    One Context lives as long as a run (``app.run``) and is shared by every event of it.
    ``state`` is a plain dict for your own data across events. ``await ctx.send(...)``
    sends client requests (the dicts from the dialect's builders) to the session, and
    ``await ctx.interrupt()`` interrupts the agent, through the run's channel.

    A context without a channel or ``sender`` is *detached* (``app.dispatch(event)`` makes
    one, and tests and replays use them): what would be sent is appended to :attr:`outbox`
    instead, an interrupt as ``{"type": "user.interrupt"}``.

    >>> ctx = Context()
    >>> import asyncio; asyncio.run(ctx.send({"type": "user.message", "content": []}))
    >>> ctx.outbox
    [{'type': 'user.message', 'content': []}]

    Inside a tool, :attr:`call_id` is the id of the call being answered (an idempotency key
    for the tool's own side effects) and :attr:`fencing_token` the token of the lease the
    run holds on the session, when it holds one (scale-out), else ``None``.
    """

    max_remembered = 1_000
    """How many recent events of any type :meth:`remember` keeps (oldest dropped first)."""

    max_remembered_calls = 10_000
    """How many tool-call events (``kind == "tool.started"``) :meth:`remember` keeps as well.

    Results, confirmations and pauses refer to tool calls by id, often long after the call,
    so calls are kept longer than other events. Both bounds keep a long run's memory (and the
    garbage collector's work) flat.
    """

    def __init__(
        self,
        session_id: str | None = None,
        *,
        sender: Sender | None = None,
        state: dict[str, Any] | None = None,
        logger: logging.Logger | None = None,
        app: Any = None,
        channel: Channel | None = None,
    ) -> None:
        self.session_id = session_id
        """The session being served (``None`` for a detached context)."""
        self.state: dict[str, Any] = {} if state is None else state
        """Your data, shared by every event of the run. Never logged by agentflow."""
        self.logger: logging.Logger = _DEFAULT_LOGGER if logger is None else logger
        """A logger for handlers (default: the ``agentflow`` logger)."""
        self.app = app
        """The :class:`~agentflow.App` dispatching the events, when there is one."""
        self.channel = channel
        """The run's :class:`~agentflow.Channel` (``None`` when detached)."""
        self.outbox: list[JSONObject] = []
        """Requests sent through a detached context, in order."""
        self.call_id: str | None = None
        """Inside a tool: the id of the call being answered."""
        self.fencing_token: int | None = None
        """Inside a tool: the session lease's fencing token (scale-out), else ``None``."""
        self._sender = sender
        # events by id, and their ids oldest first: dropping the oldest is a popleft and a
        # del (half the cost of an OrderedDict's insert + popitem, per event)
        self._events: dict[str, Event] = {}
        self._order: deque[str] = deque()
        # OrderedDict: dropping the oldest is O(1) (a plain dict's first key is found by
        # scanning past the slots of the keys already deleted, which grows with every drop)
        self._calls: OrderedDict[str, Event] = OrderedDict()
        self._stop = [False]  # shared with the contexts made by for_call()

    @property
    def detached(self) -> bool:
        """True when nothing is connected: :meth:`send` appends to :attr:`outbox`."""
        return self._sender is None and self.channel is None

    async def send(self, *requests: JSONObject) -> Any:
        """Send client requests to the session in one batch, in the order given.

        Returns what the channel (or sender) returns (Managed Agents: the server's echoes);
        ``None`` when detached or when nothing is given.
        """
        if not requests:
            return None
        if self.channel is not None:
            return await self.channel.send(list(requests))
        if self._sender is None:
            self.outbox.extend(requests)
            return None
        return await self._sender(list(requests))

    async def interrupt(self, thread_id: str | None = None) -> Any:
        """Interrupt the agent: every thread, or only ``thread_id`` where the wire has threads."""
        if self.channel is not None:
            return await self.channel.interrupt(thread_id)
        record: JSONObject = {"type": INTERRUPT_RECORD}
        if thread_id is not None:
            record["session_thread_id"] = thread_id
        return await self.send(record)

    def remember(self, event: Event) -> None:
        """Index ``event`` by id for :meth:`event_by_id` (the run loop does this for you).

        Events without an id (previews) are ignored. The last :attr:`max_remembered` events
        are kept, and tool calls up to :attr:`max_remembered_calls`; the oldest go first.
        """
        event_id = event.id
        if event_id is None:
            return
        if event.kind == "tool.started":
            calls = self._calls
            calls[event_id] = event
            if len(calls) > self.max_remembered_calls:
                calls.popitem(last=False)
            return
        events = self._events
        if event_id not in events:  # (an id seen again keeps its place, as it always did)
            order = self._order
            order.append(event_id)
            if len(order) > self.max_remembered:
                del events[order.popleft()]
        events[event_id] = event

    def event_by_id(self, event_id: str) -> Event | None:
        """The remembered event with this id, or ``None`` (see :meth:`remember`)."""
        return self._calls.get(event_id) or self._events.get(event_id)

    def stop(self) -> None:
        """Ask the run to stop after the current event.

        The other handlers of the current event still run; ``app.run`` returns once the
        event has been dispatched.
        """
        self._stop[0] = True

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called (here or in a context made by :meth:`for_call`)."""
        return self._stop[0]

    def for_call(self, call_id: str, fencing_token: int | None = None) -> Context:
        """The context a tool runs with: this run's context, with :attr:`call_id` set.

        Everything else is shared with this context (state, channel, remembered events, the
        stop flag), so a tool can ``send``, ``stop`` and read ``state`` as a handler does.
        """
        child = copy.copy(self)
        child.call_id = call_id
        child.fencing_token = fencing_token if fencing_token is not None else self.fencing_token
        return child

    def __repr__(self) -> str:
        # Never show ``state`` or the outbox: they may hold secrets.
        return (
            f"Context(session_id={self.session_id!r}, detached={self.detached}, "
            f"stopped={self._stop[0]})"
        )
