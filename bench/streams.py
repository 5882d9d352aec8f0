"""Idle streams per process: seconds to open N of them, requests per open, memory per stream.

Run from the repository root (after ``pip install -e ".[dev]"``)::

    python bench/streams.py [--streams 5000] [--kinds httpx-sse,agentflow-serve] [--runs 1]

The emulator runs in its own process (``bench/_server.py``) with one idle session per stream
(``app.serve`` takes a session's lease, so one process serves many sessions, as it would in
production). Each client kind is measured in a fresh child process: it opens one stream and
lets it settle (imports, pools: not counted), then, on the parent's word, opens ``--streams``
more, at most ``--concurrency`` (default 100) connecting at a time, one per session. The
parent notes when the server counts them all open: ``open s`` is the time from the word to
then. ``ready s`` is when the client saw every stream ready (``app.serve``: attached to its
session and waiting for events). ``requests per open`` is what the server answered during
that time divided by the streams (stream connections + history and session reads); ``KiB
per stream`` is the child's RSS growth (after ``gc.collect()``) divided by the streams. The
open-files limit is raised as needed (``resource.setrlimit``). Kinds:

- httpx-sse: one ``httpx.AsyncClient`` (no connection cap) + ``aconnect_sse`` + ``aiter_sse``;
- agentflow stream: one ``ManagedAgentsClient``, ``client.events.stream(sid)`` per stream;
- agentflow app.serve: one ``App`` and one client, ``app.serve(client, sid)`` per session.

Target: ``app.serve`` opens 5,000 idle streams in < 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from _common import ServerHandle, header, raise_fd_limit, rss_bytes, server_process, table, verdict

HEADERS = {
    "authorization": f"Bearer {ServerHandle.api_key}",
    "anthropic-beta": "managed-agents-2026-04-01",
    "anthropic-version": "2023-06-01",
}
TARGET_SECONDS = 10.0
TARGET_STREAMS = 5000

Opener = Callable[[str, asyncio.Event], Coroutine[Any, Any, None]]
"""``open(session_id, ready)``: hold one stream open until cancelled; set ``ready`` once open."""


# -- the client kinds (run inside a child process) ------------------------------------------


async def make_httpx_sse(url: str) -> Opener:
    import httpx
    from httpx_sse import aconnect_sse

    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    client = httpx.AsyncClient(headers=HEADERS, timeout=httpx.Timeout(60.0), limits=limits)
    KEEP.append(client)

    async def hold(sid: str, ready: asyncio.Event) -> None:
        async with aconnect_sse(client, "GET", f"{url}/v1/sessions/{sid}/events/stream") as src:
            ready.set()
            async for _ in src.aiter_sse():
                pass

    return hold


async def make_agentflow(url: str) -> Opener:
    from agentflow import ManagedAgentsClient

    client = ManagedAgentsClient(api_key=ServerHandle.api_key, base_url=url)
    KEEP.append(client)

    async def hold(sid: str, ready: asyncio.Event) -> None:
        async with client.events.stream(sid, replay=False) as stream:
            ready.set()
            async for _ in stream:
                pass

    return hold


async def make_agentflow_serve(url: str) -> Opener:
    from _serve import ReadySource, serve_app

    from agentflow import ManagedAgentsClient

    app = serve_app()
    client = ManagedAgentsClient(api_key=ServerHandle.api_key, base_url=url)
    KEEP.append(client)

    async def hold(sid: str, ready: asyncio.Event) -> None:
        await app.serve(ReadySource(client, ready), sid)

    return hold


KEEP: list[Any] = []  # clients live as long as the child
KINDS: dict[str, tuple[str, Callable[[str], Awaitable[Opener]]]] = {
    "httpx-sse": ("httpx + httpx-sse", make_httpx_sse),
    "agentflow": ("agentflow: client.events.stream", make_agentflow),
    "agentflow-serve": ("agentflow: app.serve", make_agentflow_serve),
}


def say(*words: object) -> None:
    print(*words, flush=True)


async def child(kind: str, url: str, concurrency: int) -> dict[str, Any]:
    sids = (await asyncio.to_thread(sys.stdin.readline)).split()
    opener = await KINDS[kind][1](url)
    tasks: list[asyncio.Task[None]] = []
    gate = asyncio.Semaphore(concurrency)

    async def one(sid: str) -> None:
        ready = asyncio.Event()
        async with gate:
            task = asyncio.create_task(opener(sid, ready))
            tasks.append(task)
            waiter = asyncio.create_task(ready.wait())
            await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if task.done():
                task.result()  # raise what went wrong

    await one(sids[0])  # the first stream pays the one-time costs; it is not counted
    await asyncio.sleep(0.5)
    gc.collect()
    before = rss_bytes()
    say("warm")
    await asyncio.to_thread(sys.stdin.readline)  # the parent's word
    started = time.monotonic()
    cpu = time.process_time()
    say("go", started)
    try:
        await asyncio.gather(*(one(sid) for sid in sids[1:]))
    except BaseException as exc:
        say("error", f"{type(exc).__name__}: {exc}"[:300])
        raise SystemExit(1) from None
    say("ready", time.monotonic() - started, time.process_time() - cpu)
    await asyncio.to_thread(sys.stdin.readline)  # counted by the server: measure and stop
    ended = [t for t in tasks if t.done()]
    gc.collect()
    after = rss_bytes()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    n = len(sids) - 1
    return {"per_stream": (after - before) / n, "ended_early": len(ended)}


# -- the parent ---------------------------------------------------------------------------


def read_line(proc: subprocess.Popen[str], want: str) -> list[str]:
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the client process ended before {want!r}")
        words = line.split(maxsplit=1)
        if words and words[0] == "error":
            raise RuntimeError(f"client: {line.strip()}")
        if words and words[0] == want:
            return line.split()


def measure(
    kind: str, srv: ServerHandle, n: int, concurrency: int, timeout: float, profile: bool
) -> dict[str, Any]:
    sids = srv.command("sessions", n + 1)
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--url", srv.base_url]
        + ["--concurrency", str(concurrency), "--streams", str(n)]
        + (["--profile"] if profile else []),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert proc.stdin is not None
    try:
        proc.stdin.write(sids + "\n")
        read_line(proc, "warm")
        counts_before = json.loads(srv.command("requests"))
        server_cpu = float(srv.command("cpu"))
        proc.stdin.write("go\n")
        started = float(read_line(proc, "go")[1])
        answer = srv.command("wait_batch_streams", n + 1, timeout).split()
        opened = time.monotonic() - started
        if answer[0] != "ok":  # not all open in time: say how far it got, stop the client
            proc.kill()
            proc.wait()
            return {"timed_out": int(answer[1]) - 1, "open_seconds": opened}
        _, ready, client_cpu = read_line(proc, "ready")
        counts_after = json.loads(srv.command("requests"))
        server_cpu = float(srv.command("cpu")) - server_cpu
        proc.stdin.write("stop\n")
        assert proc.stdout is not None
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"{kind}: child exited with {proc.returncode}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    per_kind = {k: (counts_after[k] - counts_before[k]) / n for k in counts_after}
    result.update(
        open_seconds=opened,
        ready_seconds=float(ready),
        requests=per_kind,
        client_cpu=float(client_cpu),
        server_cpu=server_cpu,
    )
    return result


def spread(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=TARGET_STREAMS)
    parser.add_argument("--kinds", default="httpx-sse,agentflow-serve", help="comma-separated")
    parser.add_argument("--runs", type=int, default=1, help="rounds, each running every kind")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument(
        "--timeout", type=float, default=45.0, help="seconds to open them all, per kind and run"
    )
    parser.add_argument(
        "--profile", action="store_true", help="print each client's cProfile top 25 to stderr"
    )
    parser.add_argument("--child", choices=sorted(KINDS))
    parser.add_argument("--url")
    args = parser.parse_args(argv)
    raise_fd_limit(2 * args.streams + 512)
    if args.child:
        if args.profile:
            import cProfile
            import pstats

            with cProfile.Profile() as prof:
                result = asyncio.run(child(args.child, args.url, args.concurrency))
            pstats.Stats(prof, stream=sys.stderr).sort_stats(
                os.environ.get("BENCH_SORT", "tottime")
            ).print_stats(int(os.environ.get("BENCH_TOP", "25")))
        else:
            result = asyncio.run(child(args.child, args.url, args.concurrency))
        say(json.dumps(result))
        return 0
    header(
        "idle streams per process: time to open, requests per open, memory per stream",
        f"{args.streams:,} streams, one idle session each, {args.concurrency} connecting at a "
        f"time; each kind in a fresh process, emulator in its own; {args.runs} run(s)",
    )
    kinds = args.kinds.split(",")
    results: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    with server_process() as srv:
        for _ in range(args.runs):
            for kind in kinds:
                r = measure(kind, srv, args.streams, args.concurrency, args.timeout, args.profile)
                results[kind].append(r)
    rows: list[tuple[Any, ...]] = []
    for kind in kinds:
        late = [r for r in results[kind] if "timed_out" in r]
        if late:
            opened = ", ".join(f"{r['timed_out']:,}" for r in late)
            print(f"{KINDS[kind][0]}: not all open after {args.timeout:g} s (open: {opened})")
        rs = [r for r in results[kind] if "timed_out" not in r]
        if not rs:
            continue
        reqs = rs[-1]["requests"]
        total = sum(reqs.values())
        detail = ", ".join(f"{k} {v:.2f}" for k, v in reqs.items() if v)
        rows.append(
            (KINDS[kind][0], args.streams, spread([r["open_seconds"] for r in rs]),
             spread([r["ready_seconds"] for r in rs]), f"{total:.2f} ({detail})",
             spread([r["client_cpu"] for r in rs]), spread([r["server_cpu"] for r in rs]),
             spread([r["per_stream"] / 1024 for r in rs]), max(r["ended_early"] for r in rs))
        )  # fmt: skip
    table(
        [
            ("client", "<"),
            ("streams", ",d"),
            ("open s", "<"),
            ("ready s", "<"),
            ("requests per open", "<"),
            ("client CPU s", "<"),
            ("server CPU s", "<"),
            ("KiB per stream", "<"),
            ("ended early", "d"),
        ],
        rows,
    )
    print("(several runs: median (min-max))" if args.runs > 1 else "")
    ok = True
    if "agentflow-serve" in results:
        worst = max(r["open_seconds"] for r in results["agentflow-serve"])
        if any("timed_out" in r for r in results["agentflow-serve"]):
            worst = float("inf")
        ok = verdict(
            f"app.serve: seconds to open {args.streams:,} idle streams (slowest run)",
            worst,
            f"< {TARGET_SECONDS:g} at {TARGET_STREAMS:,}",
            worst < TARGET_SECONDS,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
