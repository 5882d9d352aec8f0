"""What OpenTelemetry tracing costs per event: the decode + dispatch path, and ``app.run``,
with and without ``OpenTelemetryObserver``, in the same process.

Run from the repository root (after ``pip install -e ".[dev]"``)::

    python bench/telemetry.py [--events 100000] [--repeat 9]

The input is ``bench/decode_dispatch.py``'s: the SSE body of the 99 fixture events (all 44
Managed Agents types) cycled to ``--events`` and cut into 64 KiB reads. With tracing, the
OpenTelemetry SDK's ``TracerProvider`` and ``MeterProvider`` are the global providers (spans
to an in-memory exporter, metrics to an in-memory reader, collected after each round) and
the app has ``OpenTelemetryObserver()``; event spans stay off (``trace_events=False``, the
default). Rows:

- dispatch: ``decode_dispatch.py``'s agentflow row (frames + ``parse_event`` +
  ``app.dispatch``), plain, then with tracing;
- app.run: the same events through ``app.run`` (the run loop, the event path, the actions
  router, the tally) over an in-memory channel, plain, then with tracing: one run span per
  round, and the per-type event counts read by the ``agentflow.events`` observable counter.
  Terminal and pausing events are left out of this stream (they would end or pause the run);
- for reference (not a target), dispatch with ``trace_events=True`` (a span per event), on
  a tenth of the events.

Rows run in ``--repeat`` interleaved rounds (the order reversed every other round, garbage
collected before each row), timed with this process's CPU time. The ratio of each traced
row to its plain row is taken per round and the median is reported, with the ratio of the
best rounds beside it. Target: tracing with event
spans off costs at most 5 % (ratio <= 1.05) on both paths.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from _common import chunked, cycled, fixture_lines, header, sse_bytes, table, verdict
from decode_dispatch import READ_SIZE, agentflow_path, build_app
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentflow import App
from agentflow.events import parse_event
from agentflow.managed_agents.dialect import MANAGED_AGENTS
from agentflow.telemetry import OpenTelemetryObserver
from agentflow.wire.sse import SSEDecoder

TARGET = 1.05


class MemoryChannel:
    """A channel whose events are decoded from bytes in memory: the run loop's cost alone."""

    dialect = MANAGED_AGENTS
    session_id = "sesn_bench"

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aenter__(self) -> MemoryChannel:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    async def _events(self) -> AsyncIterator[Any]:
        decoder = SSEDecoder()
        for chunk in self.chunks:
            for frame in decoder.feed(chunk):
                yield parse_event(frame.data)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._events()

    async def start_turn(self, inputs: Sequence[Any]) -> tuple[str, ...]:
        return ()

    async def send(self, requests: list[Any]) -> None:
        return None

    async def answer(self, replies: list[Any]) -> None:
        raise AssertionError("nothing in this stream asks for an answer")

    async def interrupt(self, thread_id: str | None = None) -> None:
        return None

    def history(self) -> None:
        return None

    async def latest(self) -> None:
        return None


class MemorySource:
    """The source of :class:`MemoryChannel`."""

    dialect = MANAGED_AGENTS

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def channel(self, session: Any, **options: Any) -> MemoryChannel:
        return MemoryChannel(self.chunks)


def run_lines(lines: list[bytes]) -> list[bytes]:
    """The fixture lines that neither end nor pause a run."""
    keep = []
    for line in lines:
        event = parse_event(line)
        if MANAGED_AGENTS.terminal(event) is None and MANAGED_AGENTS.pause(event) is None:
            keep.append(line)
    return keep


async def run_path(app: App, source: MemorySource, expected: int) -> None:
    app.actions.checkpoint = type(app.actions.checkpoint)()  # each round starts afresh
    result = await app.run(source, "sesn_bench", until="terminated")
    assert result.events == expected, (result.events, expected)


