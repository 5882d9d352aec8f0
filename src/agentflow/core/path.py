"""The one path every event takes: remembered, seen by the actions router, dispatched.

``app.run``, ``app.serve``, ``app.dispatch_many``, ``agentflow replay`` and every in-process
dialect send each event through :class:`EventPath`, in the canonical order:

1. the event is remembered (``ctx.event_by_id``);
2. a pause (:meth:`~agentflow.Dialect.pause`) reaches the handlers first, then is answered,
   so handlers see the pause before its replies go out;
3. any other event reaches the actions router first (so a client tool it announces starts
   while the handlers run), then the handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .exceptions import DispatchError, SessionErrorRaised

if TYPE_CHECKING:
    from .actions.router import ActionsRouter
    from .context import Context
    from .dialect import Dialect
    from .events import Event
    from .protocols import Dispatcher

__all__ = ["EventPath"]


class EventPath:
    """Handles one event the canonical way (see the module docstring).

    Without a ``router`` (or a ``dialect``) events only go through the middleware and
    handlers. ``on_error`` (for replays) receives what dispatch raises
    (:class:`~agentflow.DispatchError`, :class:`~agentflow.SessionErrorRaised`) instead of
    letting it end the run; the router still sees the event.
    """

    __slots__ = ("_inert", "app", "dialect", "on_error", "router")

    def __init__(
        self,
        app: Dispatcher,
        router: ActionsRouter | None = None,
        dialect: Dialect | None = None,
        *,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        self.app = app
        self.router = router
        self.dialect = dialect if dialect is not None else getattr(router, "dialect", None)
        self.on_error = on_error
        # the types the router need not see: the dialect's hint (Dialect.inert_types)
        self._inert = self.dialect.inert_types if self.dialect is not None else frozenset()

    async def __call__(self, event: Event, ctx: Context) -> None:
        ctx.remember(event)
        router, dialect = self.router, self.dialect
        pause = None
        if router is not None and dialect is not None and event.type not in self._inert:
            pause = dialect.pause(event)
            if pause is None:
                router.observe(event, ctx)
        # (dispatch is awaited here, not in a helper: one coroutine less per event)
        if self.on_error is None:
            await self.app.dispatch(event, ctx)
        else:
            try:
                await self.app.dispatch(event, ctx)
            except (DispatchError, SessionErrorRaised) as exc:
                self.on_error(exc)
        if pause is not None and router is not None:
            await router.on_pause(pause, ctx)
