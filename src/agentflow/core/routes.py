"""Handler registration and route resolution: ``Router``, ``@router.on(...)``, ``include``.

Everything that can be decided before the first event is decided at registration: the
pattern and filters are compiled, the handler's signature is read once and turned into a
call adapter (:mod:`agentflow.core.inject`), and the handler is classified as sync or async.
The handler list for an event type is resolved on first sight of that type and cached, so
routing an event costs one dict lookup plus the field filters of the routes that have any.

Typos are caught at registration, against the dialects loaded then
(:mod:`agentflow.core.known`): an event type (or a glob) no loaded dialect has, or a
``kind=`` outside the common vocabulary, warns with the closest known name
(:class:`~agentflow.core.known.UnknownEventTypeWarning`; a ``ValueError`` on a
``strict=True`` router or app); a field filter that no event class has is a ``ValueError``.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import Any, final

from .events import KINDS
from .inject import describe, handler_target, is_async_callable
from .known import UnknownEventTypeWarning, closest, filter_problem, pattern_problem
from .patterns import EventCheck, compile_filters, compile_pattern, is_glob
from .types import HandlerT

__all__ = ["Entry", "Route", "Router", "StopPropagation"]

KIND_SYNC, EVENT_ONLY, KIND_ASYNC = 0, 1, 2
"""``Route.kind`` bits: a sync handler called ``(event, ctx)`` is 0, ``| EVENT_ONLY`` when it is
called with the event alone, ``KIND_ASYNC`` for an ``async def`` (so 0 to 3)."""

_CACHE_LIMIT = 1024  # distinct event types; a flood of unknown types cannot grow it forever


class StopPropagation(Exception):
    """Raise in a handler to skip the remaining handlers for the current event.

    Handlers that already ran are not undone; the event is considered handled, and
    middleware sees a normal return. Raised from a middleware, it ends the event quietly.
    """


@final
class Route:
    """One registered handler: its pattern, filters, priority and precomputed call."""

    __slots__ = (
        "call",
        "check",
        "filters",
        "handler",
        "is_async",
        "kind",
        "matches",
        "pattern",
        "priority",
        "target",
    )

    def __init__(
        self, handler: Callable[..., Any], pattern: str, priority: int, filters: dict[str, Any]
    ) -> None:
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise TypeError(f"priority must be an int, got {priority!r}")
        self.handler = handler
        self.pattern = pattern
        self.priority = priority
        self.filters = filters
        self.matches: Callable[[str], bool] = compile_pattern(pattern)
        self.check: EventCheck | None = compile_filters(filters)
        call, target, alone = handler_target(handler)
        self.call: Callable[[Any, Any], Any] = call
        """``call(event, ctx)`` runs the handler with what it asked for."""
        self.is_async = is_async_callable(handler)
        self.target = target
        """What dispatch calls: ``target(event)`` when ``kind`` is odd, else as ``call``."""
        self.kind = (KIND_ASYNC if self.is_async else KIND_SYNC) | (EVENT_ONLY if alone else 0)

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.filters.items())
        return f"Route({self.pattern!r}, {describe(self.handler)}, priority={self.priority}{extra})"


Entry = tuple[Callable[..., Any], int, "EventCheck | None", Route]
"""What dispatch iterates per event: ``(route.target, route.kind, check, route)``."""


def _outside() -> int:
    """The ``stacklevel`` of the first frame outside agentflow's core (the user's code)."""
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None:
        name = str(frame.f_globals.get("__name__", ""))
        if not (name.startswith("agentflow.core.") or name == "agentflow.app"):
            break
        frame, level = frame.f_back, level + 1
    return level


def route_problems(route: Route) -> tuple[list[str], list[str]]:
    """``(typos, errors)`` of a route: names no loaded dialect knows (warnings, or errors
    when strict) and field filters no event class has (always errors)."""
    typos: list[str] = []
    problem = pattern_problem(route.pattern, is_glob=is_glob(route.pattern))
    if problem is not None:
        typos.append(problem)
    kind = route.filters.get("kind")
    if isinstance(kind, str) and not is_glob(kind) and kind not in KINDS:
        close = closest(kind, KINDS)
        hint = f"; did you mean {close!r}?" if close else ""
        typos.append(f"kind={kind!r} is not in the common vocabulary (agentflow.KINDS){hint}")
    errors = [p for p in map(filter_problem, route.filters) if p is not None]
    return typos, errors


class Router:
    """A group of handlers. Register with ``@router.on(...)``; add it with ``app.include``.

    ::

        tools = Router()

        @tools.on("agent.tool_use", name="web_*")
        async def searched(event, ctx):
            ctx.logger.info("searching: %s", event.tool_input)

        app.include(tools)

    An included router stays live: handlers registered on it later are seen by the app.
    ``strict=True`` makes an event type no loaded dialect knows an error at registration
    (and at ``include``, for the included router's routes), not a warning.
    """

    def __init__(self, *, name: str | None = None, strict: bool = False) -> None:
        self.name = name
        self.strict = strict
        self._entries: list[Route | Router] = []
        self._parents: list[Router] = []
        self._resolved: dict[str, tuple[Entry, ...]] = {}

    def on(
        self, pattern: str = "*", *, priority: int = 0, **filters: Any
    ) -> Callable[[HandlerT], HandlerT]:
        """Decorator: call the handler for events whose type matches ``pattern``.

        ``pattern`` is an exact type (``"agent.tool_use"``) or a glob (``"agent.*"``,
        ``"*.error"``, ``"*"``). Keyword ``filters`` test event fields or properties: a
        literal must be equal, a string with ``*?[`` is a glob, a callable is a predicate
        of the value; an event without the attribute does not match.

        The handler may be sync or async and is returned unchanged. Its parameters are
        injected by name: ``event`` and/or ``ctx`` (or neither). Any other parameter needs a
        default; otherwise ``TypeError`` is raised here, not at the first event. Sync
        handlers are called directly on the event loop: keep them quick, or make them async.

        All matching handlers run, higher ``priority`` first, then in registration order
        (an included router's handlers take the place of the ``include`` call). A handler
        may raise :class:`StopPropagation` to skip the rest.

        A type no loaded dialect has warns (``strict=True``: ``ValueError``), with the closest
        known type; a filter on a field no event class has raises ``ValueError``.
        """
        if callable(pattern):
            raise TypeError("on() takes a pattern: write @router.on() or @router.on('*')")

        def register(handler: HandlerT) -> HandlerT:
            return self.add_handler(handler, pattern, priority=priority, **filters)

        return register

    def add_handler(
        self, handler: HandlerT, pattern: str = "*", *, priority: int = 0, **filters: Any
    ) -> HandlerT:
        """Register ``handler`` without decorator syntax; same rules as :meth:`on`."""
        route = Route(handler, pattern, priority, filters)
        self._check(route)
        self._entries.append(route)
        self._changed()
        return handler

    def _check(self, route: Route) -> None:
        typos, errors = route_problems(route)
        where = f"handler {describe(route.handler)!r}"
        if errors or (typos and self.strict):
            raise ValueError(f"{where}: " + "; ".join(errors + (typos if self.strict else [])))
        for typo in typos:
            warnings.warn(f"{where}: {typo}", UnknownEventTypeWarning, stacklevel=_outside())

    def include(self, router: Router) -> Router:
        """Add ``router``'s handlers (now and later ones) to this router; returns ``router``."""
        if not isinstance(router, Router):
            raise TypeError(f"include() expects a Router, got {type(router).__name__}")
        if router is self or self in router._descendants():
            raise ValueError(f"Cannot include {router!r}: routers may not include themselves")
        if router in self._entries:
            raise ValueError(f"{router!r} is already included; its handlers would run twice")
        if self.strict:
            for route in router._walk():
                typos = route_problems(route)[0]
                if typos:
                    where = f"handler {describe(route.handler)!r} of {router!r}"
                    raise ValueError(f"{where}: " + "; ".join(typos))
        self._entries.append(router)
        router._parents.append(self)
        self._changed()
        return router

    @property
    def routes(self) -> tuple[Route, ...]:
        """Every route of this router and the routers it includes, in registration order."""
        return tuple(self._walk())

    def handlers_for(self, event_type: str) -> tuple[Route, ...]:
        """The routes whose pattern matches ``event_type``, in the order they would run.

        Field filters are not applied here: they depend on the event itself.
        """
        return tuple(entry[3] for entry in self._resolve(event_type))

    # -- internals ------------------------------------------------------------------------

    def _walk(self) -> list[Route]:
        routes: list[Route] = []
        for entry in self._entries:
            if isinstance(entry, Route):
                routes.append(entry)
            else:
                routes.extend(entry._walk())
        return routes

    def _descendants(self) -> list[Router]:
        found: list[Router] = []
        for entry in self._entries:
            if isinstance(entry, Router):
                found.append(entry)
                found.extend(entry._descendants())
        return found

    def _resolve(self, event_type: str) -> tuple[Entry, ...]:
        """The cached entries for ``event_type``, resolving (and caching) on a miss."""
        entries = self._resolved.get(event_type)
        if entries is None:
            matching = [r for r in self._walk() if r.matches(event_type)]
            # sorted() is stable, so equal priorities keep registration order.
            matching.sort(key=lambda r: -r.priority)
            entries = tuple((r.target, r.kind, r.check, r) for r in matching)
            if len(self._resolved) >= _CACHE_LIMIT:
                self._resolved.clear()
            self._resolved[event_type] = entries
        return entries

    def _changed(self) -> None:
        self._resolved.clear()
        for parent in self._parents:
            parent._changed()

    def __repr__(self) -> str:
        label = f"name={self.name!r}, " if self.name else ""
        return f"{type(self).__name__}({label}routes={len(self._walk())})"