async def rounds(repeat: int, bodies: list[Callable[[], Any]], after: Callable[[], None]) -> Any:
    """Each body's CPU time in each round. Rounds interleave the bodies, in the reverse
    order every other round (so neither of a pair always runs first), after a collection
    of the garbage the previous body left."""
    times: list[list[float]] = [[] for _ in bodies]
    for r in range(repeat):
        order = range(len(bodies)) if r % 2 == 0 else reversed(range(len(bodies)))
        for i in order:
            gc.collect()
            started = time.process_time()
            await bodies[i]()
            times[i].append(time.process_time() - started)
        after()
    return times


def ratios(times: list[list[float]], traced: int, plain: int) -> tuple[float, float]:
    """The median of the per-round ratios traced / plain, and the ratio of the best times."""
    per_round = [a / b for a, b in zip(times[traced], times[plain], strict=True)]
    return statistics.median(per_round), min(times[traced]) / min(times[plain])


async def measure(args: argparse.Namespace) -> bool:
    exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))

    lines = fixture_lines()
    chunks = chunked(sse_bytes(cycled(lines, args.events)), READ_SIZE)
    kept = run_lines(lines)
    run_chunks = chunked(sse_bytes(cycled(kept, args.events)), READ_SIZE)

    count = [0]

    def sink(event: Any) -> None:
        count[0] += 1

    plain, traced = build_app(sink), build_app(sink)
    traced.observe(OpenTelemetryObserver())
    source = MemorySource(run_chunks)
    n = args.events
    paths: list[tuple[str, Callable[[], Any]]] = [
        ("dispatch, no tracing", lambda: agentflow_path(chunks, plain)),
        ("dispatch, tracing (event spans off)", lambda: agentflow_path(chunks, traced)),
        ("app.run, no tracing", lambda: run_path(plain, source, n)),
        ("app.run, tracing (event spans off)", lambda: run_path(traced, source, n)),
    ]

    def after_round() -> None:
        reader.get_metrics_data()  # what an exporter's collection does: runs the callbacks
        exporter.clear()

    times = await rounds(args.repeat, [body for _, body in paths], after_round)
    assert count[0] == args.repeat * 4 * n, count
    assert {s.name for s in exporter.get_finished_spans()} <= {"agentflow.run"}

    # For reference only: a span per event, on a tenth of the events.
    every = build_app(sink)
    every.observe(OpenTelemetryObserver())
    every.trace_events = True
    few = chunked(sse_bytes(cycled(lines, max(n // 10, 1))), READ_SIZE)
    reference = await rounds(
        3, [lambda: agentflow_path(few, plain), lambda: agentflow_path(few, every)], exporter.clear
    )

    dispatch, run = ratios(times, 1, 0), ratios(times, 3, 2)
    rows = [
        (paths[0][0], n / min(times[0]), min(times[0]) / n * 1e6, 1.0, 1.0),
        (paths[1][0], n / min(times[1]), min(times[1]) / n * 1e6, *dispatch),
        (paths[2][0], n / min(times[2]), min(times[2]) / n * 1e6, 1.0, 1.0),
        (paths[3][0], n / min(times[3]), min(times[3]) / n * 1e6, *run),
    ]
    table(
        [
            ("path", "<"),
            ("events/s (best)", ",.0f"),
            ("µs/event", ".2f"),
            ("time ratio (median)", ".3f"),
            ("time ratio (best)", ".3f"),
        ],
        rows,
    )
    print()
    ok = verdict("dispatch: tracing / none", dispatch[0], f"<= {TARGET}", dispatch[0] <= TARGET)
    ok &= verdict("app.run: tracing / none", run[0], f"<= {TARGET}", run[0] <= TARGET)
    every_ratio = ratios(reference, 1, 0)[0]
    print(f"      for reference, a span per event (trace_events=True): {every_ratio:.1f}x dispatch")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args(argv)
    header(
        "OpenTelemetry tracing overhead (bytes in memory -> handler, and app.run)",
        f"{args.events:,} events in {READ_SIZE // 1024} KiB reads, {args.repeat} interleaved "
        "rounds, CPU time; ratios are traced / plain, per round, median",
    )
    return 0 if asyncio.run(measure(args)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
