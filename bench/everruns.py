"""Everruns stream + dispatch vs everruns-sdk's stream, on the same loopback bytes.

Run from the repository root (after ``pip install -e ".[dev]"``)::

    python bench/everruns.py [--events 40000] [--repeat 3]

The body is the recorded Everruns stream ``tests/fixtures/everruns_stream.sse`` (five turns,
every event shape the emulator makes: deltas, thinking, tool calls, approvals, a question, a
burst of messages, a failed turn), its events cycled to ``--events`` with fresh ids and
sequence numbers, after the ``connected`` frame. A small server in its own process (so it
does not compete for this core) answers every ``GET .../v1/sessions/{id}/sse`` with those
bytes, in 64 KiB writes, as fast as the socket takes them: the client is the bottleneck.
Each client runs in a fresh process, reads the stream to its last event and calls one
handler per event. ``--repeat`` rounds run every client once each, interleaved (so a noisy
neighbour weighs on all of them), and the best wall time (from the request to the last
event) and the best client CPU time of each client are kept:

- raw (the baseline): ``httpx`` + ``httpx_sse.aconnect_sse`` + ``json.loads`` + a dict
  lookup by ``type``; nothing typed, nothing resumable;
- agentflow: ``EverrunsClient.events.stream(sid, until=...)`` (frames cut from bytes, typed
  pydantic events, sequence de-duplication, the resume cursor) feeding
  ``await app.dispatch(event, ctx)`` into an ``App`` with an ``@app.on("*")`` handler;
- everruns-sdk 0.3.1: ``Everruns(...).events.stream(sid)`` (httpx-sse, ``json.loads`` and
  its pydantic ``Event``) + the same dict dispatch as raw.

everruns-sdk validates only the envelope (``data`` stays a dict); agentflow validates every
field it types, so the comparison is typed-and-resumable against shallow. Both ratios are
printed; the target is on CPU time, which a loaded machine disturbs far less than wall time:
agentflow spends no more CPU per event than everruns-sdk (>= 1x).

Then, over loopback (``bench/_loopback.py``): the Everruns emulator
(``agentflow.testing.Emulator(dialect="everruns")``) in its own process plays one turn, a
short streamed message then ``--burst`` whole messages, on a fresh session per trial (made
with plain httpx, not timed), and two clients, each in a fresh process, follow it;
``--rounds`` interleaved rounds (9), best wall and best client CPU time shown, the target
on the median of the rounds' paired CPU ratios:

- raw (the baseline): ``aconnect_sse`` on ``/v1/sessions/{id}/sse``, the message posted
  with ``httpx``, ``json.loads`` per event and a dict call, to ``turn.completed``;
- agentflow: ``app.run(EverrunsClient(...), session_id, send=["go"])`` with one
  ``@app.on("*")`` handler: the resilient stream, the run loop, the actions router.

Target: app.run's client CPU per event >= 0.7x raw's (a ``MISS`` is printed as such).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import time
from itertools import cycle, islice
from pathlib import Path
from typing import Any

import _loopback
from _common import ROOT, header, run_child, table, verdict
from _loopback import Span

FIXTURE = ROOT / "tests" / "fixtures" / "everruns_stream.sse"
SESSION = "session_0000000000000000000000000000bench"
KEY = "evr_pat_bench"
WRITE = 65536


# -- the bytes ---------------------------------------------------------------------------


def fixture_events() -> list[dict[str, Any]]:
    """The recorded stream's events (its ``connected`` frame left out)."""
    out = []
    for block in FIXTURE.read_text(encoding="utf-8").split("\n\n"):
        for line in block.split("\n"):
            if line.startswith("data: ") and '"sequence"' in line:
                out.append(json.loads(line[6:]))
    return out


def body(count: int) -> bytes:
    """``connected``, then ``count`` events cycled from the fixture, renumbered."""
    parts = ['retry: 100\nevent: connected\ndata: {"status":"connected"}\n\n']
    for n, event in enumerate(islice(cycle(fixture_events()), count), start=1):
        event = {**event, "id": f"event_{n:032x}", "sequence": n, "session_id": SESSION}
        data = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
        parts.append(f"id: {event['id']}\nevent: {event['type']}\nretry: 100\ndata: {data}\n\n")
    return "".join(parts).encode()


def last_id(count: int) -> str:
    return f"event_{count:032x}"


# -- the server (its own process) ----------------------------------------------------------


