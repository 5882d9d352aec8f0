"""Scale-out throughput and takeover latency: ``agentflow worker`` processes on one Redis.

Run from the repository root (after ``pip install -e ".[dev]"``)::

    python bench/cluster.py [--sessions 300] [--workers 1,2,3] [--concurrency 32]
    python bench/cluster.py --sessions 1000      # the full run (several minutes on 2 cores)

Everything is real and on loopback: a ``redis-server`` (``agentflow.testing.redis_server``),
the ``agentflow webhooks`` receiver and N ``agentflow worker --app _cluster_app:app``
processes, and the Managed Agents emulator in this process sending signed session webhooks
(16 at a time, as a real sender would). Each of ``--sessions`` sessions runs one turn that
calls two custom tools (``lookup``, ``charge``) in one ``requires_action`` pause.

**Throughput.** For each worker count the clock starts when the sessions are created (all
at once) and stops when every session's turn has ended, a worker has read its last event
(the checkpoint says so) and every wake-up was acknowledged (the stream is empty). sessions/s is
sessions over that time; replies/s is the tool results posted (two per session) over it.
"answer" is the time from the ``requires_action`` idle to the first tool result, taken from
the emulator's own ``processed_at`` stamps. CPU seconds are read from ``/proc`` for each
process (the emulator's is this process's), so you can see where the time goes: on two
cores every process competes for the same two.

**Takeover.** Two workers with a short lease (``--lease-ttl``); one holds its next ``charge``
call and is SIGKILLed once it is inside the tool; the time from the kill until the
session's pause is answered by the other worker is the takeover latency. Repeated
``--takeovers`` times, each with a fresh victim process.
"""

from __future__ import annotations

import argparse
import base64
import os
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import redis.asyncio as aioredis
from _common import header, table

from agentflow import user_message
from agentflow.cluster import Keys, WakeQueue
from agentflow.testing import CustomTool, Emulator, Say, Scenario, Turn
from agentflow.testing.redis_server import RedisServer

HERE = Path(__file__).resolve().parent
SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """The receiver and the worker processes of one measurement (stopped by :meth:`stop`)."""

    def __init__(self, redis_url: str, emu: Emulator, port: int) -> None:
        self.env = {**os.environ, "AGENTFLOW_REDIS_URL": redis_url, "PYTHONUNBUFFERED": "1"}
        self.env |= {"AGENTFLOW_WEBHOOK_SECRET": SECRET, "ANTHROPIC_API_KEY": emu.api_key}
        self.env |= {"ANTHROPIC_BASE_URL": emu.base_url}
        self.env["PYTHONPATH"] = os.pathsep.join([str(HERE), self.env.get("PYTHONPATH", "")])
        self.port = port
        self.procs: list[subprocess.Popen[str]] = []
        self.logs: dict[int, deque[str]] = {}
        self.first: dict[int, threading.Event] = {}

    def _spawn(self, *args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "agentflow", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.procs.append(proc)
        self.logs[proc.pid] = deque(maxlen=20)
        self.first[proc.pid] = threading.Event()
        threading.Thread(target=self._drain, args=(proc,), daemon=True).start()
        return proc

    def _drain(self, proc: subprocess.Popen[str]) -> None:
        # Keep reading the log so a full pipe never blocks the worker; keep its tail.
        assert proc.stderr is not None
        for line in proc.stderr:
            self.logs[proc.pid].append(line.rstrip())
            self.first[proc.pid].set()
        self.first[proc.pid].set()

    async def receiver(self) -> subprocess.Popen[str]:
        proc = self._spawn("webhooks", "--port", str(self.port))
        assert proc.stdout is not None
        line = await anyio.to_thread.run_sync(proc.stdout.readline)
        if "listening on" not in line:
            raise RuntimeError(f"agentflow webhooks did not start: {line!r}")
        return proc

    async def workers(self, count: int, *options: str) -> list[subprocess.Popen[str]]:
        procs = [self._spawn("worker", "--app", "_cluster_app:app", *options) for _ in range(count)]
        for proc in procs:  # each announces itself once it is about to take wake-ups
            await anyio.to_thread.run_sync(self.first[proc.pid].wait, 60)
            if not any("agentflow worker" in line for line in self.logs[proc.pid]):
                raise RuntimeError(f"agentflow worker did not start: {list(self.logs[proc.pid])}")
        return procs

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


async def settled(client: aioredis.Redis, ends: dict[str, str], timeout: float) -> None:
    """Wait, on Redis's keyspace notifications of the wake-up stream, until every session's
    last event (``ends``) was read by a worker and every wake-up was acknowledged."""
    stream = WakeQueue(client).keys.stream
    keys = Keys()
    await client.config_set("notify-keyspace-events", "KA")
    pubsub = client.pubsub()
    await pubsub.subscribe(f"__keyspace@0__:{stream}")

    async def done() -> bool:
        if await client.xlen(stream):
            return False
        async with client.pipeline(transaction=False) as pipe:
            for sid, end in ends.items():
                pipe.sismember(keys.session(sid).seen, end)
            return all(await pipe.execute())

    try:
        with anyio.fail_after(timeout):
            while not await done():
                await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]


def _stamp(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(event["processed_at"]).replace("Z", "+00:00")).timestamp()


def answer_times(histories: list[list[dict[str, Any]]]) -> list[float]:
    """Seconds from each session's requires_action idle to its first tool result."""
    out = []
    for history in histories:
        idle = next(e for e in history if e["type"] == "session.status_idle")
        reply = next(e for e in history if e["type"] == "user.custom_tool_result")
        out.append(_stamp(reply) - _stamp(idle))
    return out


