"""m8tes stream throughput: agentflow's run stream + dispatch vs the m8tes SDK's parser.

Run from the repository root (after ``pip install -e ".[dev]"``)::

    python bench/m8tes.py [--copies 300] [--sdk-copies 100] [--repeat 5]

The input is ``tests/fixtures/m8tes_stream.sse``: the exact body of one streaming m8tes run
(data-only SSE frames: reasoning, text, tool calls with argument fragments, an MCP call, a
300-delta burst, metrics, ``done``, ``[DONE]``), repeated ``--copies`` times and cut into
64 KiB reads. The m8tes SDK (4.49.0, a test-only client) is imported from ``.cache/`` as the
tests install it (``tests/testing/m8tes_sdk.py``). Rows, timed with this process's CPU time
in ``--repeat`` interleaved rounds (best round kept):

- floor: split the bytes on blank lines, ``json.loads`` the ``data:`` payload, call a
  function looked up by ``type`` in a dict;
- agentflow: ``RunStream`` over the bytes (SSE framing, ``parse_frame`` into typed
  models, positions and ids, the accumulator that gives a block its text and a tool call
  its input, gate and end tracking) and ``await app.dispatch(event, ctx)`` into an ``App``
  with one ``@app.on("*")`` handler; the row below it is the stream alone;
- m8tes SDK parser: ``AISDKStreamParser.parse_stream`` over a ``requests.Response`` holding
  the same bytes (``iter_lines``, its frame split, ``json.loads``, ``StreamEvent.from_dict``
  into dataclasses), then the same dict call on ``.type``;
- m8tes SDK RunStream: what SDK users iterate: the parser plus its accumulator and its gate
  and end tracking.

Targets: agentflow (typed, positioned, accumulated, dispatched) >= 1.0x the SDK's RunStream
(what SDK users iterate: parsed, accumulated, tracked, handed to a loop body), and >= 0.8x
the SDK's bare parser, which does none of that beyond the parse.

Then, over loopback (``bench/_loopback.py``): the m8tes emulator
(``agentflow.testing.Emulator(dialect="m8tes")``) in its own process; each trial makes a run
whose first turn says one line (plain httpx, not timed), then replies to it, and the reply's
turn streams ``--burst`` text deltas. Two clients, each in a fresh process, follow the
reply; ``--rounds`` interleaved rounds (9), best wall and best client CPU time shown, the target
on the median of the rounds' paired CPU ratios:

- raw (the baseline): ``aconnect_sse`` posting ``/runs/{id}/reply`` (``stream: true``),
  ``json.loads`` per frame and a dict call, to ``[DONE]``;
- agentflow: ``app.run(M8tesClient(...), run_id, send=["go"])`` with one ``@app.on("*")``
  handler: the reply's stream, typed events, the run loop, the actions router.

Target: app.run's client CPU per event >= 0.7x raw's (a ``MISS`` is printed as such).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import io
import json
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import _loopback
import httpx
from _common import ROOT, chunked, header, interleaved_best, table, verdict
from _loopback import Span

from agentflow import App, Context
from agentflow.m8tes import M8tesClient, RunStream

FIXTURE = ROOT / "tests" / "fixtures" / "m8tes_stream.sse"
READ_SIZE = 65536


def load_sdk() -> Any:
    """m8tes 4.49.0 from ``.cache/`` (installed there on first use, as the tests do)."""
    sys.path.insert(0, str(Path(ROOT / "tests" / "testing")))
    # (by name: to a type checker run over bench/, "m8tes" is this script)
    return importlib.import_module("m8tes_sdk").load_m8tes()


class _Chunks(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


def _response(chunks: list[bytes]) -> httpx.Response:
    headers = {"content-type": "text/event-stream", "x-run-id": "1"}
    return httpx.Response(200, headers=headers, stream=_Chunks(chunks))


def floor(body: bytes, call: Callable[[Any], None]) -> None:
    handlers: dict[str, Callable[[Any], None]] = {}
    buf = b""
    for chunk in chunked(body, READ_SIZE):
        buf += chunk
        pos = 0
        end = buf.find(b"\n\n")
        while end >= 0:
            payload = buf[pos + 6 : end]
            pos = end + 2
            end = buf.find(b"\n\n", pos)
            if payload == b"[DONE]":
                continue
            obj = json.loads(payload.decode())
            handler = handlers.get(obj["type"])
            if handler is None:
                handler = handlers[obj["type"]] = call
            handler(obj)
        buf = buf[pos:]


def _requests_response(body: bytes) -> Any:
    import requests

    response = requests.Response()
    response.status_code = 200
    response.raw = io.BytesIO(body)
    response.headers["X-Run-Id"] = "1"
    return response


def sdk_parser(body: bytes, call: Callable[[Any], None]) -> None:
    AISDKStreamParser = importlib.import_module("m8tes.streaming").AISDKStreamParser

    handlers: dict[str, Callable[[Any], None]] = {}
    for event in AISDKStreamParser.parse_stream(_requests_response(body)):
        handler = handlers.get(event.type)
        if handler is None:
            handler = handlers[event.type] = call
        handler(event)


def sdk_run_stream(body: bytes, call: Callable[[Any], None]) -> None:
    SDKRunStream = importlib.import_module("m8tes").RunStream

    handlers: dict[str, Callable[[Any], None]] = {}
    for event in SDKRunStream(_requests_response(body)):
        handler = handlers.get(event.type)
        if handler is None:
            handler = handlers[event.type] = call
        handler(event)


def build_app(sink: Callable[[Any], None]) -> App:
    """An app with ``sink`` itself as its one ``@app.on("*")`` handler (a parameter named
    ``event``), so it calls the same function per event as the raw rows."""
    app = App()
    app.load_entrypoints = False
    app.on("*")(sink)

    return app


async def agentflow_path(client: M8tesClient, chunks: list[bytes], app: App | None) -> int:
    stream = RunStream(client.runs._http, 1, response=_response(chunks))
    ctx = Context(app=app)
    count = 0
    if app is None:
        async for _event in stream:
            count += 1
        return count
    dispatch = app.dispatch
    async for event in stream:
        await dispatch(event, ctx)
        count += 1
    return count


# -- app.run vs raw httpx-sse on the m8tes emulator (each in its own process) ---------------

KEY = "bench-not-a-key"
AUTH = {"authorization": f"Bearer {KEY}"}


def loop_scenario(burst: int) -> dict[str, Any]:
    """The run's first turn says one line; the reply's turn streams ``burst`` text deltas."""
    return {"turns": [{"steps": [{"say": "Ready."}]}, {"steps": [{"burst": burst}]}]}


async def new_run(url: str) -> int:
    """A run whose first turn has ended, made with plain httpx (not timed)."""
    from httpx_sse import aconnect_sse

    async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=60) as client:
        body = {"message": "hello", "stream": True}
        async with aconnect_sse(client, "POST", "/runs", json=body) as source:
            run_id = int(source.response.headers["x-run-id"])
            async for sse in source.aiter_sse():
                if sse.data == "[DONE]":
                    break
    return run_id


async def raw_loop(url: str, burst: int) -> tuple[int, float, float]:
    from httpx_sse import aconnect_sse

    run_id = await new_run(url)
    seen = 0

    def handler(obj: Any) -> None:
        nonlocal seen
        seen += 1

    handlers: dict[str, Callable[[Any], None]] = {}
    span = Span()
    async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=60) as client:
        span.start()
        body = {"message": "go", "stream": True}
        async with aconnect_sse(client, "POST", f"/runs/{run_id}/reply", json=body) as source:
            async for sse in source.aiter_sse():
                if sse.data == "[DONE]":
                    break
                obj = json.loads(sse.data)
                handlers.setdefault(obj["type"], handler)(obj)
        return span.done(seen)


async def app_run_loop(url: str, burst: int) -> tuple[int, float, float]:
    run_id = await new_run(url)
    seen = [0]
    app = build_app(lambda event: seen.__setitem__(0, seen[0] + 1))
    span = Span()
    async with M8tesClient(api_key=KEY, base_url=url) as client:
        assert client.http_client is not None  # built now, as raw's is before its clock
        span.start()
        result = await app.run(client, run_id, send=["go"])
        got = span.done(seen[0])
    assert result.stop_reason == "end_turn", result.stop_reason
    return got


LOOP_TRIALS: dict[str, _loopback.Trial] = {"raw": raw_loop, "app-run": app_run_loop}


async def measure(args: argparse.Namespace) -> bool:
    load_sdk()
    one = FIXTURE.read_bytes()
    frames_per_copy = sum(1 for f in one.split(b"\n\n") if f.strip() and f != b"data: [DONE]")
    body = one * args.copies
    sdk_body = one * args.sdk_copies
    chunks = chunked(body, READ_SIZE)
    client = M8tesClient(api_key="bench-not-a-key", base_url="http://127.0.0.1:9/api/v2")

    # every path sees the same frames (not timed)
    seen: list[str] = []
    probe = build_app(lambda event: seen.append(event.type))
    assert await agentflow_path(client, chunked(one, 1000), probe) == frames_per_copy
    sdk_seen: list[Any] = []
    sdk_parser(one, sdk_seen.append)
    assert [str(e.type) for e in sdk_seen if e.raw] == seen, "the SDK saw other frames"

    count = [0]

    def call(event: Any) -> None:  # named so an app takes it as its handler as it is
        count[0] += 1

    app = build_app(call)
    n, m = frames_per_copy * args.copies, frames_per_copy * args.sdk_copies
    paths: list[tuple[str, int, Callable[[], object]]] = [
        ("floor: split + json.loads + dict call", n, lambda: floor(body, call)),
        ("agentflow: RunStream + app.dispatch", n, lambda: agentflow_path(client, chunks, app)),
        ("  agentflow RunStream alone", n, lambda: agentflow_path(client, chunks, None)),
        ("m8tes SDK parser + dict call", m, lambda: sdk_parser(sdk_body, call)),
        ("m8tes SDK RunStream + dict call", m, lambda: sdk_run_stream(sdk_body, call)),
    ]  # fmt: skip
    best = await interleaved_best(args.repeat, [body for _, _, body in paths])
    await client.aclose()
    rows = [(name, k, seconds) for (name, k, _), seconds in zip(paths, best, strict=True)]
    rates = {name: k / seconds for name, k, seconds in rows}
    parser_rate = rates[rows[3][0]]
    floor_rate = rates[rows[0][0]]
    columns = [
        ("path", "<"),
        ("frames", ",d"),
        ("frames/s", ",.0f"),
        ("µs/frame", ".2f"),
        ("x floor", ".2f"),
        ("x SDK parser", ".2f"),
        ("x SDK RunStream", ".2f"),
    ]
    sdk_rate = rates[rows[4][0]]
    table(
        columns,
        [
            (name, k, k / s, s / k * 1e6, (k / s) / floor_rate, (k / s) / parser_rate,
             (k / s) / sdk_rate)
            for name, k, s in rows
        ],
    )  # fmt: skip
    ours = rates[rows[1][0]]
    print()
    ok = verdict("agentflow / m8tes SDK RunStream", ours / sdk_rate, ">= 1.0", ours >= sdk_rate)
    ok &= verdict("agentflow / m8tes SDK parser", ours / parser_rate, ">= 0.8",
                  ours / parser_rate >= 0.8)  # fmt: skip
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=300)
    parser.add_argument("--sdk-copies", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--burst", type=int, default=30_000, help="deltas, loopback rows")
    parser.add_argument("--rounds", type=int, default=9, help="loopback rounds")
    parser.add_argument(
        "--child", nargs=3, metavar=("KIND", "URL", "BURST"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        kind, url, burst = args.child
        _loopback.child(LOOP_TRIALS, kind, url, int(burst))
        return 0
    header(
        "m8tes stream throughput (recorded run, bytes in memory -> handler)",
        f"{FIXTURE.name} x {args.copies} (SDK: x {args.sdk_copies}) in {READ_SIZE // 1024} KiB "
        f"reads, best of {args.repeat} interleaved rounds, CPU time",
    )
    ok = asyncio.run(measure(args))
    print()
    print(
        f"Over loopback: the m8tes emulator in its own process, a reply whose turn streams "
        f"{args.burst:,} text deltas; {args.rounds} interleaved rounds (best shown), "
        "each client in a fresh process"
    )
    rows = _loopback.measure(__file__, "m8tes", loop_scenario(args.burst), args.burst,
                             args.rounds)  # fmt: skip
    ok &= _loopback.report(rows)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