async def serve(count: int) -> None:
    payload = body(count)
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-store\r\n"
        b"connection: close\r\n\r\n"
    )

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(head)
            for i in range(0, len(payload), WRITE):
                writer.write(payload[i : i + WRITE])
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"url http://127.0.0.1:{port}/api", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
    server.close()


# -- the clients (each in its own process) --------------------------------------------------


async def raw_trial(url: str, count: int) -> tuple[int, float, float]:
    import httpx
    from httpx_sse import aconnect_sse

    seen = 0

    def handler(event: Any) -> None:
        nonlocal seen
        seen += 1

    table: dict[str, Any] = {}
    last = last_id(count)
    async with httpx.AsyncClient(timeout=60) as client:
        wall, cpu = time.perf_counter(), time.process_time()
        headers = {"authorization": KEY, "accept": "text/event-stream"}
        async with aconnect_sse(client, "GET", f"{url}/v1/sessions/{SESSION}/sse",
                                headers=headers) as source:  # fmt: skip
            async for sse in source.aiter_sse():
                if sse.event == "connected":
                    continue
                obj = json.loads(sse.data)
                table.setdefault(obj["type"], handler)(obj)
                if obj["id"] == last:
                    break
        return seen, time.perf_counter() - wall, time.process_time() - cpu


async def agentflow_trial(url: str, count: int) -> tuple[int, float, float]:
    from agentflow import App, Context
    from agentflow.everruns import EverrunsClient

    app = App()
    app.load_entrypoints = False
    seen = 0

    @app.on("*")
    def handler(event: Any) -> None:
        nonlocal seen
        seen += 1

    last = last_id(count)
    async with EverrunsClient(api_key=KEY, base_url=url) as client:
        ctx = Context(SESSION, app=app)
        wall, cpu = time.perf_counter(), time.process_time()
        stream = client.events.stream(SESSION, until=lambda e: e.id == last)
        async with stream:
            async for event in stream:
                await app.dispatch(event, ctx)
        return seen, time.perf_counter() - wall, time.process_time() - cpu


async def sdk_trial(url: str, count: int) -> tuple[int, float, float]:
    from everruns_sdk import Everruns

    seen = 0

    def handler(event: Any) -> None:
        nonlocal seen
        seen += 1

    table: dict[str, Any] = {}
    last = last_id(count)
    client = Everruns(api_key=KEY, base_url=url)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        stream = client.events.stream(SESSION)
        events = stream.__aiter__()  # an async generator: closed here, not at loop exit
        async for event in events:
            table.setdefault(event.type, handler)(event)
            if event.id == last:
                break
        elapsed = time.perf_counter() - wall, time.process_time() - cpu
        stream.stop()
        await events.aclose()
        await stream.aclose()
    finally:
        await client.close()
    return seen, *elapsed


TRIALS = {"raw": raw_trial, "agentflow": agentflow_trial, "sdk": sdk_trial}


# -- app.run vs raw httpx-sse on the Everruns emulator (each in its own process) ------------


def loop_scenario(burst: int) -> dict[str, Any]:
    """One turn: a short streamed message, then ``burst`` whole messages (turn.completed)."""
    return {"turns": [{"steps": [{"say": "Looking into it."}, {"burst": burst}]}]}


async def new_session(url: str) -> str:
    """A session on the emulator, made with plain httpx (not timed)."""
    import httpx

    async with httpx.AsyncClient(base_url=url, headers={"authorization": KEY}) as client:
        response = await client.post("/v1/sessions", json={})
        response.raise_for_status()
        return str(response.json()["id"])


async def raw_loop(url: str, burst: int) -> tuple[int, float, float]:
    import httpx
    from httpx_sse import aconnect_sse

    sid = await new_session(url)
    seen = 0

    def handler(obj: Any) -> None:
        nonlocal seen
        seen += 1

    handlers: dict[str, Any] = {}
    message = {"message": {"role": "user", "content": [{"type": "text", "text": "go"}]}}
    span = Span()
    async with httpx.AsyncClient(base_url=url, headers={"authorization": KEY}, timeout=60) as c:
        span.start()
        async with aconnect_sse(c, "GET", f"/v1/sessions/{sid}/sse") as source:
            (await c.post(f"/v1/sessions/{sid}/messages", json=message)).raise_for_status()
            async for sse in source.aiter_sse():
                if sse.event == "connected":
                    continue
                obj = json.loads(sse.data)
                handlers.setdefault(obj["type"], handler)(obj)
                if obj["type"] == "turn.completed":
                    break
        return span.done(seen)


