"""Decode + dispatch throughput, from SSE bytes to a handler call, without a network.

Run from the repository root (after ``pip install -e ".[dev]"``)::

    python bench/decode_dispatch.py [--events 20000] [--sdk-events 2000] [--repeat 41]

The input is the SSE body a Managed Agents server sends (``event: <type>`` + ``data: <json>``)
for the 99 events of ``tests/fixtures/managed_agents_events.jsonl`` (all 44 types), cycled to
``--events`` and cut into 64 KiB reads. Every row turns those bytes into one handler call per
event. Rows are timed in ``--repeat`` short interleaved rounds (a fraction of a second each)
with this process's CPU time (``time.process_time``: a noisy neighbour's process does not
count). The table gives each row's best round; each ratio is the median over the rounds of
the two rows' times in that round, which ran back to back: on a shared host whose speed
drifts over seconds, two bests taken in different rounds can be a third apart for the same
code, while the rows of one round saw the same machine. Rows:

- floor: split the bytes on blank lines, decode the ``data:`` line and ``json.loads`` it,
  call a function looked up by ``type`` in a dict. The least any SSE consumer can do (the
  fastest of the variants tried: ``json.loads`` on bytes, or on incrementally decoded text,
  is slower).
- httpx-sse + json.loads: httpx's text decoder and ``httpx_sse``'s line and event decoders,
  as ``EventSource.aiter_sse`` chains them (minus its async steps), then the same dict call.
- agentflow: ``agentflow.transport``'s ``SSEDecoder`` (frames cut from bytes), ``parse_event``
  (typed, validated pydantic models) and ``await app.dispatch(event, ctx)`` into an ``App``
  with one ``@app.on("*")`` handler: the same function the other rows call. The two rows
  below it are its first steps alone.
- official SDK: ``anthropic`` 2.10.0's own stream path per event: its ``SSEDecoder``, then
  ``sse.json()`` and ``client._process_response_data(cast_to=BetaManagedAgentsStreamSession
  Events)`` (``construct_type`` on the 44-member union), exactly as ``Stream.__stream__``
  does; then the same dict call on ``.type``. It runs on ``--sdk-events`` events (it is slow).

Targets: agentflow >= 0.8x the floor and >= 8x the official SDK. What OpenTelemetry tracing
adds to the agentflow row (and to ``app.run``) is measured by ``bench/telemetry.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from typing import Any

from _common import (
    chunked,
    cycled,
    fixture_lines,
    header,
    interleaved_times,
    paired_ratio,
    sse_bytes,
    table,
    verdict,
)
from httpx._decoders import TextDecoder
from httpx_sse._decoders import SSEDecoder as HttpxSSEDecoder
from httpx_sse._decoders import SSELineDecoder

from agentflow import App, Context
from agentflow.events import parse_event
from agentflow.wire.sse import SSEDecoder

READ_SIZE = 65536


def floor(chunks: list[bytes], call: Callable[[Any], None]) -> None:
    table: dict[str, Callable[[Any], None]] = {}
    buf = b""
    for chunk in chunks:
        buf += chunk
        pos = 0
        end = buf.find(b"\n\n")
        while end >= 0:
            start = buf.find(b"\ndata: ", pos, end)
            # json.loads(str) is faster than json.loads(bytes), which detects the encoding
            obj = json.loads(buf[start + 7 : end].decode())
            handler = table.get(obj["type"])
            if handler is None:
                handler = table[obj["type"]] = call
            handler(obj)
            pos = end + 2
            end = buf.find(b"\n\n", pos)
        buf = buf[pos:]


def httpx_sse_path(chunks: list[bytes], call: Callable[[Any], None]) -> None:
    # what EventSource.aiter_sse does: aiter_text -> SSELineDecoder -> SSEDecoder per line
    text, lines, sse = TextDecoder(), SSELineDecoder(), HttpxSSEDecoder()
    table: dict[str, Callable[[Any], None]] = {}
    for chunk in chunks:
        for line in lines.decode(text.decode(chunk)):
            message = sse.decode(line.rstrip("\n"))
            if message is None:
                continue
            obj = json.loads(message.data)
            handler = table.get(obj["type"])
            if handler is None:
                handler = table[obj["type"]] = call
            handler(obj)


def sdk_path(chunks: list[bytes], call: Callable[[Any], None]) -> None:
    from anthropic._streaming import SSEDecoder as SDKDecoder

    process, cast_to = SDK_PROCESS
    table: dict[str, Callable[[Any], None]] = {}
    for sse in SDKDecoder().iter_bytes(iter(chunks)):
        # The filters of anthropic._streaming.Stream.__stream__, in its order.
        if sse.event == "ping" or sse.event is None:
            continue
        if sse.event == "error":
            raise RuntimeError(sse.data)
        if not sse.data:
            continue
        obj = process(data=sse.json(), cast_to=cast_to, response=None)
        handler = table.get(obj.type)
        if handler is None:
            handler = table[obj.type] = call
        handler(obj)


SDK_PROCESS: tuple[Callable[..., Any], Any] = (lambda **kw: None, None)


def load_sdk() -> None:
    global SDK_PROCESS
    from anthropic import Anthropic
    from anthropic.types.beta.sessions import BetaManagedAgentsStreamSessionEvents

    client = Anthropic(api_key="bench-not-a-key", base_url="http://127.0.0.1:9")
    SDK_PROCESS = (client._process_response_data, BetaManagedAgentsStreamSessionEvents)


def build_app(sink: Callable[[Any], None]) -> App:
    """An app with ``sink`` itself as its one ``@app.on("*")`` handler (a parameter named
    ``event``), so every row calls the same function once per event."""
    app = App()
    app.on("*")(sink)
    return app


async def agentflow_path(chunks: list[bytes], app: App) -> None:
    ctx = Context(app=app)
    decoder = SSEDecoder()
    dispatch = app.dispatch
    for chunk in chunks:
        for frame in decoder.feed(chunk):
            await dispatch(parse_event(frame.data), ctx)


def frames_only(chunks: list[bytes]) -> None:
    decoder = SSEDecoder()
    for chunk in chunks:
        decoder.feed(chunk)


def frames_and_decode(chunks: list[bytes]) -> None:
    decoder = SSEDecoder()
    for chunk in chunks:
        for frame in decoder.feed(chunk):
            parse_event(frame.data)


def type_of(obj: Any) -> str:
    return str(obj["type"] if isinstance(obj, dict) else obj.type)


async def check_same_events(chunks: list[bytes], expected: list[str]) -> None:
    """Every path delivers the same event types in the same order (not timed)."""
    paths: list[tuple[str, Callable[[list[bytes], Callable[[Any], None]], None]]] = [
        ("floor", floor),
        ("httpx-sse", httpx_sse_path),
        ("sdk", sdk_path),
    ]
    for name, run in paths:
        seen: list[str] = []

        def note(obj: Any, seen: list[str] = seen) -> None:
            seen.append(type_of(obj))

        run(chunks, note)
        assert seen == expected, name
    seen = []
    app = build_app(lambda event: seen.append(event.type))
    await agentflow_path(chunks, app)
    assert seen == expected, "agentflow"


async def measure(args: argparse.Namespace) -> bool:
    lines = fixture_lines()
    events = cycled(lines, args.events)
    sdk_events = cycled(lines, args.sdk_events)
    chunks = chunked(sse_bytes(events), READ_SIZE)
    sdk_chunks = chunked(sse_bytes(sdk_events), READ_SIZE)
    load_sdk()
    await check_same_events(
        chunked(sse_bytes(lines * 3), 1000), [type_of(json.loads(x)) for x in lines * 3]
    )

    count = [0]

    def call(event: Any) -> None:  # named so an app can take it as its handler as it is
        count[0] += 1

    app = build_app(call)
    r = args.repeat
    n, m = len(events), len(sdk_events)
    paths: list[tuple[str, int, Callable[[], object]]] = [
        ("floor: split + json.loads + dict call", n, lambda: floor(chunks, call)),
        ("httpx-sse decoders + json.loads + dict call", n, lambda: httpx_sse_path(chunks, call)),
        ("agentflow: frames + parse_event + app.dispatch", n, lambda: agentflow_path(chunks, app)),
        ("  agentflow SSE framing only", n, lambda: frames_only(chunks)),
        ("  agentflow framing + parse_event", n, lambda: frames_and_decode(chunks)),
        ("official SDK stream decoding + dict call", m, lambda: sdk_path(sdk_chunks, call)),
    ]  # fmt: skip
    times = await interleaved_times(r, [body for _, _, body in paths])
    assert count[0] == r * (3 * n + len(sdk_events)), count
    # seconds per event, per round: rows of different event counts compare round by round
    per_event = [[t / k for t in row] for (_, k, _), row in zip(paths, times, strict=True)]
    floor_times, sdk_times = per_event[0], per_event[-1]
    columns = [
        ("path", "<"),
        ("events", ",d"),
        ("events/s (best)", ",.0f"),
        ("µs/event (best)", ".2f"),
        ("x floor", ".2f"),
        ("x SDK", ".1f"),
    ]
    table(
        columns,
        [
            (
                name,
                k,
                1 / min(row),
                min(row) * 1e6,
                paired_ratio(floor_times, row),
                paired_ratio(sdk_times, row),
            )
            for (name, k, _), row in zip(paths, per_event, strict=True)
        ],
    )
    ours = per_event[2]
    vs_floor, vs_sdk = paired_ratio(floor_times, ours), paired_ratio(sdk_times, ours)
    spread = sorted(f / o for f, o in zip(floor_times, ours, strict=True))
    print(f"\nagentflow / floor over the {r} rounds: {spread[0]:.2f} to {spread[-1]:.2f}")
    print()
    ok = verdict("agentflow / floor", vs_floor, ">= 0.8", vs_floor >= 0.8)
    ok &= verdict("agentflow / official SDK", vs_sdk, ">= 8", vs_sdk >= 8)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per row and round")
    parser.add_argument("--sdk-events", type=int, default=2_000, help="the SDK row's, per round")
    parser.add_argument("--repeat", type=int, default=41, help="interleaved rounds")
    args = parser.parse_args(argv)
    header(
        "decode + dispatch throughput (bytes in memory -> handler)",
        f"{args.events:,} events (SDK: {args.sdk_events:,}) in {READ_SIZE // 1024} KiB reads, "
        f"{args.repeat} interleaved rounds, CPU time; ratios: median over rounds",
    )
    return 0 if asyncio.run(measure(args)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
