"""The benchmark server: agentflow's emulator in its own process, driven over stdin.

Started by ``_common.server_process``; not meant to be run by hand. It prints ``url <base>``
once listening, then answers one line per command read from stdin, until stdin closes:

- ``session`` -> ``<session id>``: create a session (the scenario starts at its first turn).
- ``pace <sid> <count> <interval>`` -> ``ok``: emit ``count`` ``agent.message`` events
  ``interval`` seconds apart (in the background); each event's text is
  ``time.monotonic_ns()`` taken just before the event is handed to the stream, so a client in
  another process on the same machine can measure delivery latency (``CLOCK_MONOTONIC`` is
  system-wide on Linux).
- ``streams <sid>`` -> ``<n>``: open stream connections of a session.
- ``wait_streams <sid> <n>`` -> ``ok``: wait (up to 120 s) until ``n`` streams are open.
- ``sessions <n>`` -> ``<id> <id> ...``: create ``n`` sessions (the latest batch).
- ``wait_batch_streams <n> [timeout]`` -> ``ok``: wait (checking every 10 ms, up to
  ``timeout`` seconds, default 120) until ``n`` streams are open to the latest batch;
  ``timeout <open>`` when they were not all open in time.
- ``requests`` -> ``<json>``: how many requests were answered so far, by kind (``stream``:
  stream connections, ``history``: ``GET .../events``, ``session``: ``GET /v1/sessions/{id}``,
  ``other``).
- ``rss`` -> ``<bytes>``: this process's resident set size.
- ``cpu`` -> ``<seconds>``: this process's CPU time so far (user + system).

The commands drive the Managed Agents emulator; with ``--dialect NAME`` (``messages``,
``everruns``, ``m8tes``) the child serves that dialect's emulator instead, and the benchmark
drives it over HTTP (only ``rss`` applies there).

Options: ``--scenario JSON`` (a scenario in its JSON form) and ``--dialect NAME``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import anyio
import anyio.abc
import anyio.to_thread

from agentflow.testing import Emulator, Scenario


async def pace(emu: Emulator, sid: str, count: int, interval: float) -> None:
    start = time.monotonic()
    for i in range(count):
        # Sleep to an absolute schedule so a slow step does not shift the ones after it.
        delay = start + i * interval - time.monotonic()
        if delay > 0:
            await anyio.sleep(delay)
        text = str(time.monotonic_ns())
        emu.emit(sid, {"type": "agent.message", "content": [{"type": "text", "text": text}]})


async def serve(scenario: Scenario, dialect: str) -> None:
    async with Emulator(scenario, dialect=dialect) as emu, anyio.create_task_group() as tg:
        print(f"url {emu.base_url}", flush=True)
        while True:
            line = await anyio.to_thread.run_sync(sys.stdin.readline)
            if not line:
                break
            words = line.split()
            if not words:
                continue
            try:
                answer = await run_command(emu, tg, words[0], words[1:])
            except Exception as exc:  # report it to the benchmark instead of dying
                answer = f"error {type(exc).__name__}: {exc}"
            print(answer, flush=True)
        tg.cancel_scope.cancel()


BATCH: list[str] = []  # the sessions of the latest ``sessions`` command


async def run_command(emu: Emulator, tg: anyio.abc.TaskGroup, command: str, args: list[str]) -> str:
    if command == "session":
        return emu.create_session()
    if command == "pace":
        tg.start_soon(pace, emu, args[0], int(args[1]), float(args[2]))
        return "ok"
    if command == "streams":
        return str(emu.stream_count(args[0]))
    if command == "wait_streams":
        with anyio.fail_after(120):
            await emu.wait_for_streams(args[0], int(args[1]))
        return "ok"
    if command == "sessions":
        BATCH[:] = [emu.create_session() for _ in range(int(args[0]))]
        return " ".join(BATCH)
    if command == "wait_batch_streams":
        # polled, not re-checked on every change: with thousands of sessions a check per
        # change would cost the server more than the streams it counts
        with anyio.move_on_after(float(args[1]) if len(args) > 1 else 120):
            while sum(emu.stream_count(sid) for sid in BATCH) < int(args[0]):
                await anyio.sleep(0.01)
            return "ok"
        return f"timeout {sum(emu.stream_count(sid) for sid in BATCH)}"
    if command == "requests":
        return json.dumps(request_counts(emu))
    if command == "cpu":
        times = os.times()
        return str(times.user + times.system)
    if command == "rss":
        with open("/proc/self/statm") as f:
            return str(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))
    return f"error unknown command {command!r}"


def request_counts(emu: Emulator) -> dict[str, int]:
    counts = {"stream": 0, "history": 0, "session": 0, "other": 0}
    for record in emu.requests:
        path = record.path
        if path.endswith("/events/stream"):
            counts["stream"] += 1
        elif record.method == "GET" and path.endswith("/events"):
            counts["history"] += 1
        elif record.method == "GET" and path.count("/") == 3:
            counts["session"] += 1
        else:
            counts["other"] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", default="{}")
    parser.add_argument("--dialect", default="managed_agents")
    args = parser.parse_args()
    scenario = Scenario.from_dict(json.loads(args.scenario))
    anyio.run(serve, scenario, args.dialect, backend="asyncio")


if __name__ == "__main__":
    main()