async def app_run_loop(url: str, burst: int) -> tuple[int, float, float]:
    from agentflow import App
    from agentflow.everruns import EverrunsClient

    sid = await new_session(url)
    app = App(load_entrypoints=False)
    seen = 0

    @app.on("*")
    def handler(event: Any) -> None:
        nonlocal seen
        seen += 1

    span = Span()
    async with EverrunsClient(api_key=KEY, base_url=url) as client:
        assert client.http_client is not None  # built now, as raw's is before its clock
        span.start()
        result = await app.run(client, sid, send=["go"])
        got = span.done(seen)
    assert result.stop_reason == "end_turn", result.stop_reason
    return got


LOOP_TRIALS: dict[str, _loopback.Trial] = {"raw": raw_loop, "app-run": app_run_loop}


def child(kind: str, url: str, count: int, repeat: int) -> None:
    best: tuple[int, float, float] | None = None
    for _ in range(repeat):
        gc.collect()
        got = asyncio.run(TRIALS[kind](url, count))
        if got[0] != count:
            raise SystemExit(f"{kind}: saw {got[0]} events, expected {count}")
        if best is None or got[1] < best[1]:
            best = got
    assert best is not None
    print(json.dumps({"events": best[0], "seconds": best[1], "cpu": best[2]}))


# -- the parent ---------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--burst", type=int, default=10_000, help="messages, loopback rows")
    parser.add_argument("--rounds", type=int, default=9, help="loopback rounds")
    parser.add_argument("--child", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    parser.add_argument("--serve", type=int, metavar="EVENTS")
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run(serve(args.serve))
        return 0
    if args.child and args.child[0].startswith("loop-"):
        kind, url, burst = args.child
        _loopback.child(LOOP_TRIALS, kind, url, int(burst))
        return 0
    if args.child:
        kind, url, count, repeat = args.child
        child(kind, url, int(count), int(repeat))
        return 0
    header(
        "Everruns stream + dispatch: agentflow vs everruns-sdk 0.3.1 (and raw httpx-sse)",
        f"{args.events:,} events cycled from {FIXTURE.relative_to(ROOT)}, best of "
        f"{args.repeat} interleaved rounds, each client in its own process, the server in "
        "another",
    )
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__)), "--serve", str(args.events)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.startswith("url "):
            raise RuntimeError(f"the benchmark server did not start (got {line!r})")
        url = line.split()[1]
        rows: dict[str, dict[str, float]] = {}
        for _ in range(args.repeat):
            for kind in ("raw", "agentflow", "sdk"):
                got = run_child(__file__, kind, url, args.events, 1)
                best = rows.setdefault(kind, dict(got))
                best["seconds"] = min(best["seconds"], got["seconds"])
                best["cpu"] = min(best["cpu"], got["cpu"])
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    rate = {k: r["events"] / r["seconds"] for k, r in rows.items()}
    names = {
        "raw": "raw: httpx + httpx-sse + json.loads + dict call",
        "agentflow": "agentflow: events.stream + app.dispatch",
        "sdk": "everruns-sdk: events.stream + dict call",
    }
    table(
        [("client", "<"), ("events", ",d"), ("seconds", ".3f"), ("events/s", ",.0f"),
         ("x raw", ".2f"), ("x SDK", ".2f"), ("client CPU µs/event", ".2f")],
        [
            [names[k], r["events"], r["seconds"], rate[k], rate[k] / rate["raw"],
             rate[k] / rate["sdk"], r["cpu"] / r["events"] * 1e6]
            for k, r in rows.items()
        ],
    )  # fmt: skip
    print()
    ratio = rate["agentflow"] / rate["sdk"]
    cpu = (rows["sdk"]["cpu"] / rows["sdk"]["events"]) / (
        rows["agentflow"]["cpu"] / rows["agentflow"]["events"]
    )
    print(f"ratio agentflow / everruns-sdk: {ratio:.2f}x events per second (wall time)")
    ok = verdict("agentflow vs everruns-sdk, CPU per event", cpu, ">= 1x", cpu >= 1.0)
    print()
    print(
        f"Over loopback: the Everruns emulator in its own process, one turn of {args.burst:,} "
        f"messages; {args.rounds} interleaved rounds (best shown), each client in a fresh process"
    )
    loop = _loopback.measure(__file__, "everruns", loop_scenario(args.burst), args.burst,
                             args.rounds)  # fmt: skip
    ok &= _loopback.report(loop)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
