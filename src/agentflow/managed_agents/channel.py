"""The Managed Agents :class:`~agentflow.Channel`: one session, as ``app.run`` follows it.

Events come from the resilient stream (``client.events.stream``), opened before anything is
sent, or with the ``poll=SECONDS`` option from history pages (``client.events.poll``: no
connection held, for a run that reads what is stored and stops); a turn starts with
``events.send`` of the inputs and counts as started when their echoes arrive; answers are
posted with ``events.send`` in one attempt (the actions router owns the retries); history
(``events.list`` of calls and replies) lets a restarted run see what was answered already.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..core.observe import ReconnectObservation
from .builders import interrupt
from .dialect import MANAGED_AGENTS
from .start import StartWatch

if TYPE_CHECKING:
    from ..core.checkpoint import CheckpointStore
    from ..core.observers import Observers
    from ..core.types import JSONObject
    from .events import ManagedAgentsEvent
    from .poll import EventPoller
    from .resources import Events
    from .stream import EventStream

__all__ = ["HISTORY_TYPES", "STATUS_TYPES", "ManagedAgentsChannel"]

STATUS_TYPES = (
    "session.status_idle",
    "session.status_running",
    "session.status_rescheduled",
    "session.status_terminated",
    "session.thread_status_idle",
)
"""What :meth:`ManagedAgentsChannel.latest` looks for: the session's (or a thread's) status."""

HISTORY_TYPES = (
    "agent.custom_tool_use",
    "agent.tool_use",
    "agent.mcp_tool_use",
    "user.custom_tool_result",
    "user.tool_confirmation",
)
"""What the actions router reads from history: calls and their replies."""


class ManagedAgentsChannel:
    """One Managed Agents session for the run loop (see the module docstring)."""

    dialect = MANAGED_AGENTS
    __slots__ = ("_events", "_known", "_latest", "_observers", "session_id", "stream")

    def __init__(
        self,
        events: Events,
        session_id: str,
        *,
        checkpoint: CheckpointStore,
        replay: bool | None,
        options: Mapping[str, Any],
    ) -> None:
        self.session_id = session_id
        self._events = events
        if replay is None:
            replay = checkpoint.position(session_id) is not None
        options = dict(options)
        poll = options.pop("poll", None)
        self.stream: EventStream | EventPoller
        self._latest: ManagedAgentsEvent | None = None  # known from the stream's start
        self._known = False
        self._observers: Observers | None = None
        if poll is None:
            self.stream = events.stream(session_id, checkpoint=checkpoint, replay=replay, **options)
            self.stream.watch = StartWatch(STATUS_TYPES)
        else:
            self.stream = events.poll(
                session_id, interval=poll, checkpoint=checkpoint, replay=replay, **options
            )

    async def __aenter__(self) -> ManagedAgentsChannel:
        await self.stream.__aenter__()
        watch: StartWatch | None = getattr(self.stream, "watch", None)
        if watch is not None:
            self._latest, self._known = watch.event, watch.known
            self.stream.watch = None  # type: ignore[union-attr]  # done: let it go
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stream.__aexit__(exc_type, exc, tb)

    def __aiter__(self) -> AsyncIterator[ManagedAgentsEvent]:
        return self.stream

    def bind(self, *, app: Any, router: Any, ctx: Any) -> None:
        """Report the stream's reconnects to the app's observers (telemetry)."""
        self._observers = getattr(app, "observers", None)
        if self._observers is not None and hasattr(self.stream, "on_reconnect"):
            self.stream.on_reconnect = self._reconnected  # a poller does not reconnect

    def _reconnected(self, attempt: int, delay: float, error: str) -> None:
        if self._observers is not None:
            observation = ReconnectObservation(
                self.session_id, self.dialect.name, attempt, delay, error
            )
            self._observers.reconnect(observation)

    async def start_turn(self, inputs: Sequence[JSONObject]) -> Collection[str]:
        """Post the inputs; the turn starts when one of their echoes arrives."""
        echoes = await self._events.send(self.session_id, list(inputs))
        return {str(e.id) for e in echoes or () if getattr(e, "id", None)}

    async def send(self, requests: list[JSONObject]) -> Any:
        """``events.send`` (retried only when the request surely was not processed)."""
        return await self._events.send(self.session_id, requests)

    async def answer(self, replies: list[JSONObject]) -> None:
        """Post replies in one attempt; the actions router retries."""
        await self._events.send(self.session_id, replies, retry="none")

    async def interrupt(self, thread_id: str | None = None) -> Any:
        """Send ``user.interrupt`` (every thread, or only ``thread_id``)."""
        return await self.send([interrupt(thread_id)])

    def history(self) -> AsyncIterator[ManagedAgentsEvent]:
        """The session's calls and replies, from the start."""
        return self._events.list(self.session_id, types=HISTORY_TYPES)

    async def latest(self) -> ManagedAgentsEvent | None:
        """The session's most recent status event.

        Asked right after entering (a run attaching), the stream's start has usually read it
        already: its history reads end at the end of history, and the newest status event
        among them is the latest (anything newer comes on the stream); one that read the
        whole history knows there is none. Then no request.
        """
        known, self._latest = self._latest, None
        if self._known:  # once: later calls read history
            self._known = False
            return known
        async for event in self._events.list(
            self.session_id, order="desc", limit=1, types=STATUS_TYPES
        ):
            found: ManagedAgentsEvent = event
            return found
        return None

    def __repr__(self) -> str:
        return f"ManagedAgentsChannel(session_id={self.session_id!r})"
