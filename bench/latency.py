"""Delivery latency: from the server handing an event to its stream to the handler call.

Run from the repository root (after ``pip install -e ".[dev]"``)::

    python bench/latency.py [--events 500] [--interval 0.01] [--rounds 3]

The emulator runs in its own process (``bench/_server.py``). For each client a session is
created, the client opens its stream, then the server emits ``--events`` ``agent.message``
events one every ``--interval`` seconds (100/s by default). Each event's text is
``time.monotonic_ns()`` read in the server process just before the event is queued for the
SSE connection (``CLOCK_MONOTONIC`` is one system-wide clock on Linux); the handler reads
the same clock when it is called. The latency therefore covers the server's JSON encoding
and write, loopback, and everything the client does up to and including the handler call.
The first 10 events of each run are warm-up and not counted. Each client runs in a fresh
process (with its own emulator process), ``--rounds`` times, the clients taking turns
(raw, httpx-sse, agentflow, SDK, raw, ...); a client's samples from all its rounds are
pooled before the percentiles are taken, so a p99 is not the fifth-worst delivery of one
five-second window, and a slow stretch of the machine falls on every client alike. Clients:

- raw asyncio: ``asyncio.open_connection``, a hand-written HTTP request, frames cut from
  the bytes and ``json.loads`` (the floor for a Python client);
- httpx + httpx-sse + ``json.loads``;
- agentflow: ``app.run(client, sid)`` with an ``@app.on("agent.message")`` handler (the
  whole framework: resilient stream, typed events, dispatch, the requires_action router);
  the events start once the run is attached (its channel is ``bench/_serve.py``'s, which
  says when), since a run that starts at the end of history takes what its first read
  finds as the past;
- the official SDK's ``AsyncAnthropic.beta.sessions.events.stream``.

Targets: agentflow p99 < 5 ms, and below the p99 of httpx-sse measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

import httpx
from _common import (
    ServerHandle,
    header,
    percentile,
    run_child,
    server_process,
    table,
    verdict,
)
from _serve import ReadySource
from httpx_sse import aconnect_sse

from agentflow import App, ManagedAgentsClient

WARMUP = 10
HEADERS = {
    "authorization": f"Bearer {ServerHandle.api_key}",
    "anthropic-beta": "managed-agents-2026-04-01",
    "anthropic-version": "2023-06-01",
}


class Samples:
    """Latencies (seconds) of the ``agent.message`` events, counted as the handler sees them."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.seen = 0
        self.values: list[float] = []
        self.done = asyncio.Event()

    def record(self, text: str) -> None:
        now = time.monotonic_ns()
        self.seen += 1
        if self.seen > WARMUP:
            self.values.append((now - int(text)) / 1e9)
        if self.seen >= self.total:
            self.done.set()


async def start_pacing(srv: ServerHandle, sid: str, n: int, interval: float) -> None:
    answer = await asyncio.to_thread(srv.command, "pace", sid, n, interval)
    assert answer == "ok", answer


