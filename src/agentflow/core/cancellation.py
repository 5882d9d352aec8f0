"""Telling the run's own cancellation apart from anything a tool or a policy raises.

A tool or a confirmation policy must never take the run down with it, whatever it raises:
an ``Exception``, or a ``BaseException`` such as ``GeneratorExit``, ``SystemExit`` or a
``CancelledError`` it raised itself (``raise CancelledError()``, or awaiting a future that
someone else cancelled). Two things still go through, untouched:

- the cancellation of the run itself: an enclosing anyio cancel scope was cancelled (the run
  ends, a deadline passed), or, on asyncio, the task was asked to cancel from outside
  (``task.cancel()``, Ctrl-C under ``asyncio.run``). anyio's scopes tell which: a cancelled
  enclosing scope makes the effective deadline ``-inf``;
- ``KeyboardInterrupt``: Ctrl-C stops the program, never becomes a tool's error result.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import anyio

__all__ = ["capture", "describe_failure", "is_own_cancellation", "must_propagate"]


def _task_cancelling() -> bool:
    """Whether the current asyncio task has a pending request to cancel (Python 3.11+)."""
    try:
        import asyncio

        task = asyncio.current_task()
    except RuntimeError:  # not in an asyncio loop (trio)
        return False
    cancelling = getattr(task, "cancelling", None)
    return bool(cancelling is not None and cancelling())


def is_own_cancellation(exc: BaseException) -> bool:
    """Whether ``exc`` is the cancellation of the code running now (not one it raised).

    Call it from the ``except`` clause, in the task that caught ``exc``.
    """
    if not isinstance(exc, anyio.get_cancelled_exc_class()):
        return False
    if anyio.current_effective_deadline() == -math.inf:
        return True  # an enclosing scope of ours was cancelled
    return _task_cancelling()


def must_propagate(exc: BaseException) -> bool:
    """Whether ``exc`` must go through a tool or policy guard: our cancellation, or Ctrl-C."""
    return isinstance(exc, KeyboardInterrupt) or is_own_cancellation(exc)


def describe_failure(exc: BaseException) -> str:
    """``"ExcType: message"`` (or the type alone when the message is empty)."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def capture(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[bool, Any]:
    """Call ``fn`` (in a worker thread), handing back what it raised instead of raising it:
    ``(True, value)`` or ``(False, exception)``.

    Raised across the thread, a ``GeneratorExit`` would be thrown into the waiting task,
    which Python takes as "close every coroutine of it", so no ``except`` could catch it;
    raised again by the caller, in its own frame, it is an ordinary exception.
    """
    try:
        return True, fn(*args, **kwargs)
    except BaseException as exc:  # handed to the caller, which decides
        return False, exc
