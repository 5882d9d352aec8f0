"""Calling user functions with injected arguments, planned once at registration.

A handler, an error handler or a policy declares the arguments it wants by name (``event``,
``ctx``, ...). Its signature is read once, when it is registered, and turned into a small
adapter, so calling it per event costs no ``inspect`` work.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "HANDLER_PARAMS",
    "bind_call",
    "describe",
    "handler_call",
    "handler_target",
    "is_async_callable",
    "plan_call",
]

HANDLER_PARAMS: Mapping[str, int] = {"event": 0, "ctx": 1}
"""Parameter names a handler may declare, and their position in ``call(event, ctx)``."""


def describe(fn: object) -> str:
    """A readable name for a callable in messages: its qualified name, else its repr."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    return str(name) if name else repr(fn)


def is_async_callable(fn: Callable[..., Any]) -> bool:
    """True for ``async def`` functions and objects whose ``__call__`` is ``async def``."""
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)  # noqa: B004 - instances with an async __call__
    return inspect.iscoroutinefunction(call)


def plan_call(
    fn: Callable[..., Any], params: Mapping[str, int], *, what: str
) -> tuple[tuple[int, ...], tuple[tuple[str, int], ...]]:
    """Read ``fn``'s signature once and say how to call it with injected values.

    ``params`` maps the injectable parameter names to positions in a tuple of values.
    Returns the positions to pass positionally and the ``(name, position)`` pairs to pass
    by keyword. A required parameter that is not injectable raises ``TypeError`` naming
    ``fn`` and the parameter. ``*args`` and ``**kwargs`` receive nothing.
    """
    if not callable(fn):
        raise TypeError(f"Expected a callable {what}, got {type(fn).__name__}")
    if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        raise TypeError(f"{what} {describe(fn)!r} is a generator; handlers must return, not yield")
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"Cannot read the signature of {what} {describe(fn)!r}: {exc}") from None
    positional: list[int] = []
    keywords: list[tuple[str, int]] = []
    positional_open = True
    names = ", ".join(repr(n) for n in params)
    for param in signature.parameters.values():
        if param.kind is param.VAR_POSITIONAL:
            positional_open = False
            continue
        if param.kind is param.VAR_KEYWORD:
            continue
        index = params.get(param.name)
        if index is None:
            if param.default is param.empty:
                raise TypeError(
                    f"{what} {describe(fn)!r} has a required parameter {param.name!r} that "
                    f"agentflow cannot fill: parameters are injected by name ({names}); "
                    f"rename it or give it a default"
                )
            positional_open = False
            continue
        if param.kind is param.POSITIONAL_ONLY:
            if not positional_open:
                raise TypeError(
                    f"{what} {describe(fn)!r}: positional-only parameter {param.name!r} comes "
                    f"after a parameter agentflow does not fill; make it a normal parameter"
                )
            positional.append(index)
        elif param.kind is param.POSITIONAL_OR_KEYWORD and positional_open:
            positional.append(index)
        else:
            keywords.append((param.name, index))
    return tuple(positional), tuple(keywords)


def bind_call(
    fn: Callable[..., Any], positional: tuple[int, ...], keywords: tuple[tuple[str, int], ...]
) -> Callable[..., Any]:
    """An adapter ``call(*values)`` that calls ``fn`` as :func:`plan_call` planned."""

    def call(*values: Any) -> Any:
        return fn(*[values[i] for i in positional], **{n: values[i] for n, i in keywords})

    return call


def handler_call(fn: Callable[..., Any]) -> Callable[[Any, Any], Any]:
    """The per-event call ``call(event, ctx)`` for a handler, checked at registration."""
    positional, keywords = plan_call(fn, HANDLER_PARAMS, what="handler")
    return _adapter(fn, positional, keywords)


def handler_target(
    fn: Callable[..., Any],
) -> tuple[Callable[[Any, Any], Any], Callable[..., Any], bool]:
    """A handler's ``call(event, ctx)``, what dispatch calls per event, and whether that
    takes the event alone.

    For a handler whose one filled parameter is ``event`` in first place (the most common
    shape) dispatch calls ``fn(event)`` itself, no adapter in between: ``(call, fn, True)``.
    Otherwise dispatch calls the adapter: ``(call, call, False)``.
    """
    positional, keywords = plan_call(fn, HANDLER_PARAMS, what="handler")
    call = _adapter(fn, positional, keywords)
    if positional == (0,) and not keywords:
        return call, fn, True
    return call, call, False


def _adapter(
    fn: Callable[..., Any], positional: tuple[int, ...], keywords: tuple[tuple[str, int], ...]
) -> Callable[[Any, Any], Any]:
    # The common shapes get a direct call, or none at all: this runs for every event.
    if not keywords:
        if positional == (0, 1):
            return fn
        if positional == (0,):
            return lambda event, ctx: fn(event)
        if positional == (1,):
            return lambda event, ctx: fn(ctx)
        if positional == (1, 0):
            return lambda event, ctx: fn(ctx, event)
        if not positional:
            return lambda event, ctx: fn()
    return bind_call(fn, positional, keywords)
