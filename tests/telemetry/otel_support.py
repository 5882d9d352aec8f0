"""Helpers for the telemetry tests: an app with the observer on in-memory SDK providers, and
one run against the emulator."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentflow import App, ManagedAgentsClient, RunResult, user_message
from agentflow.telemetry import OpenTelemetryObserver
from agentflow.testing import Emulator, Scenario, Step, Turn

API_KEY = "sk-ant-telemetry-test-key-0123456789"


class Telemetry:
    """A tracer provider and a meter provider of the SDK, recording in memory."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.tracer = self.tracer_provider.get_tracer("tests")

    def observer(self, **options: Any) -> OpenTelemetryObserver:
        return OpenTelemetryObserver(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider, **options
        )

    def app(self, **options: Any) -> App:
        """An app observed by this telemetry (entry-point plugins ignored)."""
        capture = options.pop("capture_tool_input", False)
        app = App(observers=[self.observer(capture_tool_input=capture)], **options)
        app.load_entrypoints = False
        return app

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.spans() if s.name == name]

    def one(self, name: str) -> ReadableSpan:
        found = self.named(name)
        assert len(found) == 1, (name, [s.name for s in self.spans()])
        return found[0]

    def points(self, metric: str) -> list[Any]:
        """The data points of ``metric`` collected now."""
        data = self.reader.get_metrics_data()
        out: list[Any] = []
        for resource in data.resource_metrics if data is not None else ():
            for scope in resource.scope_metrics:
                for m in scope.metrics:
                    if m.name == metric:
                        out.extend(m.data.data_points)
        return out

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def one_turn(*steps: Step, **options: Any) -> Scenario:
    return Scenario([Turn(steps)], **options)


async def run_turn(
    app: App, scen: Scenario, *, timeout: float = 10, sends: Sequence[str] = ("go",)
) -> tuple[RunResult, list[dict[str, Any]]]:
    """One run on a fresh emulated session (the emulator requires ``API_KEY``)."""
    async with Emulator(scen, api_key=API_KEY) as emu:
        sid = emu.create_session()
        async with ManagedAgentsClient(api_key=API_KEY, base_url=emu.base_url) as client:
            with anyio.fail_after(timeout):
                result = await app.run(client, sid, send=[user_message(t) for t in sends])
        return result, emu.history(sid)


def ids_of(history: list[dict[str, Any]], kind: str, name: str | None = None) -> list[str]:
    """Ids of the stored events of ``kind`` (and tool ``name``), in order."""
    return [e["id"] for e in history if e["type"] == kind and name in (None, e.get("name"))]


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def span_id(span: ReadableSpan) -> int:
    context = span.get_span_context()  # typed, unlike the ``context`` property
    assert context is not None
    return context.span_id
