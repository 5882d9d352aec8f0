"""The :class:`Emulator`: a local Managed Agents server on 127.0.0.1 driven by a scenario.

::

    async with Emulator(Scenario.simple("Hello!")) as emu:
        client = AsyncAnthropic(api_key=emu.api_key, base_url=emu.base_url)
        ...
        assert emu.history(session_id)[-1]["type"] == "session.status_idle"

uvicorn runs inside the current event loop (asyncio) and is stopped, with every stream closed,
when the block exits. ``with Emulator(...).run_in_thread() as emu:`` runs it on a background
thread for synchronous code. Test knobs (all documented below): :meth:`emit`,
:meth:`terminate`, :meth:`interrupt`, :meth:`delete`, :meth:`drop_streams`,
:meth:`stream_error`, :meth:`fail_next`, :meth:`create_session`, :meth:`send`, plus the
:attr:`requests` log, :meth:`history`, :attr:`sessions` and the ``wait_for_*`` helpers.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.from_thread

from ._engine import Engine
from ._session import EmulatedSession, Frame
from .scenario import Scenario

if TYPE_CHECKING:
    from ._server import Controls, FailRule, RequestRecord

__all__ = ["DEFAULT_API_KEY", "Emulator"]

DEFAULT_API_KEY = "emulator-test-key"
LOOPBACK = frozenset(("127.0.0.1", "localhost", "::1"))
T = TypeVar("T")


def _as_scenario(scenario: Scenario | Mapping[str, Any] | str | Path | None) -> Scenario:
    if scenario is None:
        return Scenario()
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, Mapping):
        return Scenario.from_dict(scenario)
    return Scenario.load(scenario)


class Emulator:
    """A faithful local Managed Agents session server for tests, demos and other clients.

    ``scenario`` is a :class:`Scenario`, its JSON dict, or a path to a JSON file. With
    ``api_key=None`` any non-empty key is accepted (``emu.api_key`` is then a placeholder);
    with a key, exactly that key is required (401 otherwise). ``host`` must be a loopback
    address; ``port=0`` picks a free port. Shutdown is bounded by ``shutdown_timeout``.
    """

    def __init__(
        self,
        scenario: Scenario | Mapping[str, Any] | str | Path | None = None,
        *,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        shutdown_timeout: float = 5.0,
    ) -> None:
        if host not in LOOPBACK:
            raise ValueError(f"the emulator binds to loopback only, got host {host!r}")
        if api_key is not None and not api_key:
            raise ValueError("api_key must be a non-empty string or None")
        self.scenario = _as_scenario(scenario)
        self.host = "127.0.0.1" if host == "localhost" else host
        self.port = port
        self.shutdown_timeout = shutdown_timeout
        self._engine = Engine(self.scenario)
        self._required_key = api_key
        self._controls: Controls | None = None
        self._server: Any = None
        self._tg: anyio.abc.TaskGroup | None = None
        self._done: anyio.Event | None = None
        self._stop: anyio.Event | None = None
        self._portal: anyio.from_thread.BlockingPortal | None = None
        self._loop_thread: int | None = None

    def __repr__(self) -> str:
        state = self.base_url if self._server is not None else "not running"
        return f"<Emulator {state} sessions={len(self._engine.sessions)}>"

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (clients append ``/v1``)."""
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_key(self) -> str:
        """The key clients should send (the required one, or an accepted placeholder)."""
        return self._required_key or DEFAULT_API_KEY

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
        if exc is None and self._engine.errors:
            raise RuntimeError(
                f"the emulator failed while serving: {self._engine.errors[0]!r}"
            ) from self._engine.errors[0]

    @property
    def errors(self) -> list[BaseException]:
        """Internal failures of the emulator (a turn task or the server); empty when healthy."""
        return list(self._engine.errors)

    async def start(self) -> None:
        """Bind the socket and start uvicorn in this event loop (use ``async with`` instead)."""
        import uvicorn

        from ._server import Controls, build_app
        from ._sse import quiet_abrupt_close

        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError("the emulator runs on uvicorn: use the asyncio backend") from None
        quiet_abrupt_close()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
            sock.listen(512)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self._controls = Controls(self._engine, self._required_key)
        config = uvicorn.Config(
            build_app(self._controls),
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=max(int(self.shutdown_timeout) - 1, 1),
        )
        server = uvicorn.Server(config)
        self._loop_thread = threading.get_ident()
        tg = anyio.create_task_group()
        await tg.__aenter__()
        self._tg = tg
        self._engine.spawn = lambda fn: tg.start_soon(fn)
        self._server = server
        self._stop = anyio.Event()
        self._done = anyio.Event()
        started = anyio.Event()
        failure: list[BaseException] = []

        async def run() -> None:
            assert self._stop is not None and self._done is not None
            try:
                config.load()
                server.lifespan = config.lifespan_class(config)
                await server.startup(sockets=[sock])
                started.set()
                await self._stop.wait()
                await _shutdown(server, self.shutdown_timeout)
            except Exception as exc:  # reported by start(), or at exit
                failure.append(exc)
                self._engine.errors.append(exc)
            finally:
                sock.close()
                self._done.set()
                started.set()

        tg.start_soon(run)
        await started.wait()
        if failure or not server.started:
            await self.aclose()
            raise RuntimeError("the emulator's server failed to start") from (
                failure[0] if failure else None
            )

    async def aclose(self) -> None:
        """Close every stream, stop uvicorn and the turn tasks; bounded by ``shutdown_timeout``."""
        tg = self._tg
        if tg is None:
            return
        with anyio.CancelScope(shield=True):
            for session in self._engine.sessions.values():
                session.close_streams()
            if self._stop is not None:
                self._stop.set()
            with anyio.move_on_after(self.shutdown_timeout + 1):
                if self._done is not None:
                    await self._done.wait()
        tg.cancel_scope.cancel()
        await tg.__aexit__(None, None, None)
        self._tg = None
        self._engine.spawn = None
        self._server = None

    @contextlib.contextmanager
    def run_in_thread(self) -> Iterator[Emulator]:
        """Run the emulator on a background event loop thread (for synchronous code)."""
        with anyio.from_thread.start_blocking_portal() as portal:
            self._portal = portal
            try:
                with portal.wrap_async_context_manager(self):
                    yield self
            finally:
                self._portal = None

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._portal is not None and threading.get_ident() != self._loop_thread:
            return self._portal.call(fn, *args)
        return fn(*args)

    # -- inspection -----------------------------------------------------------------------

    @property
    def sessions(self) -> Mapping[str, EmulatedSession]:
        """Every session created so far (deleted ones included, flagged ``deleted``)."""
        return self._engine.sessions

    def session(self, session_id: str) -> EmulatedSession:
        """One session by id (``KeyError`` when unknown)."""
        return self._engine.sessions[session_id]

    def history(self, session_id: str) -> list[dict[str, Any]]:
        """A copy of the session's stored events, in ``processed_at`` order (no previews)."""
        return list(self._engine.sessions[session_id].history)

    def pending(self, session_id: str) -> list[str]:
        """Ids of the tool-call events the session currently waits on."""
        return list(self._engine.sessions[session_id].pending)

    @property
    def requests(self) -> list[RequestRecord]:
        """Every answered request as ``RequestRecord(method, path, status, query)``."""
        return [] if self._controls is None else list(self._controls.requests)

    def stream_count(self, session_id: str) -> int:
        """How many stream connections of the session are open now."""
        return len(self._engine.sessions[session_id].subscribers)

    async def wait_for_streams(self, session_id: str, count: int = 1) -> None:
        """Wait until at least ``count`` stream connections of the session are open.

        Waits without limit: bound it with ``anyio.fail_after``.
        """
        sessions = self._engine.sessions
        await self._engine.wait_until(
            lambda: session_id in sessions and len(sessions[session_id].subscribers) >= count
        )

    async def wait_for_event(
        self, session_id: str, event_type: str, *, count: int = 1
    ) -> dict[str, Any]:
        """Wait until history holds ``count`` events of ``event_type``; returns the last one.

        Waits without limit: bound it with ``anyio.fail_after``.
        """
        found: list[dict[str, Any]] = []
        scanned = 0

        def seen() -> bool:
            nonlocal scanned
            history = self._engine.sessions[session_id].history
            found.extend(e for e in history[scanned:] if e["type"] == event_type)
            scanned = len(history)
            return len(found) >= count

        await self._engine.wait_until(seen)
        return found[count - 1]

    # -- knobs ----------------------------------------------------------------------------

    def create_session(
        self, agent: Any = "agent_emulated", environment_id: str = "env_emulated", **body: Any
    ) -> str:
        """Create a session directly (no HTTP); returns its id."""
        payload = {"agent": agent, "environment_id": environment_id, **body}
        return self._call(lambda: self._engine.create_session(payload).id)

    def send(self, session_id: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send client events directly, as ``events.send`` does (raises ``ApiError`` on 400)."""
        return self._call(lambda: self._engine.send(self._engine.get(session_id), events))

    def emit(self, session_id: str, event: dict[str, Any]) -> dict[str, Any]:
        """Store and stream an arbitrary server event (``id`` / ``processed_at`` added)."""
        if not isinstance(event.get("type"), str):
            raise ValueError("an event needs a string 'type'")
        return self._call(lambda: self._engine.emit(self._engine.get(session_id), event))

    def terminate(self, session_id: str) -> None:
        """Terminate the session: ``session.status_terminated``, then its streams end."""
        self._call(lambda: self._engine.terminate(self._engine.get(session_id)))

    def interrupt(self, session_id: str) -> None:
        """Interrupt the turn in progress (as a ``user.interrupt`` would, without the echo)."""
        self._call(lambda: self._engine.interrupt(self._engine.get(session_id)))

    def delete(self, session_id: str) -> None:
        """Delete the session: ``session.deleted`` ends its streams; the API then answers 404."""
        self._call(lambda: self._engine.delete(self._engine.get(session_id)))

    def drop_streams(self, session_id: str | None = None) -> int:
        """Cut the open stream connections (of one session, or all) abruptly; returns how many."""

        def drop() -> int:
            targets = [self._engine.sessions[session_id]] if session_id else self.sessions.values()
            return sum(self._engine.drop_streams(s) for s in targets)

        return self._call(drop)

    def stream_error(
        self,
        session_id: str,
        error_type: str = "overloaded_error",
        message: str = "Emulated stream error.",
    ) -> int:
        """Send an ``event: error`` frame on the session's open streams, then end them."""
        from ._sse import error_frame

        frame = Frame("error", "error", error_frame(error_type, message))
        return self._call(
            lambda: self._engine.drop_streams(self._engine.sessions[session_id], frame)
        )

    def fail_next(
        self,
        status: int,
        *,
        count: int = 1,
        path: str | None = None,
        method: str | None = None,
        error_type: str | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FailRule:
        """Answer the next ``count`` requests matching ``method`` and ``path`` with ``status``
        and the error envelope.

        ``path`` is the full request path (``"/v1/sessions/sesn_x/events/stream"``), or a
        prefix ending in ``*`` (``"/v1/sessions/*"``); ``None`` matches every request.

        ``retry_after`` (seconds) sets ``retry-after`` and ``retry-after-ms``; ``headers`` adds
        more (e.g. ``{"x-should-retry": "false"}``). Rules are checked before authentication.
        """
        from ._server import FailRule

        if self._controls is None:
            raise RuntimeError("the emulator is not running")
        extra = dict(headers or {})
        if retry_after is not None:
            extra.setdefault("retry-after", str(math.ceil(retry_after)))
            extra.setdefault("retry-after-ms", str(int(retry_after * 1000)))
        rule = FailRule(status, count, path, method, error_type, message, extra)
        self._controls.fail_rules.append(rule)
        return rule


async def _shutdown(server: Any, grace: float) -> None:
    """Stop uvicorn quickly: stop listening, close idle connections, wait for the rest.

    The streams were closed first, so open responses finish at once; ``timeout`` bounds the
    wait (``grace`` seconds), after which the remaining request tasks are cancelled.
    """
    for listener in server.servers:
        listener.close()
    state = server.server_state
    for connection in list(state.connections):
        connection.shutdown()
    with anyio.move_on_after(grace):
        for _ in range(int(grace / 0.005) + 1):
            if not state.connections and not state.tasks:
                break
            await anyio.sleep(0.005)
    for task in list(state.tasks):
        task.cancel()
    with anyio.move_on_after(0.5):
        for listener in server.servers:
            await listener.wait_closed()
