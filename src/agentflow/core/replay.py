"""Feeding recorded or in-process events through an app, down the one event path.

:func:`run_events` is what ``app.dispatch_many`` and ``agentflow replay`` use: each event is
remembered, seen by the actions router (the app's tools run and its policies decide, as in
a live run) and dispatched. With no connection, replies go to ``answer`` (default: the
context's outbox) instead of a server.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from .actions.router import ActionsRouter
from .events import dialect_of
from .path import EventPath

if TYPE_CHECKING:
    from .context import Context
    from .dialect import Dialect
    from .events import Event
    from .protocols import Dispatcher

__all__ = ["run_events"]

Answer = Callable[[list[dict[str, Any]]], Awaitable[Any]]


async def _iterate(events: Iterable[Event] | AsyncIterable[Event]) -> Any:
    if isinstance(events, AsyncIterable):
        async for event in events:
            yield event
    else:
        for event in events:
            yield event


async def run_events(
    app: Dispatcher,
    events: Iterable[Event] | AsyncIterable[Event],
    ctx: Context,
    *,
    dialect: Dialect | None = None,
    actions: bool = True,
    answer: Answer | None = None,
    on_event: Callable[[Event], None] | None = None,
    on_error: Callable[[Exception], None] | None = None,
) -> Context:
    """Send ``events`` down the event path in order, until they end or ``ctx.stop()``.

    ``dialect`` defaults to the first event's; ``actions=False`` leaves the actions router
    out (handlers only). ``on_event`` sees each event before it is handled; ``on_error``
    receives dispatch errors instead of letting them end the replay.
    """

    async def to_outbox(replies: list[dict[str, Any]]) -> None:
        ctx.outbox.extend(replies)

    router: ActionsRouter | None = None
    path: EventPath | None = None
    try:
        async for event in _iterate(events):
            if path is None:
                found = dialect or dialect_of(event)
                if actions and found is not None:
                    router = _make_router(app, ctx, found, answer or to_outbox)
                    await router.__aenter__()
                path = EventPath(app, router, found, on_error=on_error)
            if on_event is not None:
                on_event(event)
            await path(event, ctx)
            if ctx.stopped:
                break
    except BaseException as exc:
        if router is not None:
            await router.__aexit__(type(exc), exc, exc.__traceback__)
        raise
    if router is not None:
        await router.__aexit__(None, None, None)
    return ctx


def _make_router(app: Dispatcher, ctx: Context, dialect: Dialect, answer: Answer) -> ActionsRouter:
    config = app.actions
    return ActionsRouter(
        session_id=ctx.session_id or "detached",
        dialect=dialect,
        answer=answer,
        tools=config.tools,
        policies=config.policies,
        questions=config.questions,
        checkpoint=None,
        default_confirmation=config.default_confirmation,
        unknown_tools=config.unknown_tools,
        max_concurrency=config.max_concurrency,
        observers=app.observers,
    )
