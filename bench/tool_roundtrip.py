"""Tool round trip: from the ``requires_action`` idle to the posted replies, four slow tools.

Run from the repository root (after ``pip install -e ".[dev]"``)::

    python bench/tool_roundtrip.py [--repeat 3] [--sleep 0.2]

The emulator runs in its own process (``bench/_server.py``) with one scenario: the agent
calls four custom tools at once (``tool_1`` … ``tool_4``, one ``requires_action`` idle naming
all four), then says "done". Each tool sleeps ``--sleep`` seconds (200 ms) and returns a
short text. The round trip is read from the server's own history: from the
``processed_at`` of the ``requires_action`` idle to that of the last
``user.custom_tool_result`` stored (the emulator's clock, millisecond resolution). Clients:

- agentflow: ``app.run(client, sid, send=[user_message(...)])`` with four ``@app.tool``
  functions, async (``await asyncio.sleep``) or sync (``time.sleep``, run in threads);
- the official SDK's ``SessionToolRunner`` (``client.beta.sessions.events.tool_runner``) with
  the same four tools as ``beta_async_tool`` / ``beta_tool``; it runs calls one at a time.
  The message is sent once the runner's stream is open; ``max_idle=0.2`` ends the runner
  0.2 s after the turn-ending idle.

Each client runs ``--repeat`` sessions; the table shows the median and the best. Target:
agentflow (async tools) at most 0.4x the SDK runner (async tools).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from _common import ServerHandle, header, server_process, table, verdict

from agentflow import App, ManagedAgentsClient, user_message
from agentflow.events import SessionStatusIdle

TOOLS = ("tool_1", "tool_2", "tool_3", "tool_4")
SCENARIO = {
    "turns": [
        {
            "steps": [
                {"say": "Looking things up."},
                *({"custom_tool": {"name": name, "input": {"key": name}}} for name in TOOLS),
                {"say": "done"},
            ]
        }
    ],
    "usage": False,
}


def make_tool(name: str, seconds: float, is_async: bool) -> Callable[..., Any]:
    if is_async:

        async def run_async(key: str) -> str:
            await asyncio.sleep(seconds)
            return f"{name}: value of {key}"

        fn: Callable[..., Any] = run_async
    else:

        def run_sync(key: str) -> str:
            time.sleep(seconds)
            return f"{name}: value of {key}"

        fn = run_sync
    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = f"Look a key up ({name})."
    return fn


async def agentflow_trial(srv: ServerHandle, sid: str, seconds: float, is_async: bool) -> None:
    app = App()
    app.load_entrypoints = False
    for name in TOOLS:
        app.tool(make_tool(name, seconds, is_async))
    async with ManagedAgentsClient(api_key=srv.api_key, base_url=srv.base_url) as client:
        result = await app.run(client, sid, send=[user_message("go")])
    assert result.stop_reason == "end_turn" and result.text == "done", result
    assert [c.outcome for c in result.tool_calls] == ["ok"] * 4, result.tool_calls


async def sdk_trial(srv: ServerHandle, sid: str, seconds: float, is_async: bool) -> None:
    from anthropic import AsyncAnthropic
    from anthropic.lib.tools import beta_async_tool, beta_tool

    wrap = beta_async_tool if is_async else beta_tool
    tools = [wrap(make_tool(name, seconds, is_async)) for name in TOOLS]
    async with AsyncAnthropic(api_key=srv.api_key, base_url=srv.base_url) as client:
        # max_idle: the runner ends by itself shortly after the turn-ending idle
        runner = client.beta.sessions.events.tool_runner(sid, tools=tools, max_idle=0.2)

        async def drive() -> int:
            done = 0
            async for call in runner:
                assert call.posted and not call.is_error, call
                done += 1
            return done

        task = asyncio.create_task(drive())
        # the runner opens its stream first; send the message once the server sees it
        await asyncio.to_thread(srv.command, "wait_streams", sid, 1)
        await client.beta.sessions.events.send(
            session_id=sid,
            events=[user_message("go")],  # type: ignore[list-item]
        )
        assert await task == len(TOOLS)


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def round_trip(srv: ServerHandle, sid: str) -> float:
    """Seconds from the requires_action idle to the last stored tool result."""
    async with ManagedAgentsClient(api_key=srv.api_key, base_url=srv.base_url) as client:
        history = [e async for e in client.events.list(sid)]
    idle = next(
        e
        for e in history
        if isinstance(e, SessionStatusIdle) and e.stop_reason.type == "requires_action"
    )
    assert len(idle.stop_reason.event_ids or ()) == len(TOOLS)
    results = [e for e in history if e.type == "user.custom_tool_result"]
    assert len(results) == len(TOOLS), [e.type for e in history]
    end = max(_ts(str(e.processed_at)) for e in results)
    return (end - _ts(str(idle.processed_at))).total_seconds()


Trial = Callable[[ServerHandle, str, float, bool], Coroutine[Any, Any, None]]
CLIENTS: list[tuple[str, Trial, bool]] = [
    ("agentflow app.run, async tools", agentflow_trial, True),
    ("agentflow app.run, sync tools (threads)", agentflow_trial, False),
    ("official SDK SessionToolRunner, async tools", sdk_trial, True),
    ("official SDK SessionToolRunner, sync tools", sdk_trial, False),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sleep", type=float, default=0.2)
    args = parser.parse_args(argv)
    header(
        "tool round trip: requires_action idle -> last reply stored (emulator in another process)",
        f"4 custom tools called at once, each sleeping {args.sleep * 1000:g} ms; "
        f"{args.repeat} sessions per client",
    )
    import anthropic  # noqa: F401  (import cost kept out of the runs)

    times: dict[str, list[float]] = {name: [] for name, _, _ in CLIENTS}
    with server_process("--scenario", json.dumps(SCENARIO)) as srv:
        for _ in range(args.repeat):
            for name, trial, is_async in CLIENTS:
                sid = srv.command("session")
                asyncio.run(trial(srv, sid, args.sleep, is_async))
                times[name].append(asyncio.run(round_trip(srv, sid)))
    sdk = statistics.median(times[CLIENTS[2][0]])
    table(
        [
            ("client", "<"),
            ("median ms", ".0f"),
            ("best ms", ".0f"),
            ("sum of sleeps ms", ".0f"),
            ("x SDK (async)", ".2f"),
        ],
        [
            (
                name,
                statistics.median(t) * 1000,
                min(t) * 1000,
                4 * args.sleep * 1000,
                statistics.median(t) / sdk,
            )
            for name, t in times.items()
        ],
    )
    print()
    ratio = statistics.median(times[CLIENTS[0][0]]) / sdk
    ok = verdict("agentflow / SDK runner (async tools, median)", ratio, "<= 0.4", ratio <= 0.4)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