async def raw_asyncio(srv: ServerHandle, sid: str, n: int, interval: float) -> Samples:
    samples = Samples(n)
    url = urlsplit(srv.base_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    lines = [f"GET /v1/sessions/{sid}/events/stream HTTP/1.1", f"host: {url.netloc}"]
    lines += [f"{k}: {v}" for k, v in HEADERS.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    await start_pacing(srv, sid, n, interval)
    buf = b""
    while not samples.done.is_set():
        # The body is chunked; each chunk holds whole frames, so frames can be cut from the
        # raw bytes (chunk-size lines fall between frames and are skipped).
        buf += await reader.read(65536)
        pos = 0
        end = buf.find(b"\n\n")
        while end >= 0:
            block = buf[pos:end]
            start = block.find(b"data: ")
            if start >= 0:
                obj = json.loads(block[start + 6 :])
                if obj["type"] == "agent.message":
                    samples.record(obj["content"][0]["text"])
            pos = end + 2
            end = buf.find(b"\n\n", pos)
        buf = buf[pos:]
    writer.close()
    await writer.wait_closed()
    return samples


async def httpx_sse(srv: ServerHandle, sid: str, n: int, interval: float) -> Samples:
    samples = Samples(n)
    async with httpx.AsyncClient(base_url=srv.base_url, headers=HEADERS, timeout=60) as client:
        async with aconnect_sse(client, "GET", f"/v1/sessions/{sid}/events/stream") as source:
            await start_pacing(srv, sid, n, interval)
            async for sse in source.aiter_sse():
                obj = json.loads(sse.data)
                if obj["type"] == "agent.message":
                    samples.record(obj["content"][0]["text"])
                    if samples.done.is_set():
                        break
    return samples


async def agentflow_run(srv: ServerHandle, sid: str, n: int, interval: float) -> Samples:
    samples = Samples(n)
    app = App()
    app.load_entrypoints = False

    @app.on("agent.message")
    def on_message(event: Any, ctx: Any) -> None:
        samples.record(event.text)
        if samples.done.is_set():
            ctx.stop()

    ready = asyncio.Event()

    async def paced_once_attached() -> None:
        # Pace only once the run is attached: a run without replay starts at the end of
        # history as its first read finds it, so an event stored between the stream's
        # connect and that read counts as before the start (and would never be counted).
        await ready.wait()
        await start_pacing(srv, sid, n, interval)

    async with ManagedAgentsClient(api_key=srv.api_key, base_url=srv.base_url) as client:
        pacing = asyncio.create_task(paced_once_attached())
        result = await app.run(ReadySource(client, ready), sid, until="terminated")
        await pacing
    assert result.stop_reason == "stopped", result.stop_reason
    return samples


async def official_sdk(srv: ServerHandle, sid: str, n: int, interval: float) -> Samples:
    from anthropic import AsyncAnthropic

    samples = Samples(n)
    async with AsyncAnthropic(api_key=srv.api_key, base_url=srv.base_url) as client:
        stream = await client.beta.sessions.events.stream(session_id=sid)
        try:
            await start_pacing(srv, sid, n, interval)
            async for event in stream:
                if event.type == "agent.message":
                    samples.record(event.content[0].text)  # type: ignore[union-attr]
                    if samples.done.is_set():
                        break
        finally:
            await stream.close()
    return samples


Client = Callable[[ServerHandle, str, int, float], Coroutine[Any, Any, Samples]]
CLIENTS: dict[str, tuple[str, Client]] = {
    "raw": ("raw asyncio socket + json.loads", raw_asyncio),
    "httpx-sse": ("httpx + httpx-sse + json.loads", httpx_sse),
    "agentflow": ("agentflow: app.run + handler", agentflow_run),
    "sdk": ("official SDK: beta.sessions.events.stream", official_sdk),
}


def child(kind: str, n: int, interval: float) -> list[float]:
    """Measure one client in this fresh process (with its own emulator process)."""
    name, client = CLIENTS[kind]
    with server_process() as srv:
        sid = srv.command("session")
        samples = asyncio.run(client(srv, sid, n, interval))
    assert len(samples.values) == n - WARMUP, (name, len(samples.values))
    return [v * 1000 for v in samples.values]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--interval", type=float, default=0.01)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", choices=sorted(CLIENTS))
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.events, args.interval)))
        return 0
    header(
        "delivery latency: server write -> handler call (emulator in a separate process)",
        f"{args.events} events per client, one every {args.interval * 1000:g} ms "
        f"({WARMUP} warm-up events not counted), each client in a fresh process, "
        f"{args.rounds} interleaved rounds pooled",
    )
    pooled: dict[str, list[float]] = {kind: [] for kind in CLIENTS}
    for _ in range(args.rounds):
        for kind in CLIENTS:
            pooled[kind] += run_child(
                __file__, kind, "--events", args.events, "--interval", args.interval
            )
    rows = []
    p99 = {}
    for kind, (name, _) in CLIENTS.items():
        ms = pooled[kind]
        p99[kind] = percentile(ms, 99)
        rows.append((name, len(ms), percentile(ms, 50), percentile(ms, 90), p99[kind], max(ms)))
    table(
        [
            ("client", "<"),
            ("events", "d"),
            ("p50 ms", ".3f"),
            ("p90 ms", ".3f"),
            ("p99 ms", ".3f"),
            ("max ms", ".3f"),
        ],
        rows,
    )
    print()
    ok = verdict("agentflow p99 (ms)", p99["agentflow"], "< 5", p99["agentflow"] < 5.0)
    base = p99["httpx-sse"]
    ok &= verdict(
        "agentflow p99 / httpx-sse p99", p99["agentflow"] / base, "< 1", p99["agentflow"] < base
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
