"""The local server every emulator runs on: uvicorn inside the caller's event loop.

:class:`LocalServer` binds a loopback socket, serves the ASGI app a subclass builds, runs the
subclass's background tasks (scripted turns) in one task group, and stops everything within
``shutdown_timeout`` when the ``async with`` block exits. ``run_in_thread()`` does the same
on a background event loop for synchronous code.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable, Coroutine, Iterator
from types import TracebackType
from typing import Any, TypeVar

import anyio
import anyio.from_thread

__all__ = ["DEFAULT_API_KEY", "LOOPBACK", "LocalServer", "Spawn"]

DEFAULT_API_KEY = "emulator-test-key"
LOOPBACK = frozenset(("127.0.0.1", "localhost", "::1"))
T = TypeVar("T")
S = TypeVar("S", bound="LocalServer")
Spawn = Callable[[Callable[[], Coroutine[Any, Any, None]]], object]


class LocalServer:
    """Base of the emulators: a loopback HTTP server with a bounded shutdown.

    Subclasses implement :meth:`build_app` (the ASGI app) and may override
    :meth:`close_streams` (end open streams before shutdown) and :attr:`path_prefix` (the part
    of :attr:`base_url` after the port that the vendor's SDK expects). ``api_key=None``
    accepts any non-empty key; a key makes exactly that key required.
    """

    path_prefix = ""
    """Appended to ``http://127.0.0.1:PORT`` in :attr:`base_url` (e.g. ``/api``)."""

    def __init__(
        self,
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
        self.host = "127.0.0.1" if host == "localhost" else host
        self.port = port
        self.shutdown_timeout = shutdown_timeout
        self._required_key = api_key
        self._errors: list[BaseException] = []
        self._server: Any = None
        self._tg: anyio.abc.TaskGroup | None = None
        self._done: anyio.Event | None = None
        self._stop: anyio.Event | None = None
        self._portal: anyio.from_thread.BlockingPortal | None = None
        self._loop_thread: int | None = None

    # -- for subclasses -------------------------------------------------------------------

    def build_app(self) -> Any:
        """The ASGI application to serve (called once per start)."""
        raise NotImplementedError

    def close_streams(self) -> None:
        """End every open stream (called first on shutdown, so responses finish at once)."""

    def spawn(self, fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``fn()`` in the server's task group (cancelled at shutdown)."""
        if self._tg is None:
            raise RuntimeError("the emulator is not running")
        self._tg.start_soon(fn)

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._server is not None

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` plus :attr:`path_prefix`: what the vendor SDK takes."""
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.path_prefix}"

    @property
    def api_key(self) -> str:
        """The key clients should send (the required one, or an accepted placeholder)."""
        return self._required_key or DEFAULT_API_KEY

    @property
    def errors(self) -> list[BaseException]:
        """Internal failures of the emulator (a turn task or the server); empty when healthy."""
        return list(self._errors)

    async def __aenter__(self: S) -> S:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
        if exc is None and self._errors:
            raise RuntimeError(
                f"the emulator failed while serving: {self._errors[0]!r}"
            ) from self._errors[0]

    async def start(self) -> None:
        """Bind the socket and start uvicorn in this event loop (use ``async with`` instead)."""
        import uvicorn

        from ._sse import quiet_abrupt_close

        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError("the emulator runs on uvicorn: use the asyncio backend") from None
        quiet_abrupt_close()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
            sock.listen(512)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.build_app(),
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
                self._errors.append(exc)
            except anyio.get_cancelled_exc_class():
                # Cancelled from outside (the caller's scope): still end the open requests,
                # briefly, so none is left for the event loop to cancel (and log) at exit.
                with anyio.CancelScope(shield=True):
                    await _shutdown(server, min(self.shutdown_timeout, 1.0))
                raise
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
        """Close every stream, stop uvicorn and the background tasks (bounded)."""
        tg = self._tg
        if tg is None:
            return
        with anyio.CancelScope(shield=True):
            self.close_streams()
            if self._stop is not None:
                self._stop.set()
            with anyio.move_on_after(self.shutdown_timeout + 1):
                if self._done is not None:
                    await self._done.wait()
        tg.cancel_scope.cancel()
        await tg.__aexit__(None, None, None)
        self._tg = None
        self._server = None

    @contextlib.contextmanager
    def run_in_thread(self: S) -> Iterator[S]:
        """Run the emulator on a background event loop thread (for synchronous code)."""
        with anyio.from_thread.start_blocking_portal() as portal:
            self._portal = portal
            try:
                with portal.wrap_async_context_manager(self):
                    yield self
            finally:
                self._portal = None

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the server's loop (directly when already on it)."""
        if self._portal is not None and threading.get_ident() != self._loop_thread:
            return self._portal.call(fn, *args)
        return fn(*args)


async def _shutdown(server: Any, grace: float) -> None:
    """Stop uvicorn quickly: stop listening, close idle connections, wait for the rest.

    The streams were closed first, so open responses finish at once; ``grace`` seconds bound
    the wait, after which the remaining request tasks are cancelled.
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
