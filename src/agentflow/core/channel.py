"""The moving half of the seam: a :class:`Source` opens a :class:`Channel` for one session.

A source is what users pass to ``app.run`` (``ManagedAgentsClient``, ``MessagesClient``, an
in-process ``OrxhestraSource``, ...). ``source.channel(session, ...)`` returns a channel for
one session: an async context manager (connected on entry) and an async iterator of typed
events, each delivered once and in order (the channel owns reconnection, deduplication and
the checkpoint's record of dispatched events). The run loop uses it to start a turn from the
``send`` inputs, to post the App's answers, to interrupt, and, where the platform keeps one,
to read history so that a call answered before a restart is never answered again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .checkpoint import CheckpointStore
    from .dialect import Dialect
    from .events import Event
    from .types import JSONObject

__all__ = ["Binding", "Channel", "Source", "bind", "is_source"]


@runtime_checkable
class Channel(Protocol):
    """One session's connection, as the run loop sees it (see the module docstring)."""

    dialect: Dialect
    session_id: str
    """The key the checkpoint records this session under."""

    async def __aenter__(self) -> Channel:
        """Connect: once this returns, nothing caused by what is sent next can be missed."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Disconnect (acknowledging the last event on a clean exit)."""

    def __aiter__(self) -> AsyncIterator[Event]:
        """The session's events, each once, in order."""

    async def start_turn(self, inputs: Sequence[JSONObject]) -> Collection[str]:
        """Send the turn's inputs; return the ids of the events that will show the turn has
        started (the echoes of what was sent), or nothing when it has started already."""

    async def send(self, requests: list[JSONObject]) -> Any:
        """Send client requests as given (``ctx.send``)."""

    async def answer(self, replies: list[JSONObject]) -> None:
        """Post the App's answers in one attempt (the actions router owns retries); raise
        the typed error of a failure."""

    async def interrupt(self, thread_id: str | None = None) -> Any:
        """Interrupt the agent (one thread, where the wire has threads)."""

    def history(self) -> AsyncIterator[Event] | None:
        """The session's stored events from the start, or ``None`` where there are none."""

    async def latest(self) -> Event | None:
        """The session's most recent status event, for a run that sends nothing."""


class Binding(Protocol):
    """What a channel may want from the run that opened it (see :func:`bind`).

    ``app`` is the app being run (its ``actions.tools`` are the tools to offer a model, for
    dialects where the client names the tools); ``router`` the run's actions router (an
    in-process dialect's gate asks it for answers: ``await router.answer([call_id], ctx)``);
    ``ctx`` the run's context.
    """

    app: Any
    router: Any
    ctx: Any


def bind(channel: Channel, *, app: Any, router: Any, ctx: Any) -> None:
    """Give ``channel`` the run's app, actions router and context, if it asks for them.

    A channel that needs them defines ``bind(app=..., router=..., ctx=...)``; the run loop
    calls it before entering the channel. Most channels do not need it.
    """
    method = getattr(channel, "bind", None)
    if callable(method):
        method(app=app, router=router, ctx=ctx)


@runtime_checkable
class Source(Protocol):
    """What ``app.run`` takes: something that opens channels and names its dialect."""

    dialect: Dialect

    def channel(
        self,
        session: Any,
        *,
        checkpoint: CheckpointStore,
        replay: bool | None,
        **options: Any,
    ) -> Channel:
        """A channel for ``session`` (an id, or a dialect's own session object).

        ``replay=None`` resumes after the checkpoint's position for the session when it has
        one, else starts at the end of what the session holds; ``True`` replays everything,
        ``False`` starts at the end. ``options`` are the dialect's own stream options.
        """


def is_source(obj: object) -> bool:
    """What ``isinstance(obj, Source)`` says, without its cost.

    On Python 3.10 and 3.11 a check against a runtime protocol collects the protocol's
    members anew on every call (about 20 µs), and ``app.run`` checks its source each time:
    a process serving thousands of sessions pays it for every one.
    """
    return hasattr(obj, "dialect") and callable(getattr(obj, "channel", None))
