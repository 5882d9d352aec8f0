"""The core of an App: handlers (it is a :class:`~agentflow.Router`), middleware, error and
question handlers, dispatch, and running against any source.

``await app.dispatch(event, ctx)`` runs one event through the middleware onion and into
the handlers. The onion is built once (and rebuilt only when ``use`` adds middleware); the
handler list per event type comes from the router's cache.

What happens when something raises (``StopPropagation`` aside):

1. A handler raises: the ``@app.on_error`` handlers for the most specific matching
   exception class run, and the event's remaining handlers still run. With none, the
   exception policy installed with ``use`` (a middleware with ``escalate_exception``, such
   as :class:`~agentflow.middleware.ErrorEscalation`) decides. With neither,
   :class:`~agentflow.DispatchError` (``__cause__`` = the exception) is raised out of
   ``dispatch``, and the event's remaining handlers are skipped.
2. A middleware raises: the same, except that the event's processing already ended.
3. An error handler raises: ``DispatchError`` with that exception as ``__cause__``.

:class:`agentflow.App` adds tools (``@app.tool``) and confirmation policies on top.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, overload

import anyio

from .chain import ExceptionPolicy, Middleware, Next, check_middleware, exception_policy, link
from .config import Actions
from .context import Context
from .exceptions import DispatchError, SessionErrorRaised
from .inject import describe
from .observers import Observers
from .on_error import ErrorHandlers
from .routes import Route, Router, StopPropagation

if TYPE_CHECKING:
    from .checkpoint import CheckpointStore
    from .events import Event
    from .results import RunResult
    from .run import Until
    from .types import HandlerT

__all__ = ["BaseApp"]


class BaseApp(Router):
    """Handlers, middleware, error and question handlers, dispatch and ``run``.

    Most programs use :class:`agentflow.App`, which adds tools and policies.
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        strict: bool = False,
        observers: Iterable[object] = (),
        trace_events: bool = False,
    ) -> None:
        super().__init__(name=name, strict=strict)
        self.actions = Actions()
        """The app's tools, policies, question handlers and run defaults."""
        self.observers = Observers(observers, on_change=self._reset_chain)
        """What watches the app's runs (telemetry); see :mod:`agentflow.core.observe`."""
        self._trace_events = trace_events
        self._middleware: list[Middleware] = []
        self._exception_policy: ExceptionPolicy | None = None
        self._chain: Next | None = None
        self._direct = False  # no middleware, no event tracing: dispatch runs handlers inline
        self._errors = ErrorHandlers()

    # -- middleware -----------------------------------------------------------------------

    def use(self, *middleware: Middleware) -> None:
        """Add middleware; the first ever added is the outermost layer.

        Each is ``async def mw(event, ctx, call_next)`` or an object with such an
        ``async __call__``. One that also has ``escalate_exception`` (such as
        :class:`~agentflow.middleware.ErrorEscalation`) becomes the app's policy for
        exceptions no error handler takes (at most one per app).
        """
        for mw in middleware:
            check_middleware(mw)
        policies = [p for p in map(exception_policy, (*self._middleware, *middleware)) if p]
        if len(policies) > 1:
            names = ", ".join(type(p).__name__ for p in policies)
            raise ValueError(
                f"An app takes one ErrorEscalation (or other exception policy), got {names}; "
                "configure a single instance"
            )
        self._middleware.extend(middleware)
        self._exception_policy = policies[0] if policies else None
        self._reset_chain()

    @property
    def middleware(self) -> tuple[Middleware, ...]:
        """The installed middleware, outermost first."""
        return tuple(self._middleware)

    def _build_chain(self) -> Next:
        chain: Next = self._run_handlers
        for mw in reversed(self._middleware):
            chain = link(mw, chain)
        if self._trace_events:  # only then does each event cost the observers anything
            chain = self.observers.wrap_dispatch(chain)
        self._chain = chain
        self._direct = not self._middleware and not self._trace_events
        return chain

    def _reset_chain(self) -> None:
        # dispatch builds the chain again (and decides _direct anew) on its next event
        self._chain = None
        self._direct = False

    # -- observers ------------------------------------------------------------------------

    def observe(self, *observers: object) -> None:
        """Add observers of the app's runs, tools, policies and replies (telemetry).

        An observer has some of the hooks of :class:`~agentflow.core.observe.Observer`
        (``on_run``, ``on_tool``, ...); :class:`agentflow.telemetry.OpenTelemetryObserver`
        is one. ``App(observers=[...])`` does the same.
        """
        for observer in observers:
            self.observers.add(observer)

    @property
    def trace_events(self) -> bool:
        """Whether each dispatch goes through the observers' ``on_event`` hooks.

        Off by default: at many thousands of events a second, a span per event would cost
        more than the dispatch itself.
        """
        return self._trace_events

    @trace_events.setter
    def trace_events(self, value: bool) -> None:
        self._trace_events = value
        self._reset_chain()

    # -- error and question handlers ------------------------------------------------------

    def on_error(self, *exc_types: type[Exception]) -> Callable[[HandlerT], HandlerT]:
        """Decorator: handle exceptions of these types (default ``Exception``).

        The handler may be sync or async and takes, by name, any of ``exc`` (or ``error``,
        ``exception``), ``event`` and ``ctx``. Only the handlers registered for the most
        specific class in the exception's MRO run, in registration order. Returning
        normally means handled: dispatch carries on. Raising ends the dispatch with
        :class:`~agentflow.DispatchError`.
        """
        ErrorHandlers.check_types(exc_types)

        def register(handler: HandlerT) -> HandlerT:
            self._errors.register(exc_types, handler)
            return handler

        return register

    # Typed like ``on``: the bare form returns the handler, the glob form a decorator of it.
    @overload
    def on_question(self, pattern: HandlerT) -> HandlerT: ...
    @overload
    def on_question(self, pattern: str = "*") -> Callable[[HandlerT], HandlerT]: ...
    def on_question(self, pattern: str | Callable[..., Any] = "*") -> Any:
        """Decorator: answer the agent's questions (``kind == "input.requested"``).

        ``@app.on_question`` or ``@app.on_question("Which*")`` (a glob on the question's
        text). The handler takes, by name, any of ``question``, ``options``, ``event`` and
        ``ctx`` and returns the answer text, or ``None`` to leave it to the next handler.
        With no answer the question is declined (see :mod:`agentflow.core.questions`).
        """
        if callable(pattern):
            self.actions.questions.register(pattern)
            return pattern

        def register(handler: HandlerT) -> HandlerT:
            self.actions.questions.register(handler, pattern)
            return handler

        return register

    async def _handle_exception(
        self, exc: Exception, event: Event, ctx: Context, route: Route | None
    ) -> None:
        """Route ``exc`` to error handlers, then the exception policy; raise if unhandled."""
        where = "a middleware" if route is None else f"handler {describe(route.handler)!r}"
        message = (
            f"{where} raised {type(exc).__name__} while handling {event.type} event {event.id!r}"
        )
        if await self._errors.handle(exc, event, ctx, message):
            return
        if self._exception_policy is not None:
            await self._exception_policy.escalate_exception(exc, event, ctx, message)
            return
        raise DispatchError(message, event=event) from exc

    # -- dispatch -------------------------------------------------------------------------

    async def dispatch(self, event: Event, ctx: Context | None = None) -> Context:
        """Run one event through the middleware and its handlers; return the context used.

        Without ``ctx`` a detached :class:`~agentflow.Context` is made (what handlers send
        lands in ``ctx.outbox``). Raises :class:`~agentflow.DispatchError` or
        :class:`~agentflow.SessionErrorRaised` when an error is escalated (see the module
        docstring for the rules).
        """
        if ctx is None:
            ctx = Context(app=self)
        try:
            if self._direct:  # (set by _build_chain, so only from the second event on)
                # The handler loop of _run_handlers, inline: one coroutine less per event.
                entries = self._resolved.get(event.type)
                if entries is None:
                    entries = self._resolve(event.type)
                for call, kind, check, route in entries:
                    try:
                        if check is not None and not check(event):
                            continue
                        if kind == 1:  # sync, the event alone: the most common handler
                            result = call(event)
                        elif kind == 0:
                            result = call(event, ctx)
                        else:
                            await (call(event) if kind == 3 else call(event, ctx))
                            continue
                        if result is not None and inspect.isawaitable(result):
                            await result
                    except StopPropagation:
                        break
                    except Exception as exc:
                        await self._handle_exception(exc, event, ctx, route)
            else:
                await (self._chain or self._build_chain())(event, ctx)
        except StopPropagation:
            pass
        except (DispatchError, SessionErrorRaised):
            raise  # already decided by the handler loop or the exception policy
        except Exception as exc:
            await self._handle_exception(exc, event, ctx, None)
        return ctx

    async def dispatch_many(
        self,
        events: Iterable[Event] | AsyncIterable[Event],
        ctx: Context | None = None,
        *,
        actions: bool = True,
    ) -> Context:
        """Send events down the run's event path in order, until they end or ``ctx.stop()``.

        Each event is remembered (``ctx.event_by_id`` and the tool-result filtering of
        :class:`~agentflow.middleware.ToolNameFilter` work as in a live run), seen by the
        actions router (the app's tools run and its policies decide at each pause, replies
        landing in ``ctx.outbox`` of a detached context) and dispatched. ``actions=False``
        dispatches only. Handy for replaying a recorded session.
        """
        from .replay import run_events

        if ctx is None:
            ctx = Context(app=self)
        return await run_events(self, events, ctx, actions=actions)

    async def _run_handlers(self, event: Event, ctx: Context) -> None:
        # The innermost layer: keep it lean, it runs for every event.
        entries = self._resolved.get(event.type)
        if entries is None:
            entries = self._resolve(event.type)
        for call, kind, check, route in entries:
            try:
                if check is not None and not check(event):
                    continue
                if kind == 1:  # (the Route.kind values: see agentflow.core.routes)
                    result = call(event)
                elif kind == 0:
                    result = call(event, ctx)
                else:
                    await (call(event) if kind == 3 else call(event, ctx))
                    continue
                if result is not None and inspect.isawaitable(result):
                    await result
            except StopPropagation:
                return
            except Exception as exc:
                await self._handle_exception(exc, event, ctx, route)

    # -- running --------------------------------------------------------------------------

    async def run(
        self,
        source: Any,
        session: Any,
        *,
        send: Iterable[str | Mapping[str, Any]] = (),
        until: Until = "end_turn",
        checkpoint: CheckpointStore | None = None,
        replay: bool | None = None,
        max_concurrency: int | None = None,
        wait: bool | float = False,
        fencing_token: int | None = None,
        **stream_options: Any,
    ) -> RunResult:
        """Open the session's channel, send ``send``, dispatch and answer until the turn ends.

        ``source`` is any :class:`~agentflow.Source` (``ManagedAgentsClient``, ...) and
        ``session`` what it follows (a session id, a ``Conversation``, a run id). In
        ``send`` a ``str`` is a user message. Ends when the turn ends
        (``until="end_turn"``), only when the session does (``"terminated"``), at the end of
        what the session holds (``"caught_up"``: answer what waits, never wait for the
        agent), or when ``until(event)`` is true; always on a terminated session or
        ``ctx.stop()``. ``fencing_token`` (the session lease's, in scale-out) is
        ``ctx.fencing_token`` for handlers and tools.
        ``checkpoint`` defaults to the app's in-memory store; ``replay`` defaults to resuming
        after the checkpoint's position, else starting at the end of the session. One run
        holds a session per checkpoint store at a time: when another live run holds it,
        :class:`~agentflow.SessionBusyError` (naming that run) is raised at once, unless
        ``wait`` is true (wait until it is free) or a number of seconds to wait. Other
        keywords go to the dialect's stream (``event_deltas``, ``stale_after``, ...). See
        :mod:`agentflow.core.run` for the exact order of things.
        """
        from .run import run_app

        return await run_app(
            self,
            source,
            session,
            send=send,
            until=until,
            checkpoint=checkpoint,
            replay=replay,
            max_concurrency=max_concurrency,
            wait=wait,
            fencing_token=fencing_token,
            stream_options=stream_options,
        )

    def run_sync(self, source: Any, session: Any, **options: Any) -> RunResult:
        """:meth:`run` from synchronous code (``anyio.run``)."""

        async def main() -> RunResult:
            return await self.run(source, session, **options)

        return anyio.run(main)

    async def serve(
        self,
        source: Any,
        session: Any,
        *,
        send: Iterable[str | Mapping[str, Any]] = (),
        **options: Any,
    ) -> RunResult:
        """Follow the session across turns until it ends or a handler calls ``ctx.stop()``.

        Takes the options of :meth:`run` except ``until``.
        """
        return await self.run(source, session, send=send, until="terminated", **options)
