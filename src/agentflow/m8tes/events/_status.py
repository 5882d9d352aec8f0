"""``run.<status>``: a run's status as an event, made from ``GET /runs/{id}``.

A finished run has no stream (``GET /runs/{id}/stream`` answers 409), so what the channel
knows of its end comes from the run itself: the channel delivers a ``run.completed``,
``run.failed`` or ``run.cancelled`` event (no id: it is not a frame) and the run loop ends
there. ``run.awaiting_approval`` carries the run's open gates (``pending``), so a run that
attaches to a parked run can answer them first.
"""

from __future__ import annotations

from pydantic import Field

from ..models import Run
from ._base import ErrorText, M8tesEvent
from ._run import PermissionRequest

__all__ = ["RunStatus"]

_KINDS = {"completed": "turn.completed", "closed": "turn.completed", "failed": "turn.failed",
          "cancelled": "turn.cancelled"}  # fmt: skip


class RunStatus(M8tesEvent):
    """The run's status (``type`` is ``run.<status>``; ``run`` the resource)."""

    run: Run
    pending: list[PermissionRequest] = Field(default_factory=list)

    @classmethod
    def of(cls, run: Run, pending: list[PermissionRequest] | None = None) -> RunStatus:
        """The event for ``run`` (with its open gates, when it waits on any)."""
        return cls(type=f"run.{run.status}", run=run, pending=pending or [])

    @property
    def kind(self) -> str | None:
        return _KINDS.get(self.run.status)

    @property
    def text(self) -> str:
        return self.run.output or ""

    @property
    def error(self) -> ErrorText | None:
        run = self.run
        return None if run.error is None else ErrorText(run.error, run.error_code)

    def is_final_response(self) -> bool:
        return self.run.finished
