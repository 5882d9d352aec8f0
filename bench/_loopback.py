"""The end-to-end row of the dialect benchmarks: ``app.run`` against raw httpx-sse, over loopback.

Nothing here is part of agentflow; the scripts import it as a sibling module. A dialect
script defines two trials, ``raw`` (``httpx`` + ``httpx_sse`` + ``json.loads`` + a dict
call) and ``app-run`` (``app.run(client, session, send=[...])`` with one ``@app.on("*")``
handler), each an ``async (base_url, burst) -> (events, wall, cpu)``. The dialect's
emulator runs in its own process (``bench/_server.py --dialect``), every trial in a fresh
interpreter (``run_child``), and ``rounds`` interleaved rounds run each client once: a noisy
neighbour weighs on both. The table shows the best wall time and the best client CPU time of
each. In each child one untimed trial runs first, so imports and first-call costs are not
counted.

The target is on client CPU per event, which neither the emulator's own speed (it renders
every event in Python) nor another process's load moves much; wall time is printed too. The
verdict takes the median over the rounds of raw's CPU over app.run's in that round: the two
trials of a round ran one after the other, so a host whose speed drifts over seconds moves
both, where the two bests may come from different rounds.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from _common import paired_ratio, run_child, server_process, table, verdict

Trial = Callable[[str, int], Coroutine[Any, Any, tuple[int, float, float]]]
NAMES = {
    "raw": "raw: httpx + httpx-sse + json.loads + dict call",
    "app-run": "agentflow: app.run (stream, dispatch, run loop)",
}
TARGET = 0.70


class Span:
    """Wall and CPU time of this process from ``start()`` to ``done()``."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def start(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def done(self, events: int) -> tuple[int, float, float]:
        return events, time.perf_counter() - self.wall, time.process_time() - self.cpu


def child(trials: dict[str, Trial], kind: str, url: str, burst: int) -> None:
    """Run one untimed, then one timed trial of ``kind``; print the timed one as JSON.

    ``kind`` is as ``measure`` passes it to ``--child`` (``loop-raw``, ``loop-app-run``).
    """
    kind = kind.removeprefix("loop-")
    asyncio.run(trials[kind](url, burst))
    gc.collect()
    events, wall, cpu = asyncio.run(trials[kind](url, burst))
    print(json.dumps({"events": events, "seconds": wall, "cpu": cpu}))


def measure(
    script: str | Path, dialect: str, scenario: dict[str, Any], burst: int, rounds: int
) -> dict[str, dict[str, float]]:
    """Each client over ``rounds`` interleaved rounds: its best wall and CPU time, and in
    ``cpus`` its CPU seconds per event of every round, in round order."""
    rows: dict[str, dict[str, Any]] = {}
    with server_process("--dialect", dialect, "--scenario", json.dumps(scenario)) as srv:
        for _ in range(rounds):
            for kind in NAMES:
                got = run_child(script, f"loop-{kind}", srv.base_url, burst, timeout=120)
                best = rows.setdefault(kind, {**got, "cpus": []})
                best["seconds"] = min(best["seconds"], got["seconds"])
                best["cpu"] = min(best["cpu"], got["cpu"])
                best["cpus"].append(got["cpu"] / got["events"])
    return rows


def report(rows: dict[str, dict[str, Any]]) -> bool:
    """Print the table and the verdict (app.run's events per CPU second >= 0.7x raw, the
    median of the rounds)."""
    rate = {k: r["events"] / r["seconds"] for k, r in rows.items()}
    cpu = {k: r["cpu"] / r["events"] for k, r in rows.items()}
    table(
        [("client", "<"), ("events", ",.0f"), ("seconds", ".3f"), ("events/s", ",.0f"),
         ("x raw", ".2f"), ("client CPU µs/event", ".2f"), ("CPU x raw", ".2f")],
        [
            [NAMES[k], r["events"], r["seconds"], rate[k], rate[k] / rate["raw"],
             cpu[k] * 1e6, cpu["raw"] / cpu[k]]
            for k, r in rows.items()
        ],
    )  # fmt: skip
    print()
    raw_cpus, app_cpus = rows["raw"]["cpus"], rows["app-run"]["cpus"]
    ratio = paired_ratio(raw_cpus, app_cpus)
    paired = sorted(r / a for r, a in zip(raw_cpus, app_cpus, strict=True))
    wall = rate["app-run"] / rate["raw"]
    print(f"ratio app.run / raw: {wall:.2f}x events per second (wall time)")
    print(
        f"CPU per event, raw / app.run, round by round: {', '.join(f'{x:.2f}' for x in paired)}"
        f" (sorted; the verdict takes their median)"
    )
    return verdict("app.run / raw httpx-sse, CPU per event", ratio, f">= {TARGET}", ratio >= TARGET)
