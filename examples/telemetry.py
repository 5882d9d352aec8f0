"""OpenTelemetry: the spans and metrics of a run, printed to the console.

``OpenTelemetryObserver`` makes a span for the run, one per tool execution
(``execute_tool get_weather``, GenAI semantic conventions), one per policy decision and one
per batch of replies, and keeps metrics (events by type, tool durations, replies sent,
policy verdicts, reconnects). Spans your tools and handlers start nest under them: the
``weather lookup`` span below is a child of ``execute_tool get_weather``. The failing tool's
span has an error status and an exception event. Any exporter works; this one prints.

Needs the ``otel`` extra and the OpenTelemetry SDK::

    pip install "agentflow-events[otel,emulator]" opentelemetry-sdk
    python examples/telemetry.py                     # against a local emulator
    python examples/telemetry.py --session sesn_...  # a real session (ANTHROPIC_API_KEY)
"""

from __future__ import annotations

import sys
from typing import Any

import anyio
from _session import open_session

try:
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        ConsoleMetricExporter,
        PeriodicExportingMetricReader,
    )
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
except ImportError:
    sys.exit("this example needs the OpenTelemetry SDK: pip install opentelemetry-sdk")

from agentflow import Allow, App, user_message
from agentflow.telemetry import OpenTelemetryObserver
from agentflow.testing import CustomTool, Say, Scenario, Tool, Turn

# -- the OpenTelemetry set-up: once, at start-up (docs/telemetry.md) -----------------------
resource = Resource.create({"service.name": "agentflow-telemetry-example"})
tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
trace.set_tracer_provider(tracer_provider)
reader = PeriodicExportingMetricReader(ConsoleMetricExporter(), export_interval_millis=60_000)
meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
metrics.set_meter_provider(meter_provider)

# -- the app ----------------------------------------------------------------------------
app = App(observers=[OpenTelemetryObserver()])
tracer = trace.get_tracer("agentflow-telemetry-example")


@app.tool
def get_weather(city: str) -> str:
    """Current weather for a city.

    Args:
        city: The city name, e.g. "Paris".
    """
    with tracer.start_as_current_span("weather lookup") as span:  # nests under the tool's
        span.set_attribute("weather.city", city)
        return f"Sunny in {city}, 21 C"


@app.tool
def get_forecast(city: str, days: int) -> str:
    """The forecast for the next days.

    Args:
        city: The city name.
        days: How many days ahead.
    """
    raise ConnectionError("the forecast service is down")


@app.confirm("read*")
def allow_reads(event: Any) -> Allow:
    return Allow()


SCENARIO = Scenario(
    [
        Turn(
            [
                Say("Let me check."),
                CustomTool("get_weather", {"city": "Paris"}),
                CustomTool("get_forecast", {"city": "Paris", "days": 3}),
                Tool("read_file", {"path": "trip-notes.md"}, permission="always_ask"),
                Say("Paris is sunny today; the forecast service did not answer."),
            ]
        )
    ]
)


async def main() -> None:
    async with open_session(SCENARIO, __doc__ or "") as (client, session_id):
        result = await app.run(client, session_id, send=[user_message("Weather in Paris?")])
    # Flush what the batch processor and the metric reader still hold before exiting.
    tracer_provider.shutdown()
    meter_provider.shutdown()
    print(f"turn ended: {result.stop_reason}", file=sys.stderr)


if __name__ == "__main__":
    anyio.run(main)
