"""Messages API stream: decode + dispatch through agentflow vs the official SDK's MessageStream.

Run from the repository root (after ``pip install -e ".[dev]"``)::

    python bench/messages.py [--responses 200] [--sdk-responses 20] [--repeat 5]

The input is the recorded response in ``tests/fixtures/messages_stream.sse`` (thinking, text,
a 200-delta text burst and three parallel ``tool_use`` blocks whose input streams as JSON
fragments: 270 events), served as the body of every response. Rows are timed in
``--repeat`` interleaved rounds with this process's CPU time and the best round of each is
kept; the rate counts wire events (SSE frames) for every row. Rows:

- agentflow, in memory: ``SSEDecoder`` frames, ``parse_event``, the ``MessageBuilder`` that
  keeps the message (text joined, tool input parsed once per block, the whole message on
  ``message_stop``) and ``await app.dispatch(event, ctx)`` into an ``App`` with one
  ``@app.on("*")`` handler;
- agentflow, ``app.run``: the whole loop, one run per response, through ``MessagesClient``
  over an ``httpx.MockTransport`` serving the same bytes (request building, the channel, the
  run loop, the actions router; each run stops at ``message_stop``);
- official SDK ``MessageStream``: ``anthropic`` 2.10.0's ``client.messages.stream(...)``
  over an ``httpx2.MockTransport`` serving the same bytes, every event it yields (the wire's
  and its own ``text`` / ``input_json`` ones) handed to a function looked up by ``type``;
  its snapshot re-parses the partial tool JSON after every ``input_json_delta``;
- official SDK raw stream: ``messages.create(stream=True)`` (no snapshot), same handler.

Both sides build the same final message (checked before timing). Target: agentflow's
in-memory path >= 5x the SDK's MessageStream.

Then, over loopback (``bench/_loopback.py``): the Messages emulator
(``agentflow.testing.Emulator(dialect="messages")``) in its own process answers one
scenario, a short text block then one text block of ``--burst`` deltas (``end_turn``), and
two clients, each in a fresh process, read that same response; ``--rounds`` interleaved
rounds (9), best wall and best client CPU time shown, the target on the median of the
rounds' paired CPU ratios:

- raw (the baseline): ``httpx`` + ``httpx_sse.aconnect_sse`` posting the request,
  ``json.loads`` per event and a dict call, to ``message_stop``;
- agentflow: ``app.run(MessagesClient(...), Conversation(), send=["go"])`` with one
  ``@app.on("*")`` handler: request building, the stream, the message builder, the run loop
  and the actions router.

Target: app.run's client CPU per event >= 0.7x raw's (a ``MISS`` is printed as such).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _loopback
import httpx
import httpx2
from _common import header, interleaved_best, table, verdict
from _loopback import Span

from agentflow import App, Context
from agentflow.messages import Conversation, MessageBuilder, MessagesClient, parse_event
from agentflow.wire.sse import SSEDecoder

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "messages_stream.sse"
BODY = FIXTURE.read_bytes()
READ_SIZE = 65536
CHUNKS = [BODY[i : i + READ_SIZE] for i in range(0, len(BODY), READ_SIZE)]
EVENTS = len(SSEDecoder().feed(BODY))
PROMPT: list[Any] = [{"role": "user", "content": "What is the weather in São Paulo?"}]


def build_app(sink: Callable[[Any], None]) -> App:
    """An app with ``sink`` itself as its one ``@app.on("*")`` handler (a parameter named
    ``event``), so it calls the same function per event as the raw rows."""
    app = App(load_entrypoints=False)
    app.on("*")(sink)

    return app


async def agentflow_memory(app: App, responses: int) -> dict[str, Any] | None:
    ctx = Context(app=app)
    dispatch = app.dispatch
    message = None
    for _ in range(responses):
        decoder, builder = SSEDecoder(), MessageBuilder()
        add = builder.add
        for chunk in CHUNKS:
            for frame in decoder.feed(chunk):
                event = parse_event(frame.data)
                add(event)
                await dispatch(event, ctx)
        message = builder.message
    return message


def stream_response(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=BODY)


def stream_response2(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=BODY)


async def agentflow_run(app: App, client: MessagesClient, responses: int) -> str:
    text = ""
    for _ in range(responses):
        result = await app.run(
            client, Conversation(), send=["go"], until=lambda e: e.type == "message_stop"
        )
        text = result.text
    return text


async def sdk_message_stream(client: Any, call: Callable[[Any], None], responses: int) -> Any:
    table_: dict[str, Callable[[Any], None]] = {}
    message = None
    for _ in range(responses):
        async with client.messages.stream(model="m", max_tokens=64, messages=PROMPT) as stream:
            async for event in stream:
                handler = table_.get(event.type)
                if handler is None:
                    handler = table_[event.type] = call
                handler(event)
            message = await stream.get_final_message()
    return message


async def sdk_raw(client: Any, call: Callable[[Any], None], responses: int) -> None:
    table_: dict[str, Callable[[Any], None]] = {}
    for _ in range(responses):
        stream = await client.messages.create(
            model="m", max_tokens=64, messages=PROMPT, stream=True
        )
        async for event in stream:
            handler = table_.get(event.type)
            if handler is None:
                handler = table_[event.type] = call
            handler(event)


# -- over loopback: app.run vs raw httpx-sse on the emulator (each in its own process) -------

KEY = "bench-not-a-key"


def loop_scenario(burst: int) -> dict[str, Any]:
    """One turn: a short text block, then one text block of ``burst`` deltas (end_turn)."""
    return {"turns": [{"steps": [{"say": "Looking into it."}, {"burst": burst}]}], "usage": False}


async def raw_loop(url: str, burst: int) -> tuple[int, float, float]:
    from httpx_sse import aconnect_sse

    seen = 0

    def handler(obj: Any) -> None:
        nonlocal seen
        seen += 1

    handlers: dict[str, Callable[[Any], None]] = {}
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    body = {"model": "m", "max_tokens": 64, "messages": PROMPT, "stream": True}
    span = Span()
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        span.start()
        async with aconnect_sse(client, "POST", "/v1/messages", json=body) as source:
            async for sse in source.aiter_sse():
                obj = json.loads(sse.data)
                handlers.setdefault(obj["type"], handler)(obj)
                if obj["type"] == "message_stop":
                    break
        return span.done(seen)


async def app_run_loop(url: str, burst: int) -> tuple[int, float, float]:
    seen = [0]

    def handler(event: Any) -> None:
        seen[0] += 1

    app = build_app(handler)
    span = Span()
    async with MessagesClient(api_key=KEY, base_url=url, model="m", max_tokens=64) as client:
        assert client.http_client is not None  # built now, as raw's is before its clock
        span.start()
        result = await app.run(client, Conversation(), send=["go"])
        got = span.done(seen[0])
    assert result.stop_reason == "end_turn" and result.text.endswith(f" {burst - 1}"), result
    return got


LOOP_TRIALS: dict[str, _loopback.Trial] = {"raw": raw_loop, "app-run": app_run_loop}


async def measure(args: argparse.Namespace) -> bool:
    count = [0]

    def call(event: Any) -> None:  # named so an app takes it as its handler as it is
        count[0] += 1

    app = build_app(call)
    http = httpx.AsyncClient(transport=httpx.MockTransport(stream_response))
    ours = MessagesClient(
        api_key="bench-not-a-key", base_url="http://127.0.0.1:9", http_client=http,
        model="m", max_tokens=64,
    )  # fmt: skip
    from anthropic import AsyncAnthropic  # only in this process: the loopback children skip it

    http2 = httpx2.AsyncClient(transport=httpx2.MockTransport(stream_response2))
    sdk = AsyncAnthropic(
        api_key="bench-not-a-key", base_url="http://127.0.0.1:9", http_client=http2,
        max_retries=0,
    )  # fmt: skip

    # Not timed: both sides build the same message from the same bytes.
    built = await agentflow_memory(app, 1)
    final = await sdk_message_stream(sdk, call, 1)
    expected = final.model_dump(mode="json", exclude_none=True)
    assert built is not None and built["content"] == expected["content"], "messages differ"
    assert (await agentflow_run(app, ours, 1)).startswith("token 0")
    gc.collect()
    gc.freeze()  # the SDK's import leaves ~100k objects the collector would keep walking

    n, m = args.responses, args.sdk_responses
    paths: list[tuple[str, int, Callable[[], object]]] = [
        ("agentflow: frames + parse_event + builder + dispatch", n,
         lambda: agentflow_memory(app, n)),
        ("agentflow: app.run per response (mock transport)", m,
         lambda: agentflow_run(app, ours, m)),
        ("official SDK: messages.stream (MessageStream)", m,
         lambda: sdk_message_stream(sdk, call, m)),
        ("official SDK: messages.create(stream=True), raw", m,
         lambda: sdk_raw(sdk, call, m)),
    ]  # fmt: skip
    best = await interleaved_best(args.repeat, [body for _, _, body in paths])
    await http.aclose()
    await sdk.close()
    rows = [(name, k * EVENTS, s) for (name, k, _), s in zip(paths, best, strict=True)]
    rates = {name: k / s for name, k, s in rows}
    sdk_rate = rates[rows[2][0]]
    columns = [
        ("path", "<"),
        ("events", ",d"),
        ("events/s", ",.0f"),
        ("µs/event", ".2f"),
        ("x MessageStream", ".1f"),
    ]
    table(columns, [(name, k, k / s, s / k * 1e6, (k / s) / sdk_rate) for name, k, s in rows])
    print()
    ratio = rates[rows[0][0]] / sdk_rate
    ok = verdict("agentflow in memory / SDK MessageStream", ratio, ">= 5", ratio >= 5)
    loop = rates[rows[1][0]] / sdk_rate
    ok &= verdict("agentflow app.run / SDK MessageStream", loop, ">= 2", loop >= 2)
    return ok


def loopback(args: argparse.Namespace) -> bool:
    print()
    print(
        f"Over loopback: the Messages emulator in its own process, one response of "
        f"{args.burst:,} text deltas; {args.rounds} interleaved rounds (best shown), "
        "each client in a fresh process"
    )
    rows = _loopback.measure(__file__, "messages", loop_scenario(args.burst), args.burst,
                             args.rounds)  # fmt: skip
    return _loopback.report(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=200)
    parser.add_argument("--sdk-responses", type=int, default=20)
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
    # The recorded response names tools this app does not have: the router's warning about
    # each one left unanswered is not what is measured.
    logging.getLogger("agentflow").setLevel(logging.ERROR)
    header(
        "Messages stream: decode + dispatch (the recorded response, from memory)",
        f"{EVENTS} events per response; agentflow in memory {args.responses} responses, the "
        f"other rows {args.sdk_responses}; best of {args.repeat} interleaved rounds, CPU time",
    )
    ok = asyncio.run(measure(args))
    ok &= loopback(args)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
