""":class:`OpenTelemetryObserver`: agentflow's runs as OpenTelemetry spans and metrics."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from .._version import __version__
from ..core.observe import Observer
from ._attributes import (
    event_start,
    policy_start,
    post_end,
    run_end,
    run_start,
    set_decision,
    set_tool_outcome,
    tool_metric,
    tool_start,
    verdict_metric,
)
from ._metrics import RunMetrics
from ._names import (
    DIALECT,
    REPLY_COUNT,
    SESSION_ID,
    SPAN_EVENT,
    SPAN_POLICY,
    SPAN_REPLY_POST,
    SPAN_RUN,
)

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import Tracer, TracerProvider

    from ..core.context import Context
    from ..core.events import Event
    from ..core.observe import (
        PolicyObservation,
        PostObservation,
        ReconnectObservation,
        RunObservation,
        ToolObservation,
    )

__all__ = ["OpenTelemetryObserver"]

_INSTRUMENTATION = "agentflow"
_OFF = (trace.ProxyTracerProvider, trace.NoOpTracerProvider)


class OpenTelemetryObserver(Observer):
    """Spans and metrics of an app's runs, through OpenTelemetry's global providers.

    ::

        from agentflow.telemetry import OpenTelemetryObserver

        app = App(observers=[OpenTelemetryObserver()])

    Spans: ``agentflow.run`` around each run (session id, dialect, stop reason, counts,
    tokens); ``execute_tool {name}`` around each tool execution, with the GenAI semantic
    conventions' attributes (``gen_ai.tool.name``, ``gen_ai.tool.call.id``, ...), an error
    status and an exception event when the tool fails or times out; ``agentflow.policy``
    per policy decision; ``agentflow.reply.post`` per batch of replies; and, only with
    ``App(trace_events=True)``, ``agentflow.event {type}`` per dispatch. Handlers and tools
    run inside these spans, so the spans they start nest under them.

    Metrics: ``agentflow.events`` (by type and dialect), ``agentflow.tool.duration``,
    ``agentflow.reconnects``, ``agentflow.replies.sent``, ``agentflow.policy.verdicts``.

    While no tracer provider is configured (OpenTelemetry's default, a no-op), no span is
    made and the hooks step aside. No attribute carries an API key; tool input is recorded
    (``gen_ai.tool.call.arguments``) only with ``capture_tool_input=True``, as it may be
    sensitive. ``tracer_provider`` / ``meter_provider`` replace the global ones.
    """

    def __init__(
        self,
        *,
        capture_tool_input: bool = False,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self.capture_tool_input = capture_tool_input
        self._tracer_provider = tracer_provider
        self._provider: object = None
        self._tracer: Tracer | None = None
        # A meter from the global provider is a proxy until one is set, then forwards to it.
        meter = metrics.get_meter(_INSTRUMENTATION, __version__, meter_provider)
        self._metrics = RunMetrics(meter)

    def __repr__(self) -> str:
        return f"OpenTelemetryObserver(capture_tool_input={self.capture_tool_input!r})"

    def tracer(self) -> Tracer | None:
        """The tracer to use now, or ``None`` while no tracer provider is configured."""
        provider = self._tracer_provider or trace.get_tracer_provider()
        if provider is not self._provider:  # looked at once per provider, not per span
            self._provider = provider
            off = isinstance(provider, _OFF)
            self._tracer = None if off else provider.get_tracer(_INSTRUMENTATION, __version__)
        return self._tracer

    # -- runs and tools ----------------------------------------------------------------------

    def on_run(self, run: RunObservation) -> AbstractContextManager[None]:
        """The run's span; its live event counts feed ``agentflow.events``."""
        return self._run(run)

    @contextmanager
    def _run(self, run: RunObservation) -> Iterator[None]:
        self._metrics.run_started(run)
        try:
            tracer = self.tracer()
            if tracer is None:
                yield
                return
            with tracer.start_as_current_span(SPAN_RUN, attributes=run_start(run)) as span:
                try:
                    yield
                finally:
                    if run.result is not None:
                        span.set_attributes(run_end(run.result))
                        if run.result.stop_reason == "error":
                            span.set_status(Status(StatusCode.ERROR, "the turn ended in error"))
        finally:
            self._metrics.run_ended(run)

    def on_tool(self, tool: ToolObservation) -> AbstractContextManager[None]:
        """An ``execute_tool {name}`` span; the tool's duration."""
        return self._tool(tool)

    @contextmanager
    def _tool(self, tool: ToolObservation) -> Iterator[None]:
        started = time.perf_counter()
        try:
            tracer = self.tracer()
            if tracer is None:
                yield
                return
            with tracer.start_as_current_span(
                f"execute_tool {tool.call.name}",
                kind=SpanKind.INTERNAL,
                attributes=tool_start(tool, capture_input=self.capture_tool_input),
            ) as span:
                yield
                if tool.reply is not None:
                    set_tool_outcome(span, tool.reply)
        finally:
            took = time.perf_counter() - started
            self._metrics.tool_duration.record(took, tool_metric(tool))

    # -- policies and replies ----------------------------------------------------------------

    def on_policy(self, policy: PolicyObservation) -> AbstractContextManager[None]:
        """An ``agentflow.policy`` span; counts the verdict."""
        return self._policy(policy)

    @contextmanager
    def _policy(self, policy: PolicyObservation) -> Iterator[None]:
        try:
            tracer = self.tracer()
            if tracer is None:
                yield
                return
            with tracer.start_as_current_span(SPAN_POLICY, attributes=policy_start(policy)) as span:
                try:
                    yield
                finally:
                    if policy.decision is not None:
                        set_decision(span, policy.decision)
        finally:
            if policy.decision is not None:
                self._metrics.verdicts.add(1, verdict_metric(policy.decision))

    def on_post(self, post: PostObservation) -> AbstractContextManager[None]:
        """An ``agentflow.reply.post`` span; counts the replies sent."""
        return self._post(post)

    @contextmanager
    def _post(self, post: PostObservation) -> Iterator[None]:
        try:
            tracer = self.tracer()
            if tracer is None:
                yield
                return
            start: dict[str, Any] = {REPLY_COUNT: post.count, SESSION_ID: post.session_id}
            with tracer.start_as_current_span(SPAN_REPLY_POST, attributes=start) as span:
                try:
                    yield
                finally:
                    span.set_attributes(post_end(post))
        finally:
            if post.sent:
                self._metrics.replies.add(post.sent, {DIALECT: post.dialect})

    # -- reconnects and events ---------------------------------------------------------------

    def on_reconnect(self, reconnect: ReconnectObservation) -> None:
        """Counts the reconnect; notes it on the current span (the run's)."""
        self._metrics.reconnects.add(1, {DIALECT: reconnect.dialect})
        if self.tracer() is not None:
            trace.get_current_span().add_event(
                "agentflow.reconnect",
                {
                    "agentflow.reconnect.attempt": reconnect.attempt,
                    "agentflow.reconnect.delay": reconnect.delay,
                    "agentflow.reconnect.error": reconnect.error,
                },
            )

    def on_event(self, event: Event, ctx: Context) -> AbstractContextManager[Any] | None:
        """An ``agentflow.event {type}`` span per dispatch (``trace_events=True`` only)."""
        tracer = self.tracer()
        if tracer is None:
            return None
        return tracer.start_as_current_span(
            f"{SPAN_EVENT} {event.type}", attributes=event_start(event, ctx)
        )
