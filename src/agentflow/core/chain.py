"""The middleware chain (the onion): its types and how it is built.

``async def middleware(event, ctx, call_next)`` is one layer. The chain is built once, from
the inside out, the way Starlette builds its middleware stack, so the first middleware given
to ``app.use(...)`` is the outermost layer.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from .inject import describe, is_async_callable

if TYPE_CHECKING:
    from .context import Context
    from .events import Event

__all__ = ["ExceptionPolicy", "Middleware", "Next", "check_middleware", "exception_policy", "link"]

Next = Callable[["Event", "Context"], Awaitable[None]]
"""What a middleware calls to pass the event inward: ``await call_next(event, ctx)``."""


class Middleware(Protocol):
    """``async def middleware(event, ctx, call_next)``: one layer of the onion.

    Call ``await call_next(event, ctx)`` to pass the event inward; not calling it stops the
    event there. Functions and objects with an ``async __call__`` both fit.
    """

    def __call__(self, event: Event, ctx: Context, call_next: Next, /) -> Awaitable[Any]: ...


class ExceptionPolicy(Protocol):
    """A middleware that also decides what an exception no error handler took leads to.

    An app takes at most one (``ErrorEscalation`` is one): ``escalate_exception`` either
    handles the exception (returns) or raises what ``dispatch`` should raise.
    """

    async def escalate_exception(
        self, exc: Exception, event: Event, ctx: Context, message: str
    ) -> None: ...


def exception_policy(mw: object) -> ExceptionPolicy | None:
    """``mw`` as an :class:`ExceptionPolicy`, when it has an ``escalate_exception`` method."""
    method = getattr(mw, "escalate_exception", None)
    return mw if callable(method) else None  # type: ignore[return-value]


def link(mw: Middleware, call_next: Next) -> Next:
    """One layer: ``mw`` around ``call_next``."""
    # Calling an instance looks up and binds ``__call__`` each time; bind it once here.
    call = mw if inspect.isfunction(mw) or inspect.ismethod(mw) else mw.__call__

    def layer(event: Event, ctx: Context) -> Any:
        return call(event, ctx, call_next)

    return layer


def check_middleware(mw: object) -> None:
    """Refuse what cannot be a middleware, with a message saying how to fix it."""
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
