"""The observers of an app, as the core calls them: :class:`Observers` (``app.observers``).

Each step the core observes has one call here (:meth:`Observers.run`, :meth:`~Observers.tool`,
:meth:`~Observers.policy`, :meth:`~Observers.post`, :meth:`~Observers.reconnect`,
:meth:`~Observers.wrap_dispatch`), which enters the hooks of every observer that has one
(see :mod:`agentflow.core.observe`), runs the work, and exits them in reverse order. With no
hook for a step, the call is one tuple check. A hook that raises is logged on the
``agentflow.observe`` logger and skipped; no hook can swallow or replace the work's result.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from .observe import Observer
from .routes import StopPropagation

if TYPE_CHECKING:
    from .answers import ToolReply
    from .chain import Next
    from .context import Context
    from .events import Event
    from .observe import (
        PolicyObservation,
        PostObservation,
        ReconnectObservation,
        RunObservation,
        Scope,
        ToolObservation,
    )
    from .verdicts import Decision

__all__ = ["Observers"]

logger = logging.getLogger("agentflow.observe")

_HOOKS = ("on_run", "on_tool", "on_policy", "on_post", "on_event", "on_reconnect")
_NULL = nullcontext()


def _hook_name(hook: Callable[..., Any]) -> str:
    return str(getattr(hook, "__qualname__", None) or repr(hook))


def _enter(hooks: tuple[Callable[..., Scope], ...], args: tuple[Any, ...]) -> list[Any]:
    entered = []
    for hook in hooks:
        try:
            scope = hook(*args)
            if scope is not None:
                scope.__enter__()
                entered.append(scope)
        except Exception:
            logger.exception("observer hook %s failed on entry; ignored", _hook_name(hook))
    return entered


def _exit(entered: list[Any], exc: BaseException | None) -> None:
    for scope in reversed(entered):
        try:
            if exc is None:
                scope.__exit__(None, None, None)
            else:
                scope.__exit__(type(exc), exc, exc.__traceback__)
        except Exception as err:
            if err is not exc:  # re-raising the work's own error is not the hook's failure
                logger.exception("observer %r failed on exit; ignored", scope)


class _Around:
    """The hooks of one piece of work as a single (sync) context manager."""

    __slots__ = ("args", "entered", "hooks")

    def __init__(self, hooks: tuple[Callable[..., Scope], ...], args: tuple[Any, ...]) -> None:
        self.hooks, self.args = hooks, args
        self.entered: list[Any] = []

    def __enter__(self) -> None:
        self.entered = _enter(self.hooks, self.args)

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        _exit(self.entered, exc)  # never suppresses: observers do not change the run


async def _around(hooks: tuple[Callable[..., Scope], ...], seen: Any, field: str, work: Any) -> Any:
    entered = _enter(hooks, (seen,))
    try:
        value = await work
    except BaseException as exc:
        _exit(entered, exc)
        raise
    setattr(seen, field, value)
    _exit(entered, None)
    return value


class Observers:
    """The observers of an app, called by the core at each observed step (``app.observers``).

    The core calls :meth:`run`, :meth:`tool`, :meth:`policy`, :meth:`post`,
    :meth:`reconnect` and, with ``trace_events``, :meth:`wrap_dispatch`. Each costs a
    tuple check when no observer has the hook.
    """

    __slots__ = ("_all", "_event", "_on_change", "_policy", "_post", "_reconnect", "_run", "_tool")

    def __init__(
        self, observers: Iterable[object] = (), *, on_change: Callable[[], None] | None = None
    ) -> None:
        self._all: list[object] = []
        self._on_change = on_change
        self._index()
        for observer in observers:
            self.add(observer)

    def add(self, observer: object) -> None:
        """Add an observer (it must have at least one ``on_*`` hook)."""
        if not any(callable(getattr(observer, name, None)) for name in _HOOKS):
            raise TypeError(
                f"an observer needs at least one of {', '.join(_HOOKS)}; "
                f"got {type(observer).__name__}"
            )
        self._all.append(observer)
        self._index()
        if self._on_change is not None:
            self._on_change()

    def _index(self) -> None:
        def hooks(name: str) -> tuple[Callable[..., Any], ...]:
            found = []
            for observer in self._all:
                hook = getattr(observer, name, None)
                inherited = getattr(type(observer), name, None) is getattr(Observer, name)
                if callable(hook) and not inherited:
                    found.append(hook)
            return tuple(found)

        self._run, self._tool, self._policy = hooks("on_run"), hooks("on_tool"), hooks("on_policy")
        self._post, self._event = hooks("on_post"), hooks("on_event")
        self._reconnect = hooks("on_reconnect")

    def __iter__(self) -> Iterator[object]:
        return iter(tuple(self._all))

    def __len__(self) -> int:
        return len(self._all)

    def __repr__(self) -> str:
        return f"Observers({self._all!r})"

    @property
    def traces_events(self) -> bool:
        """Whether some observer has an ``on_event`` hook."""
        return bool(self._event)

    # -- what the core calls ----------------------------------------------------------------

    def run(self, seen: RunObservation) -> AbstractContextManager[None]:
        """A context manager around the run loop (set ``seen.result`` before it exits)."""
        return _Around(self._run, (seen,)) if self._run else _NULL

    async def tool(self, seen: ToolObservation, work: Awaitable[ToolReply]) -> ToolReply:
        """Await the tool's ``work`` inside the ``on_tool`` hooks; returns its reply."""
        if not self._tool:
            return await work
        reply: ToolReply = await _around(self._tool, seen, "reply", work)
        return reply

    async def policy(self, seen: PolicyObservation, work: Awaitable[Decision]) -> Decision:
        """Await a policy decision inside the ``on_policy`` hooks; returns it."""
        if not self._policy:
            return await work
        decision: Decision = await _around(self._policy, seen, "decision", work)
        return decision

    async def post(self, seen: PostObservation, work: Awaitable[None]) -> None:
        """Await posting a batch inside the ``on_post`` hooks (``seen.status`` set)."""
        if not self._post:
            await work
            return
        entered = _enter(self._post, (seen,))
        try:
            await work
        except BaseException as exc:
            seen.status = "failed"
            _exit(entered, exc)
            raise
        if seen.status == "pending":
            seen.status = "sent"
        _exit(entered, None)

    def reconnect(self, seen: ReconnectObservation) -> None:
        """Tell the ``on_reconnect`` hooks (for channels: call it on each reconnect)."""
        for hook in self._reconnect:
            try:
                hook(seen)
            except Exception:
                logger.exception("observer hook %s failed; ignored", _hook_name(hook))

    def wrap_dispatch(self, chain: Next) -> Next:
        """``chain`` inside the ``on_event`` hooks (``chain`` itself when there are none)."""
        hooks = self._event
        if not hooks:
            return chain

        async def observed(event: Event, ctx: Context) -> None:
            entered = _enter(hooks, (event, ctx))
            try:
                await chain(event, ctx)
            except StopPropagation:
                _exit(entered, None)  # a handler's signal, not a failure
                raise
            except BaseException as exc:
                _exit(entered, exc)
                raise
            _exit(entered, None)

        return observed
