"""``span.*`` and ``workflow_run.*`` events."""

from __future__ import annotations

from typing import ClassVar, Literal

from ._base import BaseEvent
from ._common import _Stored, _WorkflowRun
from ._content import (
    ErrorObject,
    ModelUsage,
    WorkflowRunPhase,
    WorkflowRunResult,
)

__all__ = [
    "SpanModelRequestEnd",
    "SpanModelRequestStart",
    "SpanOutcomeEvaluationEnd",
    "SpanOutcomeEvaluationOngoing",
    "SpanOutcomeEvaluationStart",
    "WorkflowRunCreated",
    "WorkflowRunError",
    "WorkflowRunPhaseEnded",
    "WorkflowRunPhaseStarted",
    "WorkflowRunStatusEnded",
    "WorkflowRunStatusIdle",
    "WorkflowRunStatusRunning",
]


# ------------------------------------------------------------------ span.*


class SpanModelRequestStart(_Stored):
    """A model request started."""

    type: Literal["span.model_request_start"]


class SpanModelRequestEnd(_Stored):
    """A model request ended, with its token usage."""

    type: Literal["span.model_request_end"]
    event_kind: ClassVar[str | None] = "usage.updated"
    model_request_start_id: str
    model_usage: ModelUsage
    is_error: bool | None = None


class SpanOutcomeEvaluationStart(_Stored):
    """An outcome evaluation cycle started (``iteration`` is 0-based)."""

    type: Literal["span.outcome_evaluation_start"]
    outcome_id: str
    iteration: int


class SpanOutcomeEvaluationOngoing(_Stored):
    """An outcome evaluation is still running (a heartbeat)."""

    type: Literal["span.outcome_evaluation_ongoing"]
    outcome_id: str
    iteration: int


class SpanOutcomeEvaluationEnd(_Stored):
    """An outcome evaluation cycle ended with a ``result`` verdict."""

    type: Literal["span.outcome_evaluation_end"]
    outcome_id: str
    iteration: int
    outcome_evaluation_start_id: str
    result: str
    explanation: str
    usage: ModelUsage


# ------------------------------------------------------------------ workflow_run.*


class WorkflowRunCreated(_WorkflowRun):
    """A workflow run was created (its first event)."""

    type: Literal["workflow_run.created"]
    name: str
    description: str | None = None
    phases: list[WorkflowRunPhase]


class WorkflowRunStatusRunning(_WorkflowRun):
    """A workflow run is working."""

    type: Literal["workflow_run.status_running"]


class WorkflowRunStatusIdle(_WorkflowRun):
    """A workflow run is idle."""

    type: Literal["workflow_run.status_idle"]


class WorkflowRunPhaseStarted(_WorkflowRun):
    """A phase of a workflow run started."""

    type: Literal["workflow_run.phase_started"]
    workflow_run_phase_id: str


class WorkflowRunPhaseEnded(_WorkflowRun):
    """A phase of a workflow run ended."""

    type: Literal["workflow_run.phase_ended"]
    workflow_run_phase_id: str
    phase_started_id: str


class WorkflowRunError(BaseEvent):
    """A workflow run failed (``workflow_run_id`` is absent if no run was created)."""

    type: Literal["workflow_run.error"]
    event_kind: ClassVar[str | None] = "error"
    id: str
    processed_at: str
    error: ErrorObject
    workflow_run_id: str | None = None


class WorkflowRunStatusEnded(_WorkflowRun):
    """A workflow run ended (always its last event); ``completed`` does not mean success."""

    type: Literal["workflow_run.status_ended"]
    result: WorkflowRunResult
