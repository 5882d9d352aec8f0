"""OpenTelemetry traces and metrics of agentflow runs (extra ``otel``).

::

    pip install "agentflow-events[otel]"

    from agentflow import App
    from agentflow.telemetry import OpenTelemetryObserver

    app = App(observers=[OpenTelemetryObserver()])

Spans and metrics go through OpenTelemetry's global providers (configure them with the
OpenTelemetry SDK, or any distribution); until one is configured the observer makes no
spans. See ``docs/telemetry.md`` for the span and metric names and a console set-up.

The core knows nothing of OpenTelemetry: the observer plugs into the hooks of
:mod:`agentflow.core.observe`, and this package is the only one that imports
``opentelemetry``.
"""

from __future__ import annotations

try:
    import opentelemetry.trace  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "agentflow.telemetry needs the OpenTelemetry API: pip install 'agentflow-events[otel]'"
    ) from exc

from .observer import OpenTelemetryObserver

__all__ = ["OpenTelemetryObserver"]
