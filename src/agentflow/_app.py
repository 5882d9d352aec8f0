"""The App: handlers (it is a :class:`~agentflow.Router`), middleware, error handlers.

``await app.dispatch(event, ctx)`` runs one event through the middleware onion and into
the handlers. The onion is built once (and rebuilt only when ``use`` adds middleware); the
handler list per event type comes from the router's cache.

What happens when something raises (``StopPropagation`` aside):

1. A handler raises: the ``@app.on_error`` handlers for the most specific matching
   exception class run, and the event's remaining handlers still run. With none, the
   :class:`~agentflow.middleware.ErrorEscalation` installed with ``use`` decides. With
   neither, :class:`~agentflow.DispatchError` (``__cause__`` = the exception) is raised
   out of ``dispatch``, and the event's remaining handlers are skipped.
2. A middleware raises: the same, except that the event's processing already ended.
3. An error handler raises: ``DispatchError`` with that exception as ``__cause__``.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, overload

import anyio

from ._context import Context
from ._dispatch import (
    Route,
    Router,
    StopPropagation,
    bind_call,
    describe,
    is_async_callable,
    plan_call,
)
from ._exceptions import DispatchError, SessionErrorRaised
from ._types import HandlerT, Middleware, Next
from .middleware import ErrorEscalation

if TYPE_CHECKING:
    import pluggy

    from ._checkpoint import CheckpointStore
    from ._results import RunResult
    from ._run import Actions, Until
    from ._tools import ToolRegistry
    from .events import Event
    from .plugins import Verdict
    from .transport import ManagedAgentsClient

__all__ = ["App"]

ERROR_HANDLER_PARAMS = {"exc": 0, "error": 0, "exception": 0, "event": 1, "ctx": 2}
"""Parameter names an ``@app.on_error`` handler may declare."""

_ErrorHandler = tuple[Callable[..., Any], bool, Callable[..., Any]]  # call, is_async, function


class App(Router):
    """An agentflow application: handlers, middleware, error handlers (and tools, policies).

    ::

        app = App()
        app.use(LoggingMiddleware())

        @app.on("agent.message")
        def show(event):
            print(event.text)

        @app.on_error(TimeoutError)
        async def slow(exc, event, ctx):
            await ctx.interrupt()

    ``App`` is a :class:`~agentflow.Router`: ``on``, ``add_handler`` and ``include`` work
    the same way.
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        default_confirmation: Verdict | None = None,
        load_entrypoints: bool = True,
    ) -> None:
        """Make an app.

        ``default_confirmation`` answers ``ask``-gated calls no policy decides (``None``, the
        default, denies them with a message saying no policy matched); ``load_entrypoints``
        says whether policies installed under the ``agentflow`` entry-point group are loaded.
        """
        super().__init__(name=name)
        self._middleware: list[Middleware] = []
        self._escalation: ErrorEscalation | None = None
        self._chain: Next | None = None
        self._error_handlers: list[tuple[type[Exception], _ErrorHandler]] = []
        self._error_lookup: dict[type[BaseException], tuple[_ErrorHandler, ...]] = {}
        if default_confirmation is not None:
            self.default_confirmation = default_confirmation
        if not load_entrypoints:
            self.load_entrypoints = False

    # -- middleware -----------------------------------------------------------------------

    def use(self, *middleware: Middleware) -> None:
        """Add middleware; the first ever added is the outermost layer.

        Each is ``async def mw(event, ctx, call_next)`` or an object with such an
        ``async __call__``. An :class:`~agentflow.middleware.ErrorEscalation` here also
        becomes the app's policy for exceptions (at most one per app).
        """
        for mw in middleware:
            _check_middleware(mw)
        escalations = [
            m for m in (*self._middleware, *middleware) if isinstance(m, ErrorEscalation)
        ]
        if len(escalations) > 1:
            raise ValueError("An app takes one ErrorEscalation; configure a single instance")
        self._middleware.extend(middleware)
        self._escalation = escalations[0] if escalations else None
        self._chain = None

    @property
    def middleware(self) -> tuple[Middleware, ...]:
        """The installed middleware, outermost first."""
        return tuple(self._middleware)

    def _build_chain(self) -> Next:
        # Starlette-style: wrap from the inside out, so the first middleware ends up outermost.
        chain: Next = self._run_handlers
        for mw in reversed(self._middleware):
            chain = _link(mw, chain)
        self._chain = chain
        return chain

    # -- error handlers -------------------------------------------------------------------

    def on_error(self, *exc_types: type[Exception]) -> Callable[[HandlerT], HandlerT]:
        """Decorator: handle exceptions of these types (default ``Exception``).

        The handler may be sync or async and takes, by name, any of ``exc`` (or ``error``,
        ``exception``), ``event`` and ``ctx``. Only the handlers registered for the most
        specific class in the exception's MRO run, in registration order. Returning
        normally means handled: dispatch carries on. Raising ends the dispatch with
        :class:`~agentflow.DispatchError`.
        """
        for exc_type in exc_types:
            if not (isinstance(exc_type, type) and issubclass(exc_type, Exception)):
                raise TypeError(
                    f"on_error() takes Exception subclasses, got {exc_type!r}; "
                    f"write @app.on_error(Exception) or @app.on_error()"
                )
        types = exc_types or (Exception,)

        def register(handler: HandlerT) -> HandlerT:
            positional, keywords = plan_call(handler, ERROR_HANDLER_PARAMS, what="error handler")
            entry = (bind_call(handler, positional, keywords), is_async_callable(handler), handler)
            self._error_handlers.extend((exc_type, entry) for exc_type in types)
            self._error_lookup.clear()
            return handler

        return register

    def _error_handlers_for(self, exc_type: type[BaseException]) -> tuple[_ErrorHandler, ...]:
        found = self._error_lookup.get(exc_type)
        if found is None:
            found = ()
            for cls in exc_type.__mro__:
                found = tuple(entry for t, entry in self._error_handlers if t is cls)
                if found:
                    break
            self._error_lookup[exc_type] = found
        return found

    async def _handle_exception(
        self, exc: Exception, event: Event, ctx: Context, route: Route | None
    ) -> None:
        """Route ``exc`` to error handlers, then the escalation policy; raise if unhandled."""
        where = "a middleware" if route is None else f"handler {describe(route.handler)!r}"
        message = (
            f"{where} raised {type(exc).__name__} while handling {event.type} event {event.id!r}"
        )
        handlers = self._error_handlers_for(type(exc))
        for call, is_async, handler in handlers:
            try:
                result = call(exc, event, ctx)
                if is_async or inspect.isawaitable(result):
                    await result
            except Exception as err:
                raise DispatchError(
                    f"error handler {describe(handler)!r} raised {type(err).__name__} "
                    f"after {message}",
                    event=event,
                ) from err
        if handlers:
            return
        if self._escalation is not None:
            await self._escalation.escalate_exception(exc, event, ctx, message)
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
        chain = self._chain or self._build_chain()
        try:
            await chain(event, ctx)
        except StopPropagation:
            pass
        except (DispatchError, SessionErrorRaised):
            raise  # already decided by the handler loop or an ErrorEscalation
        except Exception as exc:
            await self._handle_exception(exc, event, ctx, None)
        return ctx

    async def dispatch_many(
        self, events: Iterable[Event] | AsyncIterable[Event], ctx: Context | None = None
    ) -> Context:
        """Dispatch events in order, as a run would, until they end or ``ctx.stop()``.

        Each event is first remembered (``ctx.remember``), so ``ctx.event_by_id`` and the
        tool-result filtering of :class:`~agentflow.middleware.ToolNameFilter` work as in a
        live run. Handy for replaying a recorded session.
        """
        if ctx is None:
            ctx = Context(app=self)
        if isinstance(events, AsyncIterable):
            async for event in events:
                ctx.remember(event)
                await self.dispatch(event, ctx)
                if ctx.stopped:
                    break
        else:
            for event in events:
                ctx.remember(event)
                await self.dispatch(event, ctx)
                if ctx.stopped:
                    break
        return ctx

    async def _run_handlers(self, event: Event, ctx: Context) -> None:
        # The innermost layer: keep it lean, it runs for every event.
        entries = self._resolved.get(event.type)
        if entries is None:
            entries = self._resolve(event.type)
        for call, is_async, check, route in entries:
            try:
                if check is not None and not check(event):
                    continue
                if is_async:
                    await call(event, ctx)
                else:
                    result = call(event, ctx)
                    if result is not None and inspect.isawaitable(result):
                        await result
            except StopPropagation:
                return
            except Exception as exc:
                await self._handle_exception(exc, event, ctx, route)

    # -- tools, confirmation policies and running -----------------------------------------
    # (the machinery lives in _tools, plugins, _router and _run; these are thin entry points)

    @functools.cached_property
    def _actions(self) -> Actions:
        from ._run import Actions

        return Actions()

    @property
    def tools(self) -> ToolRegistry:
        """The app's custom tools; ``app.tools.definitions()`` gives their definitions."""
        return self._actions.tools

    @property
    def plugins(self) -> pluggy.PluginManager:
        """The pluggy plugin manager holding the confirmation policies.

        Created on first use, when the plugins installed under the ``agentflow`` entry-point
        group are loaded (set ``app.load_entrypoints = False`` before that to skip them).
        ``app.plugins.register(obj)`` adds a policy.
        """
        return self._actions.plugins

    @property
    def load_entrypoints(self) -> bool:
        """Whether ``app.plugins`` loads entry-point plugins when created (default True)."""
        return self._actions.load_entrypoints

    @load_entrypoints.setter
    def load_entrypoints(self, value: bool) -> None:
        if self._actions._plugins is not None:
            raise RuntimeError("app.plugins already exists; set load_entrypoints before using it")
        self._actions.load_entrypoints = value

    @property
    def default_confirmation(self) -> Verdict | None:
        """The answer when no policy decides; ``None`` (default) denies, saying none matched."""
        return self._actions.default_confirmation

    @default_confirmation.setter
    def default_confirmation(self, value: Verdict | None) -> None:
        self._actions.default_confirmation = value

    @overload
    def tool(self, fn: HandlerT) -> HandlerT: ...
    @overload
    def tool(
        self,
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
        max_concurrency: int | None = None,
    ) -> Callable[[HandlerT], HandlerT]: ...
    def tool(
        self,
        fn: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
        max_concurrency: int | None = None,
    ) -> Any:
        """Register a custom tool (``@app.tool`` or ``@app.tool(name=..., timeout=...)``).

        The schema comes from the signature, type hints and docstring; see
        :class:`~agentflow._tools.Tool`. Returns the function unchanged. A name already
        registered raises :class:`~agentflow.ToolError`.
        """
        localns = dict(sys._getframe(1).f_locals)

        def register(f: HandlerT) -> HandlerT:
            self.tools.register(
                f,
                name=name,
                description=description,
                timeout=timeout,
                max_concurrency=max_concurrency,
                localns=localns,
            )
            return f

        return register if fn is None else register(fn)

    @overload
    def confirm(self, fn: HandlerT, /) -> HandlerT: ...
    @overload
    def confirm(self, *patterns: str) -> Callable[[HandlerT], HandlerT]: ...
    def confirm(self, *patterns: Any) -> Any:
        """Register a confirmation policy for tools whose name matches a glob (default all).

        ``@app.confirm("read*")`` over a function taking ``event`` and/or ``ctx`` that returns
        ``Allow()``, ``Deny(message)``, a bool, ``None`` (no opinion) or an awaitable of one.
        ``@app.confirm`` policies are asked in declaration order, after the plugins given to
        ``app.plugins.register`` and before entry-point plugins.
        """
        if len(patterns) == 1 and callable(patterns[0]):
            self._actions.confirms.add(patterns[0], ("*",))
            return patterns[0]

        def register(f: HandlerT) -> HandlerT:
            self._actions.confirms.add(f, tuple(patterns))
            return f

        return register

    async def run(
        self,
        client: ManagedAgentsClient,
        session_id: str,
        *,
        send: Iterable[Mapping[str, Any]] = (),
        until: Until = "end_turn",
        checkpoint: CheckpointStore | None = None,
        replay: bool | None = None,
        max_concurrency: int | None = None,
        **stream_options: Any,
    ) -> RunResult:
        """Open the stream, send ``send``, dispatch and answer until the turn ends.

        Ends on a turn-ending idle (``until="end_turn"``), on ``"terminated"`` only, or when
        ``until(event)`` is true; always on a terminated/deleted session or ``ctx.stop()``.
        ``checkpoint`` defaults to the app's in-memory store; ``replay`` defaults to resuming
        after the checkpoint's position, else starting at the end of history.
        Other keywords go to ``client.events.stream`` (``event_deltas``, ``stale_after``, …).
        See :mod:`agentflow._run` for the exact order of things.
        """
        from ._run import run_app

        return await run_app(
            self,
            client,
            session_id,
            send=send,
            until=until,
            checkpoint=checkpoint,
            replay=replay,
            max_concurrency=max_concurrency,
            stream_options=stream_options,
        )

    def run_sync(
        self, client: ManagedAgentsClient | None, session_id: str, **options: Any
    ) -> RunResult:
        """:meth:`run` from synchronous code (``anyio.run``); ``client=None`` makes one.

        A client made here reads ``ANTHROPIC_API_KEY`` / ``ANTHROPIC_BASE_URL`` and is closed
        before returning.
        """

        async def main() -> RunResult:
            if client is not None:
                return await self.run(client, session_id, **options)
            from .transport import ManagedAgentsClient

            async with ManagedAgentsClient() as own:
                return await self.run(own, session_id, **options)

        return anyio.run(main)

    async def serve(
        self,
        client: ManagedAgentsClient,
        session_id: str,
        *,
        send: Iterable[Mapping[str, Any]] = (),
        **options: Any,
    ) -> RunResult:
        """Follow the session across turns until it terminates or a handler calls ``ctx.stop()``.

        Takes the options of :meth:`run` except ``until``.
        """
        return await self.run(client, session_id, send=send, until="terminated", **options)


def _link(mw: Middleware, call_next: Next) -> Next:
    # Calling an instance looks up and binds ``__call__`` each time; bind it once here.
    call = mw if inspect.isfunction(mw) or inspect.ismethod(mw) else mw.__call__

    def layer(event: Event, ctx: Context) -> Any:
        return call(event, ctx, call_next)

    return layer


def _check_middleware(mw: object) -> None:
    if inspect.isclass(mw):
        raise TypeError(
            f"use() takes middleware instances or functions, got the class {mw.__name__}; "
            f"write app.use({mw.__name__}())"
        )
    if not callable(mw):
        raise TypeError(f"Expected a middleware (event, ctx, call_next), got {mw!r}")
    if (inspect.isfunction(mw) or inspect.ismethod(mw)) and not is_async_callable(mw):
        raise TypeError(f"middleware {describe(mw)!r} must be an async function")
    try:
        signature = inspect.signature(mw)
    except (TypeError, ValueError):
        return  # nothing to check; a wrong signature will show at the first event
    try:
        signature.bind(None, None, None)
    except TypeError:
        raise TypeError(
            f"middleware {describe(mw)!r} must accept (event, ctx, call_next), not {signature}"
        ) from None
