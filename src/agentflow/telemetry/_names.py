"""The names agentflow's spans, attributes and metrics use.

Tool executions follow the OpenTelemetry GenAI semantic conventions (``execute_tool``
spans, ``gen_ai.tool.*``); the rest is agentflow's own, under ``agentflow.*``.
"""

from __future__ import annotations

__all__ = [
    "CALL_KIND",
    "DIALECT",
    "ERROR_TYPE",
    "EVENT_ID",
    "EVENT_KIND",
    "EVENT_TYPE",
    "GEN_AI_CONVERSATION_ID",
    "GEN_AI_INPUT_TOKENS",
    "GEN_AI_OPERATION",
    "GEN_AI_OUTPUT_TOKENS",
    "METRIC_EVENTS",
    "METRIC_RECONNECTS",
    "METRIC_REPLIES",
    "METRIC_TOOL_DURATION",
    "METRIC_VERDICTS",
    "POLICY_MESSAGE",
    "POLICY_NAME",
    "POLICY_VERDICT",
    "REPLY_ATTEMPTS",
    "REPLY_COUNT",
    "REPLY_SENT",
    "REPLY_STATUS",
    "RUN_ERRORS",
    "RUN_EVENTS",
    "RUN_STOP_REASON",
    "RUN_TIME_TO_FIRST_TOKEN",
    "RUN_TOOL_CALLS",
    "RUN_UNANSWERED",
    "SESSION_ID",
    "SPAN_EVENT",
    "SPAN_POLICY",
    "SPAN_REPLY_POST",
    "SPAN_RUN",
    "TOOL_ARGUMENTS",
    "TOOL_CALL_ID",
    "TOOL_DESCRIPTION",
    "TOOL_NAME",
    "TOOL_OUTCOME",
    "TOOL_TYPE",
]

# -- span names (a tool's span is "execute_tool {tool name}", as the conventions say) --------
SPAN_RUN = "agentflow.run"
SPAN_POLICY = "agentflow.policy"
SPAN_REPLY_POST = "agentflow.reply.post"
SPAN_EVENT = "agentflow.event"  # + " {event type}"

# -- every span ------------------------------------------------------------------------------
SESSION_ID = "agentflow.session.id"
DIALECT = "agentflow.dialect"

# -- the run ---------------------------------------------------------------------------------
GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id"
RUN_STOP_REASON = "agentflow.run.stop_reason"
RUN_EVENTS = "agentflow.run.events"
RUN_TOOL_CALLS = "agentflow.run.tool_calls"
RUN_UNANSWERED = "agentflow.run.unanswered"
RUN_ERRORS = "agentflow.run.errors"
RUN_TIME_TO_FIRST_TOKEN = "agentflow.run.time_to_first_token"
GEN_AI_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"

# -- tool executions (GenAI semantic conventions) --------------------------------------------
GEN_AI_OPERATION = "gen_ai.operation.name"
TOOL_NAME = "gen_ai.tool.name"
TOOL_CALL_ID = "gen_ai.tool.call.id"
TOOL_TYPE = "gen_ai.tool.type"
TOOL_DESCRIPTION = "gen_ai.tool.description"
TOOL_ARGUMENTS = "gen_ai.tool.call.arguments"  # only with capture_tool_input=True
TOOL_OUTCOME = "agentflow.tool.outcome"
ERROR_TYPE = "error.type"

# -- policy decisions ------------------------------------------------------------------------
CALL_KIND = "agentflow.call.kind"
POLICY_NAME = "agentflow.policy.name"
POLICY_VERDICT = "agentflow.policy.verdict"
POLICY_MESSAGE = "agentflow.policy.message"

# -- reply posts -----------------------------------------------------------------------------
REPLY_COUNT = "agentflow.reply.count"
REPLY_ATTEMPTS = "agentflow.reply.attempts"
REPLY_STATUS = "agentflow.reply.status"
REPLY_SENT = "agentflow.reply.sent"

# -- events (with trace_events=True) -----------------------------------------------------
EVENT_TYPE = "agentflow.event.type"
EVENT_ID = "agentflow.event.id"
EVENT_KIND = "agentflow.event.kind"

# -- metrics ---------------------------------------------------------------------------------
METRIC_EVENTS = "agentflow.events"
METRIC_TOOL_DURATION = "agentflow.tool.duration"
METRIC_RECONNECTS = "agentflow.reconnects"
METRIC_REPLIES = "agentflow.replies.sent"
METRIC_VERDICTS = "agentflow.policy.verdicts"
