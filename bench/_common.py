"""Helpers shared by the benchmark scripts: test data, timing, tables, a server process.

Nothing here is part of agentflow; the scripts import it as a sibling module.
"""

from __future__ import annotations

import inspect
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import cycle, islice
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "managed_agents_events.jsonl"
SERVER = Path(__file__).resolve().parent / "_server.py"


# -- the machine ------------------------------------------------------------------------


def machine() -> str:
    """One line naming the machine: cores, CPU model, Python, OS."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor() or model
    return (
        f"{os.cpu_count()} cores ({model}), Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.release()}"
    )


def header(title: str, what: str) -> None:
    """Print the title block every script starts with."""
    print(title)
    print(f"machine: {machine()}")
    print(what)
    print()


# -- test data --------------------------------------------------------------------------


def fixture_lines() -> list[bytes]:
    """The JSON lines of the shipped fixture: one real-shaped event of each of the 44 types."""
    return [line for line in FIXTURE.read_bytes().splitlines() if line.strip()]


def cycled(lines: Sequence[bytes], count: int) -> list[bytes]:
    """``count`` lines, cycling through ``lines``."""
    return list(islice(cycle(lines), count))


def sse_bytes(lines: Sequence[bytes]) -> bytes:
    """The SSE body a Managed Agents server sends for these events (``event:`` + ``data:``)."""
    out = []
    for line in lines:
        event_type = json.loads(line)["type"]
        out.append(b"event: " + event_type.encode() + b"\ndata: " + line + b"\n\n")
    return b"".join(out)


def chunked(data: bytes, size: int) -> list[bytes]:
    """``data`` cut into reads of ``size`` bytes (cuts fall anywhere, as on a socket)."""
    return [data[i : i + size] for i in range(0, len(data), size)]


# -- timing -----------------------------------------------------------------------------


async def interleaved_best(
    repeat: int,
    bodies: Sequence[Callable[[], object]],
    clock: Callable[[], float] = time.process_time,
) -> list[float]:
    """The best time of each body over ``repeat`` rounds, each round running every body once.

    Interleaving spreads a noisy neighbour's load over all the bodies; the default clock is
    this process's CPU time, which does not advance while another process has the core.
    A body may return an awaitable, which is awaited inside the timing.
    """
    return [min(times) for times in await interleaved_times(repeat, bodies, clock)]


async def interleaved_times(
    repeat: int,
    bodies: Sequence[Callable[[], object]],
    clock: Callable[[], float] = time.process_time,
) -> list[list[float]]:
    """Every time of each body over ``repeat`` rounds, round ``i`` at index ``i`` of each list.

    The bodies of one round run back to back, so their times in it were taken under the same
    conditions: see :func:`paired_ratio`.
    """
    times: list[list[float]] = [[] for _ in bodies]
    for _ in range(repeat):
        for i, body in enumerate(bodies):
            started = clock()
            result = body()
            if inspect.isawaitable(result):
                await result
            times[i].append(clock() - started)
    return times


def paired_ratio(base: Sequence[float], other: Sequence[float]) -> float:
    """The median over rounds of ``base[i] / other[i]`` (``other``'s speed in ``base``'s units).

    A machine whose speed drifts over seconds (a shared host) moves both times of a round
    together, so their ratio holds where two bests taken in different rounds do not.
    """
    return statistics.median(b / o for b, o in zip(base, other, strict=True))


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by linear interpolation."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1]


# -- output -----------------------------------------------------------------------------


def table(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]) -> None:
    """Print an aligned table; ``columns`` are ``(title, format)`` pairs (``"<"`` = text)."""
    cells = [
        [
            str(value) if fmt == "<" else format(value, fmt)
            for value, (_, fmt) in zip(row, columns, strict=True)
        ]
        for row in rows
    ]
    widths = [
        max(len(title), *(len(r[i]) for r in cells)) if cells else len(title)
        for i, (title, _) in enumerate(columns)
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.ljust(w) if fmt == "<" else v.rjust(w)
            for v, w, (_, fmt) in zip(values, widths, columns, strict=True)
        ]
        return "| " + " | ".join(parts) + " |"

    print(line([t for t, _ in columns]))
    rules = [
        "-" * (w + 2) if fmt == "<" else "-" * (w + 1) + ":"
        for w, (_, fmt) in zip(widths, columns, strict=True)
    ]
    print("|" + "|".join(rules) + "|")
    for r in cells:
        print(line(r))


def verdict(name: str, value: float, target: str, ok: bool) -> bool:
    """Print one target line (``PASS``/``MISS``) and return ``ok``."""
    print(f"{'PASS' if ok else 'MISS'}  {name}: {value:.3g} (target {target})")
    return ok


# -- a server in its own process ------------------------------------------------------------


@contextmanager
def server_process(*args: str, timeout: float = 30.0) -> Iterator[ServerHandle]:
    """Run ``bench/_server.py`` with ``args`` in a child process; yield its handle.

    The child serves the agentflow emulator on 127.0.0.1 and prints its URL; it is
    terminated when the block exits.
    """
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    try:
        deadline = time.monotonic() + timeout
        assert proc.stdout is not None
        line = ""
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line or line.startswith("url "):
                break
        match = re.match(r"url (\S+)", line)
        if not match:
            raise RuntimeError(f"the benchmark server did not start (got {line!r})")
        yield ServerHandle(proc, match.group(1))
    finally:
        if proc.stdin is not None:
            try:
                proc.stdin.close()
            except OSError:
                pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


class ServerHandle:
    """The child process and its base URL; ``command(...)`` sends a line and reads the answer."""

    api_key = "bench-key"

    def __init__(self, proc: subprocess.Popen[str], base_url: str) -> None:
        self.proc = proc
        self.base_url = base_url

    def command(self, *words: object) -> str:
        """Send one command line to the server process and return its one-line answer.

        An answer starting with ``error`` raises ``RuntimeError``.
        """
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(" ".join(str(w) for w in words) + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if not answer or answer.startswith("error"):
            raise RuntimeError(f"benchmark server: {' '.join(map(str, words))!r} -> {answer!r}")
        return answer


def run_child(script: str | Path, kind: str, *args: object, timeout: float = 300) -> Any:
    """Run ``script --child kind args...`` in a fresh interpreter; return its last stdout line
    parsed as JSON. Each client kind is measured in its own process, so one client's imports
    and garbage (the official SDK's are large) do not weigh on another's timings."""
    proc = subprocess.run(
        [sys.executable, str(script), "--child", kind, *map(str, args)],
        stdout=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{Path(script).name} --child {kind} exited with {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- process resources -------------------------------------------------------------------


def rss_bytes() -> int:
    """Resident set size of this process now (from ``/proc/self/statm``)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def raise_fd_limit(wanted: int) -> int:
    """Raise the soft open-files limit towards ``wanted`` (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft
