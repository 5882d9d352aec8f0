"""Running one session's work under its lease: the heartbeat, and what a refusal looks like.

:func:`work_under_lease` awaits the work while a heartbeat renews the lease and restarts the
wake-up entry's idle time every TTL/3; a renewal that fails (the lease was lost, or Redis is
unreachable so the lease will lapse) cancels the work at once. :func:`fenced_out` finds the
:class:`FencedOutError` a refused checkpoint write raised, wherever the work surfaced it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio

from ._redis import FencedOutError
from .lease import Lease, Leases
from .queue import Wake, WakeQueue

__all__ = ["fenced_out", "work_under_lease"]

logger = logging.getLogger("agentflow.cluster")


def fenced_out(exc: BaseException | None) -> FencedOutError | None:
    """The :class:`FencedOutError` behind ``exc``: itself, a cause, or in an exception group
    (a tool task's refused write surfaces from the run's task group)."""
    while exc is not None:
        if isinstance(exc, FencedOutError):
            return exc
        for inner in getattr(exc, "exceptions", ()):
            found = fenced_out(inner)
            if found is not None:
                return found
        exc = exc.__cause__
    return None


async def work_under_lease(
    work: Callable[[str, int], Awaitable[None]],
    wake: Wake,
    lease: Lease,
    *,
    leases: Leases,
    queue: WakeQueue,
    name: str,
) -> bool:
    """Run ``work(session_id, token)`` with a heartbeat; ``False`` when the lease was lost
    meanwhile (the work was cancelled). What the work raised is raised."""
    lost = False

    async def heartbeat(scope: anyio.CancelScope) -> None:
        nonlocal lost
        while True:
            await anyio.sleep(lease.ttl / 3)  # a period, not a wait for an event
            try:
                held = await leases.renew(lease)
                if held:
                    await queue.touch(wake)
            except Exception:  # Redis unreachable: the lease will lapse, so stop now
                logger.exception("worker %s: renewing %s failed", name, lease.session_id)
                held = False
            if not held:
                lost = True
                scope.cancel()
                return

    error: Exception | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(heartbeat, tg.cancel_scope)
        try:
            await work(wake.session_id, lease.token)
        except Exception as exc:  # re-raised below, unwrapped by the task group
            error = exc
        tg.cancel_scope.cancel()
    if error is not None:
        raise error
    return not lost
