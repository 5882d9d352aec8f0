"""The metrics of :class:`~agentflow.telemetry.OpenTelemetryObserver`: instruments and the
live event counts.

Events are counted without touching the per-event path: a run's
:attr:`~agentflow.core.observe.RunObservation.counts` (kept by the run loop anyway) is read
by an observable counter when the metric reader collects, so an exporter sees events of a
run still going (``app.serve`` may last for days). Finished runs are folded into running
totals, which keeps the counter monotonic.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from ._names import (
    DIALECT,
    EVENT_TYPE,
    METRIC_EVENTS,
    METRIC_RECONNECTS,
    METRIC_REPLIES,
    METRIC_TOOL_DURATION,
    METRIC_VERDICTS,
)

if TYPE_CHECKING:
    from ..core.observe import RunObservation

__all__ = ["RunMetrics"]


def _snapshot(counts: Mapping[str, int]) -> dict[str, int]:
    # The run loop adds to this Counter while the exporter's thread reads it; copying a
    # dict is one step under the GIL, but stay safe should it change size mid-copy.
    for _ in range(3):
        try:
            return dict(counts)
        except RuntimeError:
            continue
    return {}


class RunMetrics:
    """The observer's instruments, made once from one meter."""

    def __init__(self, meter: Meter) -> None:
        self._lock = threading.Lock()
        self._live: dict[int, RunObservation] = {}
        self._totals: Counter[tuple[str, str]] = Counter()
        meter.create_observable_counter(
            METRIC_EVENTS,
            callbacks=[self._observe_events],
            unit="{event}",
            description="Events received by agentflow runs, by native type and dialect.",
        )
        self.tool_duration = meter.create_histogram(
            METRIC_TOOL_DURATION,
            unit="s",
            description="How long each execution of an @app.tool took.",
        )
        self.reconnects = meter.create_counter(
            METRIC_RECONNECTS,
            unit="{reconnect}",
            description="Times a run's channel reopened its connection.",
        )
        self.replies = meter.create_counter(
            METRIC_REPLIES,
            unit="{reply}",
            description="Replies (tool results, verdicts, answers) posted to the agent.",
        )
        self.verdicts = meter.create_counter(
            METRIC_VERDICTS,
            unit="{verdict}",
            description="Confirmation-policy decisions, by policy and verdict.",
        )

    def run_started(self, run: RunObservation) -> None:
        """Count ``run``'s events from now on (read at collection)."""
        with self._lock:
            self._live[id(run)] = run

    def run_ended(self, run: RunObservation) -> None:
        """Fold ``run``'s final counts into the totals."""
        counts = _snapshot(run.counts)
        with self._lock:
            self._live.pop(id(run), None)
            for event_type, count in counts.items():
                self._totals[(run.dialect, event_type)] += count

    def _observe_events(self, options: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            totals = Counter(self._totals)
            live = list(self._live.values())
        for run in live:
            for event_type, count in _snapshot(run.counts).items():
                totals[(run.dialect, event_type)] += count
        return [
            Observation(count, {DIALECT: dialect, EVENT_TYPE: event_type})
            for (dialect, event_type), count in totals.items()
        ]
