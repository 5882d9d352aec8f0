"""What a run counts while events go by, and the :class:`~agentflow.RunResult` it makes."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .results import RunResult, TokenUsage

if TYPE_CHECKING:
    from .actions.router import ActionsRouter
    from .dialect import Dialect
    from .events import Event

__all__ = ["Tally"]


class Tally:
    """Counts, timings, the final text and token usage of one run."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.started = time.perf_counter()
        self.counts: dict[str, int] = {}  # (a plain dict: a Counter's += is slower)
        self._message: Event | None = None  # the last completed message; its text is the run's
        self.first: float | None = None
        self.first_token: float | None = None
        self.last_id: str | None = None
        self.input_tokens = 0
        self.output_tokens = 0

    def count(self, event: Event) -> None:
        """Count an event as it arrives."""
        if self.first is None:
            self.first = time.perf_counter() - self.started
        counts = self.counts
        kind = event.type
        counts[kind] = counts.get(kind, 0) + 1
        self.last_id = event.id or self.last_id

    def after(self, event: Event, turn_started: bool, asked: bool = True) -> None:
        """Take what the run reports from an event once it was handled.

        ``asked=False`` (a type of the dialect's ``inert_types``): it reports no usage."""
        kind = event.kind
        if kind == "message.delta" or kind == "message.completed":
            if self.first_token is None and turn_started:
                self.first_token = time.perf_counter() - self.started
            if kind == "message.completed" and turn_started:
                self._message = event  # joined into text once, when the result is made
        usage = self.dialect.usage(event) if asked else None
        if usage is not None:
            self.input_tokens += usage.input_tokens
            self.output_tokens += usage.output_tokens

    @property
    def text(self) -> str:
        """The text of the last message completed in the turn (``""`` before one)."""
        return self._message.text if self._message is not None else ""

    def result(self, session_id: str, stop_reason: str, router: ActionsRouter | None) -> RunResult:
        """The :class:`~agentflow.RunResult` so far."""
        return RunResult(
            session_id=session_id,
            stop_reason=stop_reason,
            dialect=self.dialect.name,
            text=self.text,
            tool_calls=list(router.records) if router is not None else [],
            counts=dict(self.counts),
            events=sum(self.counts.values()),
            time_to_first_event=self.first,
            time_to_first_token=self.first_token,
            usage=TokenUsage(input_tokens=self.input_tokens, output_tokens=self.output_tokens),
            duration=time.perf_counter() - self.started,
            unanswered=list(router.unanswered) if router is not None else [],
            errors=list(router.errors) if router is not None else [],
            last_event_id=self.last_id,
        )