async def throughput(workers: int, sessions: int, concurrency: int) -> list[Any]:
    with RedisServer() as server:
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        client = aioredis.Redis.from_url(server.url, decode_responses=True)
        async with Emulator(
            SCENARIO, webhook_url=url, webhook_secret=SECRET, webhook_concurrency=16
        ) as emu:
            cluster = Cluster(server.url, emu, port)
            try:
                receiver = await cluster.receiver()
                procs = await cluster.workers(
                    workers, "--concurrency", str(concurrency), "--lease-ttl", "10"
                )
                pids = [p.pid for p in procs]
                before = [cpu_seconds(p) for p in pids]
                before += [cpu_seconds(receiver.pid), own_cpu(), cpu_seconds(server.pid)]
                started = time.perf_counter()
                ids = [emu.create_session() for _ in range(sessions)]
                for sid in ids:
                    emu.send(sid, [user_message("Weather, then charge me.")])
                ends: dict[str, str] = {}
                with anyio.fail_after(600):
                    for sid in ids:
                        end = await emu.wait_for_event(sid, "session.status_idle", count=2)
                        ends[sid] = end["id"]
                await settled(client, ends, 120)
                took = time.perf_counter() - started
                after = [cpu_seconds(p) for p in pids]
                after += [cpu_seconds(receiver.pid), own_cpu(), cpu_seconds(server.pid)]
                histories = [emu.history(sid) for sid in ids]
            finally:
                cluster.stop()
                await client.aclose()
    replies = sum(e["type"] == "user.custom_tool_result" for h in histories for e in h)
    assert replies == 2 * sessions, f"{replies} replies for {sessions} sessions"
    answers = sorted(answer_times(histories))
    cpu = [a - b for a, b in zip(after, before, strict=True)]
    p99 = answers[min(len(answers) - 1, int(len(answers) * 0.99))]
    return [
        workers,
        sessions,
        took,
        sessions / took,
        replies / took,
        statistics.median(answers) * 1000,
        p99 * 1000,
        sum(cpu[:workers]),
        cpu[workers],
        cpu[workers + 1],
        cpu[workers + 2],
    ]


async def takeovers(rounds: int, ttl: float) -> list[float]:
    """SIGKILL a worker inside a tool, ``rounds`` times; the time until its session is
    answered by the surviving worker."""
    latencies = []
    with RedisServer() as server:
        port = free_port()
        client = aioredis.Redis.from_url(server.url, decode_responses=True)
        async with Emulator(
            SCENARIO, webhook_url=f"http://127.0.0.1:{port}/", webhook_secret=SECRET
        ) as emu:
            cluster = Cluster(server.url, emu, port)
            options = ("--lease-ttl", str(ttl))
            try:
                await cluster.receiver()
                await cluster.workers(1, *options)  # the survivor
                for _ in range(rounds):
                    [victim] = await cluster.workers(1, *options)
                    await client.set(f"hold:{victim.pid}", "1")
                    held: list[str] = []
                    with anyio.fail_after(120):
                        while True:  # until the victim is inside a tool
                            sid = emu.create_session()
                            emu.send(sid, [user_message("Weather, then charge me.")])
                            await emu.wait_for_event(sid, "session.status_idle")
                            item = await client.blpop(["held"], timeout=1)
                            if item is not None:
                                held = [str(part) for part in item[1].split()]
                                break
                        victim.kill()
                        killed = time.perf_counter()
                        await emu.wait_for_event(held[1], "user.custom_tool_result", count=2)
                    latencies.append(time.perf_counter() - killed)
                    victim.wait()
            finally:
                cluster.stop()
                await client.aclose()
    return latencies


async def main(args: argparse.Namespace) -> None:
    header(
        "agentflow scale-out: throughput and takeover (bench/cluster.py)",
        f"{args.sessions} sessions per run, 2 custom tools each; workers {args.workers}, "
        f"concurrency {args.concurrency} each; webhooks signed, 16 in flight",
    )
    began = time.perf_counter()
    rows = [await throughput(n, args.sessions, args.concurrency) for n in args.workers]
    table(
        [
            ("workers", "d"),
            ("sessions", "d"),
            ("seconds", ".1f"),
            ("sessions/s", ".1f"),
            ("replies/s", ".1f"),
            ("answer p50 ms", ".0f"),
            ("answer p99 ms", ".0f"),
            ("CPU s workers", ".1f"),
            ("receiver", ".1f"),
            ("emulator", ".1f"),
            ("redis", ".1f"),
        ],
        rows,
    )
    print()
    latencies = await takeovers(args.takeovers, args.lease_ttl)
    table(
        [("takeover", "d"), ("lease TTL s", ".1f"), ("SIGKILL -> answered ms", ".0f")],
        [[i + 1, args.lease_ttl, t * 1000] for i, t in enumerate(latencies)],
    )
    print(f"\ntotal {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # 300 per worker count keeps the whole run under two minutes on two cores; --sessions
    # 1000 is the full measurement (about 125 ms of CPU per session across all processes).
    parser.add_argument("--sessions", type=int, default=300)
    parser.add_argument(
        "--workers", type=lambda s: [int(n) for n in s.split(",")], default=[1, 2, 3]
    )
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--lease-ttl", type=float, default=1.0)
    parser.add_argument("--takeovers", type=int, default=3)
    anyio.run(main, parser.parse_args())
