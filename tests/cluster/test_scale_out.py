"""Scale-out end to end, with real processes: 3 ``agentflow worker`` processes, the
``agentflow webhooks`` receiver, a real redis-server and the Managed Agents emulator sending
signed webhooks (20 % delivered twice) for 100 sessions that each call two custom tools.

One worker is SIGKILLed in the middle of a tool; another is paused past its lease (its event
loop blocked inside a tool, then SIGSTOP) and resumed once its session was taken over.
Every session still ends its turn, every tool call gets exactly one reply, the tool that is
not idempotent never runs twice, and the resumed worker's writes are refused.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import redis.asyncio as aioredis
from support import Process, keyspace_watch
from test_webhooks import SECRET

from agentflow import user_message
from agentflow.cluster import Keys, RedisCheckpointStore, WakeQueue
from agentflow.testing import CustomTool, Emulator, Say, Scenario, Turn

HERE = Path(__file__).resolve().parent
SESSIONS = 100
LEASE_TTL = 1.0
SCENARIO = Scenario(
    [
        Turn(
            [
                Say("Let me check."),
                CustomTool("lookup", {"city": "Paris"}),
                CustomTool("charge", {"amount": 3}),
                Say("All done."),
            ]
        )
    ]
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    procs: list[Process] = []
    yield procs
    for proc in procs:
        proc.stop()
        print(f"--- {proc.name} (exit {proc.proc.returncode}), last lines:")
        print("\n".join(proc.lines[-15:]))


def _by_call(history: list[dict[str, Any]]) -> tuple[dict[str, str], Counter[str]]:
    calls = {e["id"]: e["name"] for e in history if e["type"] == "agent.custom_tool_use"}
    replies = Counter(
        e["custom_tool_use_id"] for e in history if e["type"] == "user.custom_tool_result"
    )
    return calls, replies


def _reply_text(history: list[dict[str, Any]], call_id: str) -> str:
    [reply] = [
        e
        for e in history
        if e["type"] == "user.custom_tool_result" and e["custom_tool_use_id"] == call_id
    ]
    return "".join(block["text"] for block in reply["content"])


@pytest.mark.slow
async def test_three_workers_survive_a_kill_and_a_zombie_answering_each_call_once(
    redis_url: str, aredis: aioredis.Redis, processes: list[Process]
) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "AGENTFLOW_REDIS_URL": redis_url}
    env |= {"AGENTFLOW_WEBHOOK_SECRET": SECRET, "SCALE_SLOW_SECONDS": "0.2"}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    agentflow = [sys.executable, "-m", "agentflow"]
    with anyio.fail_after(150):
        async with (
            Emulator(
                SCENARIO,
                webhook_url=f"http://127.0.0.1:{port}/",
                webhook_secret=SECRET,
                webhook_duplicates=0.2,
                webhook_concurrency=8,  # as real senders, several at once
            ) as emu,
            anyio.create_task_group() as tg,
        ):
            env |= {"ANTHROPIC_API_KEY": emu.api_key, "ANTHROPIC_BASE_URL": emu.base_url}
            receiver = Process("webhooks", [*agentflow, "webhooks", "--port", str(port)], env)
            processes.append(receiver)
            workers = [
                Process(
                    name,
                    [*agentflow, "worker", "--app", "scale_app:app", "--name", name]
                    + [
                        "--lease-ttl",
                        str(LEASE_TTL),
                        "--concurrency",
                        "16",
                        "--sweep-interval",
                        "2",
                    ],
                    env,
                )
                for name in ("w1", "w2", "w3")
            ]
            processes.extend(workers)
            for proc in processes:
                tg.start_soon(proc.follow)
            victim, zombie, survivor = workers
            # Each of two workers will hold its first `charge` call (see scale_app).
            await aredis.set(f"hold:{victim.pid}", "async")
            await aredis.set(f"hold:{zombie.pid}", "sync")
            assert "listening on" in await receiver.first_line()

            sessions = [emu.create_session() for _ in range(SESSIONS)]
            for sid in sessions:
                emu.send(sid, [user_message("Weather, then charge me.")])

            held: dict[int, tuple[str, str]] = {}
            while len(held) < 2:  # both are in the middle of a tool now
                item = await aredis.blpop(["held"], timeout=1)  # a wait, re-issued
                if item is None:
                    continue
                value = item[1]
                assert isinstance(value, str)  # the client decodes replies
                pid, sid, call_id = value.split()
                held[int(pid)] = (sid, call_id)
            victim.proc.kill()
            killed_at = time.monotonic()
            zombie.proc.send_signal(signal.SIGSTOP)
            victim_sid, victim_call = held[victim.pid]
            zombie_sid, zombie_call = held[zombie.pid]

            # Both sessions are taken over by the survivor once the leases lapse.
            await emu.wait_for_event(victim_sid, "user.custom_tool_result", count=2)
            took = time.monotonic() - killed_at
            print(f"takeover after SIGKILL: {took * 1000:.0f} ms (lease TTL {LEASE_TTL:g} s)")
            await emu.wait_for_event(zombie_sid, "user.custom_tool_result", count=2)

            # The zombie wakes up: its tool returns, and its write to the checkpoint is refused.
            await aredis.rpush(f"release:{zombie_call}", "go")
            zombie.proc.send_signal(signal.SIGCONT)
            refused = await zombie.wait_for(f"fenced out: session {zombie_sid!r}", timeout=20)

            ends = {}
            for sid in sessions:
                ends[sid] = (await emu.wait_for_event(sid, "session.status_idle", count=2))["id"]
            stream = WakeQueue(aredis).keys.stream
            seen = Keys().session

            async def settled() -> bool:  # every turn's end read by a worker, every wake-up acked
                if await aredis.xlen(stream):
                    return False
                async with aredis.pipeline(transaction=False) as pipe:
                    for sid, end in ends.items():
                        pipe.sismember(seen(sid).seen, end)
                    return all(await pipe.execute())

            async with keyspace_watch(aredis, stream) as until:
                await until(settled, 30)
            for proc in (zombie, survivor, receiver):
                proc.proc.send_signal(signal.SIGTERM)
            for proc in (zombie, survivor):  # a graceful stop
                assert await anyio.to_thread.run_sync(proc.proc.wait, 20) == 0
            # uvicorn shuts down cleanly, then ends by the signal it was stopped with
            assert await anyio.to_thread.run_sync(receiver.proc.wait, 20) == -signal.SIGTERM
            tg.cancel_scope.cancel()
        histories = {sid: emu.history(sid) for sid in sessions}

    print(f"zombie's write refused: {refused}")
    runs = Counter(tuple(line.split()[:2]) for line in await aredis.lrange("runs", 0, -1))
    tokens = [line.split() for line in await aredis.lrange("runs", 0, -1)]
    all_calls: dict[str, str] = {}
    for sid, history in histories.items():
        last = [e for e in history if e["type"] == "session.status_idle"][-1]
        assert last["stop_reason"]["type"] == "end_turn", sid
        calls, replies = _by_call(history)
        assert sorted(calls.values()) == ["charge", "lookup"], sid
        assert {call: replies[call] for call in calls} == dict.fromkeys(calls, 1), sid
        all_calls |= calls
    charged = [c for c, name in all_calls.items() if name == "charge"]
    assert all(runs[("charge", c)] <= 1 for c in charged)  # never twice
    for history in histories.values():  # "charged" means it ran, once
        for call, name in _by_call(history)[0].items():
            if name == "charge" and _reply_text(history, call) == "charged 3":
                assert runs[("charge", call)] == 1
    assert {call for (_, call) in runs} <= set(all_calls)  # ctx.call_id is the tool-use id
    assert all(int(token) >= 1 for _, _, token, _ in tokens)  # ctx.fencing_token is set
    # The held calls were caught mid-run: answered "interrupted", by the survivor, not re-run.
    for sid, call in ((victim_sid, victim_call), (zombie_sid, zombie_call)):
        assert "not run again" in _reply_text(histories[sid], call)
        assert runs[("charge", call)] == 1
    store = RedisCheckpointStore(redis_url)
    record = store.claim_info(zombie_sid, zombie_call)
    assert record is not None and record.state == "sent" and record.owner == "w3"
    store.close()
    assert "stale" in refused or "no longer held" in refused
    interrupted = sum("not run again" in _reply_text(h, c) for h in histories.values()
                      for c, n in _by_call(h)[0].items() if n == "charge")  # fmt: skip
    print(f"{SESSIONS} sessions, {len(all_calls)} calls, {interrupted} charges interrupted")
