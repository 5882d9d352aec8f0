"""Type aliases and Protocols for the callables users hand to dispatch and middleware."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from ._context import Context
    from .events import Event

__all__ = ["HandlerT", "JSONObject", "Middleware", "Next", "Sender"]

JSONObject = dict[str, Any]
"""A JSON-ready dict, such as the events the builders in :mod:`agentflow.events` return."""

Next = Callable[["Event", "Context"], Awaitable[None]]
"""What a middleware calls to pass the event inward: ``await call_next(event, ctx)``."""

Sender = Callable[[list[JSONObject]], Awaitable[Any]]
"""Sends a batch of client events for one session (``client.events.send`` bound to it)."""

HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])
"""A handler function; ``on()`` returns it with its type unchanged."""


class Middleware(Protocol):
    """``async def middleware(event, ctx, call_next)``: one layer of the onion.

    Call ``await call_next(event, ctx)`` to pass the event inward; not calling it stops the
    event there. Functions and objects with an ``async __call__`` both fit.
    """

    def __call__(self, event: Event, ctx: Context, call_next: Next, /) -> Awaitable[Any]: ...
