"""What a run reports: :class:`RunResult` and one :class:`ToolCallRecord` per tool call."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CallKind", "CallOutcome", "RunResult", "ToolCallRecord"]

CallKind = Literal["custom", "confirmation", "other"]
CallOutcome = Literal[
    "ok",
    "error",
    "timeout",
    "invalid_input",
    "allowed",
    "denied",
    "recovered",
    "interrupted",
    "unanswered",
]


class ToolCallRecord(BaseModel):
    """One call the requires_action router handled (or left for someone else).

    ``outcome`` is, for a custom tool, ``ok``, ``error`` (it raised), ``timeout`` or
    ``invalid_input`` (it never ran); for a confirmation ``allowed`` or ``denied``;
    ``recovered`` when a reply stored by an earlier run was posted without running anything
    again; ``interrupted`` when an earlier run started the tool but stopped before it finished
    (the tool is not run twice: the agent gets an error result); ``unanswered`` for ids this
    app does not own (no executor, not ``ask``-gated, or the event was not found).
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    """The id of the event that asked (``agent.custom_tool_use`` / ``agent.tool_use`` id)."""
    name: str | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    kind: CallKind = "other"
    outcome: CallOutcome = "unanswered"
    is_error: bool = False
    duration_s: float = 0.0
    reply: dict[str, Any] | None = None
    """The reply event as sent (``user.custom_tool_result`` / ``user.tool_confirmation``)."""
    sent: bool = False
    """True once the reply was posted by this run."""
    policy: str | None = None
    """For confirmations: the plugin that decided, or ``"default"``."""
    error: str | None = None
    """The tool's error text, or why a policy failed or a call was left unanswered."""


class RunResult(BaseModel):
    """What ``app.run(...)`` returns once the turn ends (or ``app.serve(...)`` once it stops).

    ``stop_reason`` is the ``stop_reason.type`` of the final idle (``end_turn``,
    ``retries_exhausted``, ``budget_reached``, ``refusal``, …), ``"terminated"`` or
    ``"deleted"`` when the session ended, ``"stopped"`` after ``ctx.stop()``, or
    ``"stream_ended"`` if the stream closed first. ``text`` is the text of the last
    ``agent.message`` of the run. ``time_to_first_event`` is measured from the start of the
    run (before the stream is opened) to the first event received; ``duration`` is the whole
    run, in seconds.
    """

    model_config = ConfigDict(extra="forbid")

    session_id: str
    stop_reason: str
    text: str = ""
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)
    """Events received, by type."""
    events: int = 0
    """Events received in total."""
    time_to_first_event: float | None = None
    duration: float = 0.0
    unanswered: list[str] = Field(default_factory=list)
    """Ids of ``requires_action`` events this app did not answer (see ``tool_calls``)."""
    errors: list[str] = Field(default_factory=list)
    """Problems reported during the run: failing policies, retried sends, missing events."""
    last_event_id: str | None = None

    @property
    def ok(self) -> bool:
        """True when the turn ended normally (``end_turn``) with nothing left unanswered."""
        return self.stop_reason == "end_turn" and not self.unanswered
