"""One run per session and checkpoint store: the session lease, and whether an owner lives.

Every run has an owner name, ``machine:pid:process.run`` (``machine`` is the host name, plus
the PID namespace on Linux, so two containers never pass for one). Before it connects, a run
takes its session's lease in the checkpoint store (:class:`SessionLease`), renews it every
third of the lease while it runs (which renews its call claims too) and releases it when it
ends (which ends its claims' leases, so a call it left running counts as interrupted).

Another run on the same session and store meanwhile fails fast with
:class:`~agentflow.SessionBusyError` naming the holder, or, with ``wait=True``, waits until
the session is free. A holder is gone when its lease expired, or when it is known dead: it
ran in this process and its run ended, or it ran on this machine and its process is gone.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import secrets
import socket
import sys
import time
from typing import TYPE_CHECKING

import anyio

from .exceptions import SessionBusyError

if TYPE_CHECKING:
    import asyncio

    from .checkpoint import CheckpointStore, Lease

__all__ = ["SessionLease", "holds", "new_owner", "owner_alive"]

logger = logging.getLogger("agentflow.lease")

DEFAULT_LEASE = 30.0
"""Seconds a session lease (and a call claim) holds without renewal."""


def _machine() -> str:
    name = socket.gethostname().replace(":", "_")
    try:  # containers share host names, never a PID namespace
        ns = os.readlink("/proc/self/ns/pid")
    except OSError:
        return name
    return f"{name}/{ns.removeprefix('pid:').strip('[]')}"


_MACHINE = _machine()
_PROCESS = secrets.token_hex(4)
_RUNS = itertools.count(1)
_LIVE: set[str] = set()  # owners of this process whose run has not ended


def _forked() -> None:
    # A forked child is another process: its own token, none of its parent's runs.
    global _PROCESS
    _PROCESS = secrets.token_hex(4)
    _LIVE.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


def new_owner() -> str:
    """A new owner name for one run of this process (alive until :func:`end_owner`)."""
    owner = f"{_MACHINE}:{os.getpid()}:{_PROCESS}.{next(_RUNS)}"
    _LIVE.add(owner)
    return owner


def end_owner(owner: str) -> None:
    """Note that ``owner``'s run ended (its claims are then known dead)."""
    _LIVE.discard(owner)


def owner_alive(owner: str) -> bool | None:
    """Whether ``owner``'s run lives: ``True``/``False`` when this process can tell, else
    ``None`` (another machine: only its lease's expiry tells)."""
    machine, _, rest = owner.rpartition(":")
    machine, _, pid_text = machine.rpartition(":")
    process = rest.partition(".")[0]
    if machine != _MACHINE or not pid_text.isdigit():
        return None
    pid = int(pid_text)
    if pid == os.getpid():
        # this process: alive while its run lasts; another token: an earlier process, gone
        return owner in _LIVE if process == _PROCESS else False
    if sys.platform == "win32":
        return None  # os.kill would end the process there, not probe it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but is not ours to signal
        return True
    return True


def holds(lease: Lease, now: float) -> bool:
    """Whether ``lease`` (of a session or a claim) still belongs to a live owner."""
    return lease.expires_at > now and owner_alive(lease.owner) is not False


class SessionLease:
    """The lease one run holds on its session (see the module docstring).

    ``wait`` is ``False`` (fail fast), ``True`` (wait as long as it takes) or a number of
    seconds to wait before failing.
    """

    def __init__(
        self,
        store: CheckpointStore,
        session_id: str,
        *,
        owner: str,
        ttl: float = DEFAULT_LEASE,
        wait: bool | float = False,
    ) -> None:
        if not ttl > 0:
            raise ValueError(f"the session lease must be positive, got {ttl!r}")
        self.store = store
        self.session_id = session_id
        self.owner = owner
        self.ttl = ttl
        self.wait = wait
        self.lost: SessionBusyError | None = None
        """Set when another run took the session over while this one ran."""
        self._timer: asyncio.TimerHandle | None = None  # the next renewal (see schedule)

    def _busy(self, held: Lease, what: str) -> SessionBusyError:
        left = held.expires_at - self.store.now()
        until = "" if math.isinf(left) else f" (its lease runs {max(left, 0):.0f}s more)"
        return SessionBusyError(
            f"session {self.session_id!r} {what} {held.owner}{until}; pass wait=True to "
            "app.run to wait for it, or give each run its own checkpoint store",
            session_id=self.session_id,
            owner=held.owner,
            expires_at=held.expires_at,
        )

    async def acquire(self) -> bool:
        """Take the session's lease, waiting as ``wait`` says (raise SessionBusyError);
        ``True`` when it had to wait for another run."""
        wait = self.wait
        limit = math.inf if wait is True else (0.0 if wait is False else float(wait))
        start, delay, cleared, waited = time.monotonic(), 0.05, set(), False
        while True:
            held = self.store.acquire_session(self.session_id, self.owner, self.ttl)
            if held is None:
                return waited
            if owner_alive(held.owner) is False and held.owner not in cleared:
                cleared.add(held.owner)  # its run is over: end its lease and claims now
                self.store.release_session(self.session_id, held.owner)
                continue
            left = limit - (time.monotonic() - start)
            if left <= 0:
                raise self._busy(held, "is being run by")
            waited = True
            await anyio.sleep(min(delay, left))  # a store offers no notification to wait on
            delay = min(delay * 2, 1.0)

    async def keep(self, scope: anyio.CancelScope) -> None:
        """Renew the lease every third of it until cancelled; when another run took the
        session over meanwhile, set :attr:`lost` and cancel ``scope`` (the run's body)."""
        while True:
            await anyio.sleep(self.ttl / 3)
            if not self._renew(scope):
                return

    def schedule(self, scope: anyio.CancelScope) -> bool:
        """Renew as :meth:`keep` does, from the event loop's timers instead of a task.

        On asyncio an idle run then holds one timer rather than a task sleeping in a loop
        (a task, its frames and its cancel scope cost some 4 KiB per session, and a
        process may serve thousands). Returns ``False`` on another event loop: the caller
        runs :meth:`keep` in a task instead. :meth:`release` stops the renewals.
        """
        aio = sys.modules.get("asyncio")  # not imported: no asyncio loop can be running
        if aio is None:
            return False
        try:
            loop = aio.get_running_loop()
        except RuntimeError:
            return False

        def tick() -> None:
            if self._timer is not None and self._renew(scope):
                self._timer = loop.call_later(self.ttl / 3, tick)
            else:
                self._timer = None

        self._timer = loop.call_later(self.ttl / 3, tick)
        return True

    def _renew(self, scope: anyio.CancelScope) -> bool:
        """Renew once; ``False`` (with :attr:`lost` set and ``scope`` cancelled) when another
        run holds the session now."""
        try:
            held = self.store.acquire_session(self.session_id, self.owner, self.ttl)
        except Exception as exc:  # the store is unreachable for now: try again later
            logger.warning("renewing the lease of %s failed: %s", self.session_id, exc)
            return True
        if held is None:
            return True
        self.lost = self._busy(held, "was taken over by")
        logger.error("%s", self.lost)
        scope.cancel()
        return False

    def release(self) -> None:
        """Give the lease up and end this run's claims' leases."""
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        end_owner(self.owner)
        try:
            self.store.release_session(self.session_id, self.owner)
        except Exception as exc:  # it will expire by itself
            logger.warning("releasing the lease of %s failed: %s", self.session_id, exc)
