"""orxhestra in process: agentflow's source and dispatch vs iterating the agent's own stream.

Run from the repository root (after ``pip install -e ".[dev,orxhestra]"``)::

    python bench/orxhestra.py [--chunks 2000] [--repeat 5]

orxhestra has no wire: a ``Runner`` yields pydantic events from ``runner.astream(...)`` in
this process and its agent calls its LangChain tools itself. Every row plays the same turn
on a real ``LlmAgent`` in a real ``Runner`` (in-memory sessions) whose model is agentflow's
scripted chat model (``agentflow.testing.orxhestra``; no key, no network): a streamed
sentence, ``--chunks`` streamed text chunks, two parallel tool calls run by the agent
(``list_files``, ``disk_usage``: plain async LangChain tools), then a streamed answer. Each
row gets a fresh Runner and session (built outside the timing) and one handler call per
event; ``--repeat`` interleaved rounds run every row once, timed with this process's CPU
time, and the best round of each is kept. Rows:

- bare orxhestra (the baseline): ``async for event in runner.astream(...)`` and a function
  looked up by ``event.type`` in a dict; the tools run ungated;
- agentflow dispatch: the same loop, each event wrapped as an ``OrxhestraEvent`` (its
  ``kind`` worked out) and ``await app.dispatch(event, ctx)`` into an ``App`` with one
  ``@app.on("*")`` handler; the tools run ungated;
- agentflow ``app.run``, ungated: ``app.run(OrxhestraSource(runner, user_id=...,
  gate=False), session, send=[...])``: the whole run loop (turns, checkpoint, the actions
  router seeing every event, the run's result) with the same handler;
- agentflow ``app.run``, gated: the default ``OrxhestraSource(runner, user_id=...)``, which
  wraps both tools so that the App's ``@app.confirm`` policies (here two that allow) decide
  before each call runs: what ``app.run`` over orxhestra does out of the box.

Targets: agentflow's dispatch and its gated ``app.run`` >= 0.8x the bare iteration (the
agent itself, its model and LangChain's message handling are the same work in every row).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import _no_shadow  # noqa: F401  (first: this script's name is the orxhestra package's)
from _common import header, table, verdict
from langchain_core.tools import BaseTool, StructuredTool

from agentflow import Allow, App, Context
from agentflow.orxhestra import OrxhestraEvent, OrxhestraSource
from agentflow.testing import Burst, CustomTool, Say, Scenario, Turn
from agentflow.testing.orxhestra import scenario_runner

MESSAGE = "How much space does /var/app take?"
TARGET = 0.8


def scenario(chunks: int) -> Scenario:
    return Scenario(
        [
            Turn(
                [
                    Say("I will look at the folder first and then measure it.", stream=True),
                    Burst(chunks),
                    CustomTool("list_files", {"folder": "/var/app"}),
                    CustomTool("disk_usage", {"folder": "/var/app"}),
                    Say("The folder holds three files that take 1.2 GB in all.", stream=True),
                ]
            )
        ]
    )


def tools() -> list[BaseTool]:
    async def list_files(folder: str) -> str:
        """List the files of a folder."""
        return "app.log, error.log, notes.txt"

    async def disk_usage(folder: str) -> str:
        """How much space a folder takes."""
        return f"{folder}: 1.2 GB"

    return [StructuredTool.from_function(coroutine=f) for f in (list_files, disk_usage)]


def build_app(sink: Callable[[Any], None]) -> App:
    """An app with ``sink`` itself as its one ``@app.on("*")`` handler (a parameter named
    ``event``), so it calls the same function per event as the raw rows."""
    app = App(load_entrypoints=False)
    app.on("*")(sink)

    @app.confirm("list_files")
    def listing_is_fine() -> Allow:
        return Allow()

    @app.confirm("disk_usage")
    def measuring_is_fine() -> Allow:
        return Allow()

    return app


# Each path: setup(scenario, sink) -> the timed body (a coroutine function) and what it saw.
Body = Callable[[], Awaitable[int]]


def bare(scen: Scenario, call: Callable[[Any], None]) -> Body:
    runner = scenario_runner(scen, tools())

    async def body() -> int:
        handlers: dict[str, Callable[[Any], None]] = {}
        seen = 0
        async for event in runner.astream(user_id="u", session_id="s", new_message=MESSAGE):
            handler = handlers.get(event.type)
            if handler is None:
                handler = handlers[event.type] = call
            handler(event)
            seen += 1
        return seen

    return body


def dispatch(scen: Scenario, call: Callable[[Any], None]) -> Body:
    runner = scenario_runner(scen, tools())
    app = build_app(call)

    async def body() -> int:
        ctx = Context("s", app=app)
        seen = 0
        async for native in runner.astream(user_id="u", session_id="s", new_message=MESSAGE):
            await app.dispatch(OrxhestraEvent(native), ctx)
            seen += 1
        return seen

    return body


def app_run(gate: bool) -> Callable[[Scenario, Callable[[Any], None]], Body]:
    def setup(scen: Scenario, call: Callable[[Any], None]) -> Body:
        source = OrxhestraSource(scenario_runner(scen, tools()), user_id="u", gate=gate)
        seen = [0]

        def count(event: Any) -> None:
            seen[0] += 1
            call(event)

        app = build_app(count)

        async def body() -> int:
            result = await app.run(source, "s", send=[MESSAGE])
            assert result.ok and result.text.startswith("The folder holds"), result
            return seen[0]

        return body

    return setup


PATHS: list[tuple[str, Callable[[Scenario, Callable[[Any], None]], Body]]] = [
    ("bare orxhestra: runner.astream + dict call", bare),
    ("agentflow: OrxhestraEvent + app.dispatch", dispatch),
    ("agentflow: app.run, tools ungated", app_run(False)),
    ("agentflow: app.run, tools gated by policies", app_run(True)),
]


async def measure(args: argparse.Namespace) -> bool:
    scen = scenario(args.chunks)
    calls = [0]

    def call(event: Any) -> None:
        calls[0] += 1

    # Not timed: every path plays the same turn (app.run also dispatches the user message).
    counts = [await setup(scen, call)() for _, setup in PATHS]
    best = [float("inf")] * len(PATHS)
    for _ in range(args.repeat):
        for i, (_, setup) in enumerate(PATHS):
            body = setup(scen, call)
            gc.collect()
            started = time.process_time()
            await body()
            best[i] = min(best[i], time.process_time() - started)
    events = counts[0]
    table(
        [("path", "<"), ("events", ",d"), ("ms per turn", ".1f"), ("µs/event", ".2f"),
         ("x bare", ".2f")],
        [
            (name, n, s * 1e3, s / events * 1e6, best[0] / s)
            for (name, _), n, s in zip(PATHS, counts, best, strict=True)
        ],
    )  # fmt: skip
    print()
    ok = verdict("agentflow dispatch / bare orxhestra", best[0] / best[1], f">= {TARGET}",
                 best[0] / best[1] >= TARGET)  # fmt: skip
    print(f"      (app.run, tools ungated: {best[0] / best[2]:.2f}x bare)")
    ok &= verdict("agentflow app.run (gated) / bare orxhestra", best[0] / best[3],
                  f">= {TARGET}", best[0] / best[3] >= TARGET)  # fmt: skip
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=2000, help="streamed text chunks")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds")
    args = parser.parse_args(argv)
    logging.getLogger("agentflow").setLevel(logging.ERROR)
    header(
        "orxhestra in process: agentflow vs the agent's own event stream",
        f"one turn of {args.chunks:,} streamed chunks and two tool calls per row, a fresh "
        f"Runner each time; best of {args.repeat} interleaved rounds, CPU time",
    )
    return 0 if asyncio.run(measure(args)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
