"""What goes on agentflow's spans and metric points: attributes from the observations.

Nothing here reads an API key, and tool input is only written when asked for
(``capture_tool_input``): every attribute comes from the fields named below.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import Status, StatusCode

from ..core.verdicts import Allow, Deny
from ._names import (
    CALL_KIND,
    DIALECT,
    ERROR_TYPE,
    EVENT_ID,
    EVENT_KIND,
    EVENT_TYPE,
    GEN_AI_CONVERSATION_ID,
    GEN_AI_INPUT_TOKENS,
    GEN_AI_OPERATION,
    GEN_AI_OUTPUT_TOKENS,
    POLICY_MESSAGE,
    POLICY_NAME,
    POLICY_VERDICT,
    REPLY_ATTEMPTS,
    REPLY_SENT,
    REPLY_STATUS,
    RUN_ERRORS,
    RUN_EVENTS,
    RUN_STOP_REASON,
    RUN_TIME_TO_FIRST_TOKEN,
    RUN_TOOL_CALLS,
    RUN_UNANSWERED,
    SESSION_ID,
    TOOL_ARGUMENTS,
    TOOL_CALL_ID,
    TOOL_DESCRIPTION,
    TOOL_NAME,
    TOOL_OUTCOME,
    TOOL_TYPE,
)

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from ..core.answers import ToolReply
    from ..core.context import Context
    from ..core.events import Event
    from ..core.observe import PolicyObservation, PostObservation, RunObservation, ToolObservation
    from ..core.results import RunResult
    from ..core.verdicts import Decision

__all__ = [
    "error_type",
    "event_start",
    "policy_start",
    "post_end",
    "run_end",
    "run_start",
    "set_decision",
    "set_tool_outcome",
    "tool_metric",
    "tool_start",
    "verdict_metric",
]

_TOOL_TYPE = "function"  # an @app.tool is a function run by this process


def error_type(reply: ToolReply) -> str:
    """``error.type`` of a failed tool: the exception's class, or the outcome's name."""
    exc = reply.exception
    if reply.outcome == "timeout" or exc is None:
        return reply.outcome  # "timeout", "invalid_input": short names, as the conventions do
    cls = type(exc)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def run_start(run: RunObservation) -> dict[str, Any]:
    """The run span's attributes known at its start."""
    session = run.session_id
    return {SESSION_ID: session, GEN_AI_CONVERSATION_ID: session, DIALECT: run.dialect}


def run_end(result: RunResult) -> dict[str, Any]:
    """The run span's attributes from its result."""
    attributes: dict[str, Any] = {
        RUN_STOP_REASON: result.stop_reason,
        RUN_EVENTS: result.events,
        RUN_TOOL_CALLS: len(result.tool_calls),
        RUN_UNANSWERED: len(result.unanswered),
        RUN_ERRORS: len(result.errors),
        GEN_AI_INPUT_TOKENS: result.usage.input_tokens,
        GEN_AI_OUTPUT_TOKENS: result.usage.output_tokens,
    }
    if result.time_to_first_token is not None:
        attributes[RUN_TIME_TO_FIRST_TOKEN] = result.time_to_first_token
    return attributes


def tool_start(tool: ToolObservation, *, capture_input: bool) -> dict[str, Any]:
    """An ``execute_tool`` span's attributes (GenAI semantic conventions)."""
    call = tool.call
    attributes: dict[str, Any] = {
        GEN_AI_OPERATION: "execute_tool",
        TOOL_NAME: call.name or "",
        TOOL_CALL_ID: call.id,
        TOOL_TYPE: _TOOL_TYPE,
        SESSION_ID: tool.session_id,
    }
    description = getattr(tool.tool, "description", None)
    if isinstance(description, str) and description:
        attributes[TOOL_DESCRIPTION] = description
    if capture_input:
        attributes[TOOL_ARGUMENTS] = json.dumps(call.input, default=str)
    return attributes


def set_tool_outcome(span: Span, reply: ToolReply) -> None:
    """The outcome on the span; a failure also gets ``error.type``, an exception event
    (the exception itself, with its traceback, where the tool raised) and an error status."""
    span.set_attribute(TOOL_OUTCOME, reply.outcome)
    if not reply.is_error:
        return
    kind = error_type(reply)
    span.set_attribute(ERROR_TYPE, kind)
    if reply.exception is not None:
        span.record_exception(reply.exception)
    else:
        message = reply.error or ""
        span.add_event("exception", {"exception.type": kind, "exception.message": message})
    span.set_status(Status(StatusCode.ERROR, reply.error))


def tool_metric(tool: ToolObservation) -> dict[str, Any]:
    """The attributes of a point of ``agentflow.tool.duration`` (low cardinality)."""
    attributes: dict[str, Any] = {TOOL_NAME: tool.call.name or "", TOOL_TYPE: _TOOL_TYPE}
    reply = tool.reply
    if reply is not None:
        attributes[TOOL_OUTCOME] = reply.outcome
        if reply.is_error:
            attributes[ERROR_TYPE] = error_type(reply)
    return attributes


def _verdict(decision: Decision) -> str:
    return "allow" if isinstance(decision.verdict, Allow) else "deny"


def policy_start(policy: PolicyObservation) -> dict[str, Any]:
    """A policy span's attributes known before the decision."""
    call = policy.call
    return {
        CALL_KIND: call.kind,
        TOOL_NAME: call.name or "",
        TOOL_CALL_ID: call.id,
        SESSION_ID: policy.session_id,
    }


def set_decision(span: Span, decision: Decision) -> None:
    """The decision on a policy span; a policy that failed also gets an error status."""
    span.set_attributes({POLICY_NAME: decision.policy, POLICY_VERDICT: _verdict(decision)})
    if isinstance(decision.verdict, Deny):
        span.set_attribute(POLICY_MESSAGE, decision.verdict.message)
    if decision.error is not None:  # the policy raised or timed out: the call was denied
        span.record_exception(decision.error)
        span.set_status(Status(StatusCode.ERROR, str(decision.error)))


def verdict_metric(decision: Decision) -> dict[str, Any]:
    """The attributes of a point of ``agentflow.policy.verdicts``."""
    return {POLICY_NAME: decision.policy, POLICY_VERDICT: _verdict(decision)}


def post_end(post: PostObservation) -> dict[str, Any]:
    """A reply-post span's attributes once it ended."""
    return {REPLY_ATTEMPTS: post.attempts, REPLY_STATUS: post.status, REPLY_SENT: post.sent}


def event_start(event: Event, ctx: Context) -> dict[str, Any]:
    """An event span's attributes."""
    attributes: dict[str, Any] = {EVENT_TYPE: event.type}
    if event.id is not None:
        attributes[EVENT_ID] = event.id
    if event.kind is not None:
        attributes[EVENT_KIND] = event.kind
    if ctx.session_id is not None:
        attributes[SESSION_ID] = ctx.session_id
    return attributes
