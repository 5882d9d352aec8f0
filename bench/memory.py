"""Memory: client RSS per idle open stream, with 1,000 streams open in one process.

Run from the repository root (after ``pip install -e ".[dev]"``)::

    python bench/memory.py [--streams 1000] [--hold 3]

The emulator runs in its own process (``bench/_server.py``), so its memory is not counted.
Each client kind is measured in a fresh child process (``--child KIND``): it imports what it
needs, opens one stream and lets it settle (first-use costs: imports, TLS context, pools),
collects garbage and reads its resident set size from ``/proc/self/statm``; then it opens
``--streams`` more streams (at most 100 connecting at a time), each to an idle session of
its own (``app.serve`` holds a session's lease, so one process serves many sessions), waits
until the server counts them all, holds them ``--hold`` seconds, collects garbage and reads
RSS again. The table shows the difference divided by the number of streams. The
open-files limit is raised for the children as needed (``resource.setrlimit``). Kinds:

- raw asyncio: ``asyncio.open_connection`` + a hand-written GET + one reading task per stream;
- httpx-sse: one ``httpx.AsyncClient`` (no connection cap) + ``aconnect_sse`` + ``aiter_sse``;
- agentflow stream: one ``ManagedAgentsClient``, ``async with client.events.stream(sid)``
  iterated by one task per stream;
- agentflow app.serve: one ``App`` serving every stream (``app.serve(client, sid)``: the
  stream plus the run loop, context and requires_action router of each);
- official SDK: one ``AsyncAnthropic`` (connection cap raised above its default of 1,000)
  and ``beta.sessions.events.stream`` iterated by one task per stream.

Targets: at most 35 KiB per idle ``client.events.stream`` and 40 KiB per idle ``app.serve``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from _common import ServerHandle, header, raise_fd_limit, rss_bytes, server_process, table, verdict

HEADERS = {
    "authorization": f"Bearer {ServerHandle.api_key}",
    "anthropic-beta": "managed-agents-2026-04-01",
    "anthropic-version": "2023-06-01",
}

Opener = Callable[[str, str, asyncio.Event], Coroutine[Any, Any, None]]
"""``open(base_url, session_id, connected)``: hold one stream open until cancelled."""


# -- the client kinds (run inside a child process) ------------------------------------------


async def make_raw(n: int) -> Opener:
    async def hold(url: str, sid: str, connected: asyncio.Event) -> None:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            lines = [f"GET /v1/sessions/{sid}/events/stream HTTP/1.1", f"host: {parts.netloc}"]
            lines += [f"{k}: {v}" for k, v in HEADERS.items()]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            await writer.drain()
            await reader.readuntil(b"\r\n\r\n")
            connected.set()
            while await reader.read(65536):
                pass
        finally:
            writer.close()

    return hold


async def make_httpx_sse(n: int) -> Opener:
    import httpx
    from httpx_sse import aconnect_sse

    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    client = httpx.AsyncClient(headers=HEADERS, timeout=httpx.Timeout(60.0), limits=limits)
    KEEP.append(client)

    async def hold(url: str, sid: str, connected: asyncio.Event) -> None:
        async with aconnect_sse(client, "GET", f"{url}/v1/sessions/{sid}/events/stream") as src:
            connected.set()
            async for _ in src.aiter_sse():
                pass

    return hold


async def make_agentflow(n: int) -> Opener:
    from agentflow import ManagedAgentsClient

    client: Any = None

    async def hold(url: str, sid: str, connected: asyncio.Event) -> None:
        nonlocal client
        if client is None:
            client = ManagedAgentsClient(api_key=ServerHandle.api_key, base_url=url)
            KEEP.append(client)
        async with client.events.stream(sid) as stream:
            connected.set()
            async for _ in stream:
                pass

    return hold


async def make_agentflow_serve(n: int) -> Opener:
    from _serve import ReadySource, serve_app

    from agentflow import ManagedAgentsClient

    app = serve_app()
    client: Any = None

    async def hold(url: str, sid: str, connected: asyncio.Event) -> None:
        nonlocal client
        if client is None:
            client = ManagedAgentsClient(api_key=ServerHandle.api_key, base_url=url)
            KEEP.append(client)
        # ``connected`` is set once the run is attached and waits for events
        await app.serve(ReadySource(client, connected), sid)

    return hold


async def make_sdk(n: int) -> Opener:
    import httpx2
    from anthropic import AsyncAnthropic, DefaultAsyncHttpxClient

    client: Any = None

    async def hold(url: str, sid: str, connected: asyncio.Event) -> None:
        nonlocal client
        if client is None:
            limits = httpx2.Limits(max_connections=n + 100, max_keepalive_connections=100)
            http = DefaultAsyncHttpxClient(limits=limits)
            client = AsyncAnthropic(api_key=ServerHandle.api_key, base_url=url, http_client=http)
            KEEP.append(client)
        stream = await client.beta.sessions.events.stream(session_id=sid)
        try:
            connected.set()
            async for _ in stream:
                pass
        finally:
            await stream.close()

    return hold


KEEP: list[Any] = []  # clients live as long as the child
KINDS: dict[str, tuple[str, Callable[[int], Awaitable[Opener]]]] = {
    "raw": ("raw asyncio socket per stream", make_raw),
    "httpx-sse": ("httpx + httpx-sse", make_httpx_sse),
    "agentflow": ("agentflow: client.events.stream", make_agentflow),
    "agentflow-serve": ("agentflow: app.serve (stream + run loop)", make_agentflow_serve),
    "sdk": ("official SDK: beta.sessions.events.stream", make_sdk),
}


async def child(kind: str, url: str, n: int, hold_s: float) -> dict[str, Any]:
    sids = iter(sys.stdin.readline().split())  # one session per stream
    opener = await KINDS[kind][1](n)
    tasks: list[asyncio.Task[None]] = []
    gate = asyncio.Semaphore(100)

    async def one() -> None:
        connected = asyncio.Event()
        sid = next(sids)
        async with gate:
            task = asyncio.create_task(opener(url, sid, connected))
            tasks.append(task)
            waiter = asyncio.create_task(connected.wait())
            await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if task.done():
                task.result()  # raise what went wrong

    await one()  # the first stream pays the one-time costs; it is not counted
    await asyncio.sleep(0.5)
    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    opened = time.perf_counter() - started
    await asyncio.sleep(hold_s)
    failed = [t for t in tasks if t.done()]
    gc.collect()
    after = rss_bytes()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "per_stream": (after - before) / n,
        "before": before,
        "after": after,
        "open_seconds": opened,
        "ended_early": len(failed),
    }


# -- the parent ---------------------------------------------------------------------------


def measure(kind: str, srv: ServerHandle, n: int, hold_s: float) -> dict[str, Any]:
    sids = srv.command("sessions", n + 1)
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--url", srv.base_url]
        + ["--streams", str(n), "--hold", str(hold_s)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdin is not None
        proc.stdin.write(sids + "\n")
        proc.stdin.flush()
        # the server must see every stream (plus the uncounted first one)
        answer = srv.command("wait_batch_streams", n + 1, 240)
        if answer != "ok":
            raise RuntimeError(f"{kind}: not every stream opened ({answer})")
        out, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"{kind}: child exited with {proc.returncode}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--hold", type=float, default=3.0)
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated subset")
    parser.add_argument("--child", choices=sorted(KINDS))
    parser.add_argument("--url")
    args = parser.parse_args(argv)
    raise_fd_limit(2 * args.streams + 512)
    if args.child:
        result = asyncio.run(child(args.child, args.url, args.streams, args.hold))
        print(json.dumps(result))
        return 0
    header(
        "memory per idle open stream (client process only; emulator in another process)",
        f"{args.streams:,} streams, one idle session each, per client kind, each kind in a fresh "
        f"process, held {args.hold:g} s",
    )
    rows = []
    per = {}
    with server_process() as srv:
        for kind in args.kinds.split(","):
            name = KINDS[kind][0]
            r = measure(kind, srv, args.streams, args.hold)
            per[kind] = r["per_stream"]
            rows.append(
                (name, args.streams, r["before"] / 2**20, r["after"] / 2**20,
                 r["per_stream"] / 1024, r["open_seconds"], r["ended_early"])
            )  # fmt: skip
    table(
        [
            ("client", "<"),
            ("streams", ",d"),
            ("RSS before MiB", ".1f"),
            ("RSS after MiB", ".1f"),
            ("KiB per stream", ".1f"),
            ("open s", ".2f"),
            ("ended early", "d"),
        ],
        rows,
    )
    print()
    ok = True
    for kind, bar in (("agentflow", 35), ("agentflow-serve", 40)):
        if kind in per:
            kib = per[kind] / 1024
            ok &= verdict(f"{KINDS[kind][0]}: KiB per idle stream", kib, f"<= {bar}", kib <= bar)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
