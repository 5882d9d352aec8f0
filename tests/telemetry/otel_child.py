"""A child process for the telemetry tests: one full run against the emulator, then a JSON
line on stdout saying what happened and which ``opentelemetry`` modules got loaded.

    python otel_child.py blocked   # OpenTelemetry made unimportable first (as if absent)
    python otel_child.py unused    # installed, but the app has no observer
    python otel_child.py global    # the observer on the global providers: first none, then
                                   # the SDK's, set after the observer was made
"""

from __future__ import annotations

import importlib.abc
import json
import sys
from typing import Any


class RefuseOpenTelemetry(importlib.abc.MetaPathFinder):
    """Makes ``opentelemetry`` look absent (another package in the environment needs it)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "opentelemetry" or name.startswith("opentelemetry."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def loaded() -> list[str]:
    return sorted(m for m in sys.modules if m.split(".")[0] == "opentelemetry")


async def one_run(app: Any) -> Any:
    import anyio

    from agentflow import ManagedAgentsClient, user_message
    from agentflow.testing import CustomTool, Emulator, Say, Scenario, Tool, Turn

    scen = Scenario(
        [
            Turn(
                [
                    Say("Working."),
                    CustomTool("lookup", {"key": "a"}),
                    CustomTool("explode", {}),
                    Tool("read_file", {"path": "x"}, permission="always_ask"),
                    Say("Done."),
                ]
            )
        ]
    )
    async with Emulator(scen) as emu:
        sid = emu.create_session()
        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            with anyio.fail_after(20):
                return await app.run(client, sid, send=[user_message("go")])


def make_app(*observers: Any) -> Any:
    from agentflow import Allow, App

    app = App(observers=observers)
    app.load_entrypoints = False

    @app.tool
    def lookup(key: str) -> str:
        """Look a key up."""
        return key

    @app.tool
    def explode() -> str:
        """Always fails."""
        raise RuntimeError("no")

    @app.confirm("read*")
    def allow_reads(event: Any) -> Allow:
        return Allow()

    return app


def summary(result: Any) -> dict[str, Any]:
    return {
        "stop_reason": result.stop_reason,
        "outcomes": [c.outcome for c in result.tool_calls],
        "sent": all(c.sent for c in result.tool_calls),
    }


def main(mode: str) -> dict[str, Any]:
    import anyio

    if mode == "blocked":
        sys.meta_path.insert(0, RefuseOpenTelemetry())
    import agentflow

    out: dict[str, Any] = {"after_import": loaded()}
    if mode in ("blocked", "unused"):
        out["run"] = summary(anyio.run(one_run, make_app()))
        out["after_run"] = loaded()
        if mode == "blocked":
            try:
                import agentflow.telemetry  # noqa: F401
            except ImportError as exc:
                out["telemetry_import_error"] = str(exc)
        return out

    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from agentflow.telemetry import OpenTelemetryObserver

    observer = OpenTelemetryObserver()  # before any provider exists, as at import time
    app = make_app(observer)
    out["tracer_before"] = observer.tracer() is not None
    out["run_before"] = summary(anyio.run(one_run, app))

    exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    app.actions.checkpoint = type(app.actions.checkpoint)()  # the new emulator reuses ids
    out["run_after"] = summary(anyio.run(one_run, app))
    out["spans"] = sorted(s.name for s in exporter.get_finished_spans())
    data = reader.get_metrics_data()
    assert data is not None, "the reader collected no metrics"
    out["metrics"] = sorted(
        m.name for r in data.resource_metrics for s in r.scope_metrics for m in s.metrics
    )
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
