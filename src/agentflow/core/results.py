"""What a run reports: :class:`RunResult` and one :class:`ToolCallRecord` per tool call."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CallKind", "CallOutcome", "RunResult", "TokenUsage", "ToolCallRecord"]

CallKind = Literal["custom", "confirmation", "question", "other"]
CallOutcome = Literal[
    "ok",
    "error",
    "timeout",
    "invalid_input",
    "invalid_output",
    "allowed",
    "denied",
    "answered",
    "declined",
    "recovered",
    "interrupted",
    "unknown",
    "rejected",
    "unanswered",
]


class ToolCallRecord(BaseModel):
    """One call the actions router handled (or left for someone else).

    ``kind`` is ``custom`` for a tool the client runs (a Managed Agents custom tool, any tool
    of the Messages loop, an Everruns client-side tool), ``confirmation`` for an approval
    gate, ``question`` for a question to the user. ``outcome`` is, for a tool, ``ok``,
    ``error`` (it raised), ``timeout``, ``invalid_input`` (it never ran), ``invalid_output``
    (it returned content blocks no server accepts: the agent got an error result naming the
    problem), ``denied`` (a ``confirm=True`` tool refused by a policy: it never ran) or
    ``unknown`` (no such tool: the agent got an error result); for a confirmation ``allowed``
    or ``denied``; for a question ``answered`` or ``declined``; ``recovered`` when a reply
    stored by an earlier run was posted without running anything again; ``interrupted`` when
    an earlier run started the tool but stopped before it finished (the tool is not run twice:
    the agent gets an error result); ``rejected`` when the server refused the reply itself
    (the agent got an error result, or a deny, in its place: see ``error``); ``unanswered``
    for ids this app leaves to their owner (another client, or a live run that holds the
    call).
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    """The id the answer refers to (Managed Agents: the tool-use event's id)."""
    name: str | None = None
    input: Any = Field(default_factory=dict)
    """The call's input as the agent sent it (normally an object)."""
    kind: CallKind = "other"
    outcome: CallOutcome = "unanswered"
    is_error: bool = False
    duration_s: float = 0.0
    reply: dict[str, Any] | None = None
    """The reply as sent, in the dialect's form (``user.custom_tool_result``, ...)."""
    sent: bool = False
    """True once the reply was posted by this run."""
    policy: str | None = None
    """For gated calls: the policy that decided (a function or plugin class name), or
    ``"default"``."""
    error: str | None = None
    """The tool's error text, or why a policy failed or a call was left unanswered."""


class TokenUsage(BaseModel):
    """Tokens the run's model requests used, where the dialect reports them."""

    model_config = ConfigDict(extra="forbid")

    input_tokens: int = 0
    output_tokens: int = 0


class RunResult(BaseModel):
    """What ``app.run(...)`` returns once the turn ends (or ``app.serve(...)`` once it stops).

    ``stop_reason`` is one vocabulary across dialects: how the turn ended (``end_turn``,
    ``max_tokens``, ``refusal``, ``retries_exhausted``, ``budget_reached``, ``error``,
    ``cancelled``, ...), ``"terminated"`` or ``"deleted"`` when the session ended,
    ``"stopped"`` after ``ctx.stop()``, ``"until"`` when the ``until`` predicate ended it, or
    ``"stream_ended"`` if the stream closed first. ``text`` is the text of the last whole
    message (``kind == "message.completed"``) of the turn. ``time_to_first_event`` and
    ``time_to_first_token`` (the first ``message.delta``, else the first whole message) are
    measured from the start of the run (before the stream is opened); ``duration`` is the
    whole run, in seconds; ``usage`` sums the tokens the dialect reports.
    """

    model_config = ConfigDict(extra="forbid")

    session_id: str
    stop_reason: str
    dialect: str | None = None
    """The name of the dialect the run spoke (``managed_agents``, ``messages``, ...)."""
    text: str = ""
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)
    """Events received, by type."""
    events: int = 0
    """Events received in total."""
    time_to_first_event: float | None = None
    time_to_first_token: float | None = None
    usage: TokenUsage = Field(default_factory=TokenUsage)
    duration: float = 0.0
    unanswered: list[str] = Field(default_factory=list)
    """Ids of calls this app left unanswered (see ``tool_calls``)."""
    errors: list[str] = Field(default_factory=list)
    """Problems reported during the run: failing policies, retried sends, missing events."""
    last_event_id: str | None = None

    @property
    def ok(self) -> bool:
        """True when the turn ended normally (``end_turn``) with nothing left unanswered."""
        return self.stop_reason == "end_turn" and not self.unanswered
