"""``@app.on_error``: the error handlers of an app, found by the exception's class.

Only the handlers registered for the most specific class in the exception's MRO run, in
registration order; the lookup per exception class is cached.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .exceptions import DispatchError
from .inject import bind_call, describe, is_async_callable, plan_call

if TYPE_CHECKING:
    from .context import Context
    from .events import Event

__all__ = ["ERROR_HANDLER_PARAMS", "ErrorHandlers"]

ERROR_HANDLER_PARAMS = {"exc": 0, "error": 0, "exception": 0, "event": 1, "ctx": 2}
"""Parameter names an ``@app.on_error`` handler may declare."""

_Entry = tuple[Callable[..., Any], bool, Callable[..., Any]]  # call, is_async, function


class ErrorHandlers:
    """The ``@app.on_error`` handlers of one app."""

    def __init__(self) -> None:
        self._entries: list[tuple[type[Exception], _Entry]] = []
        self._lookup: dict[type[BaseException], tuple[_Entry, ...]] = {}

    @staticmethod
    def check_types(exc_types: tuple[type[Exception], ...]) -> None:
        """``TypeError`` unless every item is an ``Exception`` subclass."""
        for exc_type in exc_types:
            if not (isinstance(exc_type, type) and issubclass(exc_type, Exception)):
                raise TypeError(
                    f"on_error() takes Exception subclasses, got {exc_type!r}; "
                    f"write @app.on_error(Exception) or @app.on_error()"
                )

    def register(self, exc_types: tuple[type[Exception], ...], handler: Callable[..., Any]) -> None:
        """Add ``handler`` for ``exc_types`` (``TypeError`` for a bad type or signature)."""
        self.check_types(exc_types)
        positional, keywords = plan_call(handler, ERROR_HANDLER_PARAMS, what="error handler")
        entry = (bind_call(handler, positional, keywords), is_async_callable(handler), handler)
        self._entries.extend((exc_type, entry) for exc_type in exc_types or (Exception,))
        self._lookup.clear()

    def for_type(self, exc_type: type[BaseException]) -> tuple[_Entry, ...]:
        """The handlers that run for an exception of ``exc_type`` (may be empty)."""
        found = self._lookup.get(exc_type)
        if found is None:
            found = ()
            for cls in exc_type.__mro__:
                found = tuple(entry for t, entry in self._entries if t is cls)
                if found:
                    break
            self._lookup[exc_type] = found
        return found

    async def handle(self, exc: Exception, event: Event, ctx: Context, message: str) -> bool:
        """Run the handlers for ``exc``; False when there are none.

        A handler that raises ends the dispatch with :class:`~agentflow.DispatchError`.
        """
        handlers = self.for_type(type(exc))
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
        return bool(handlers)
