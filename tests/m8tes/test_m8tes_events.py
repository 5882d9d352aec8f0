"""m8tes frames decode to typed events with the common kinds; the dialect reads them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentflow import Allow, DecodeError, Deny
from agentflow.core.dialect import Call, TokenCount
from agentflow.m8tes import DECLINED, M8TES, UnknownEvent, parse_frame
from agentflow.m8tes.dialect import FRAME_TYPES
from agentflow.m8tes.events import (
    KNOWN_TYPES,
    ErrorFrame,
    MessageStart,
    Metadata,
    RunStatus,
    TextDelta,
    attach,
)
from agentflow.m8tes.models import Run

ASK = {"questions": [{"question": "Which channel?", "header": "Channel",
                      "options": [{"label": "#general"}, {"label": "#ops"}]}]}  # fmt: skip

KINDS: list[tuple[dict[str, Any], str | None]] = [
    ({"type": "text-start", "id": "txt_1"}, None),
    ({"type": "text-delta", "id": "txt_1", "delta": "Hi"}, "message.delta"),
    ({"type": "text-end", "id": "txt_1"}, "message.completed"),
    ({"type": "reasoning-start", "id": "r"}, None),
    ({"type": "reasoning-delta", "id": "r", "delta": "hm"}, "reasoning.delta"),
    ({"type": "thinking-delta", "id": "r", "text": "hm"}, "reasoning.delta"),
    ({"type": "plan-delta", "id": "r", "plan": "1."}, "reasoning.delta"),
    ({"type": "reasoning-end", "id": "r"}, "reasoning.completed"),
    ({"type": "tool-call-start", "toolCallId": "t1", "toolName": "bash"}, "tool.started"),
    ({"type": "tool-call-delta", "toolCallId": "t1", "delta": '{"a"'}, "tool.args_delta"),
    ({"type": "tool-call-end", "toolCallId": "t1"}, None),
    ({"type": "tool-result-start", "toolCallId": "t1"}, None),
    ({"type": "tool-result-end", "toolCallId": "t1", "result": "ok"}, "tool.completed"),
    ({"type": "tool-result-end", "toolCallId": "t1", "result": "no", "is_error": True},
     "tool.failed"),
    ({"type": "todo-update", "tool_call_id": "t2", "todos": [{"content": "x"}]}, None),
    ({"type": "message-start", "messageId": "m1"}, None),
    ({"type": "metadata", "payload": {"run_id": 7}}, "turn.started"),
    ({"type": "run_metrics", "input_tokens_used": 10, "output_tokens_used": 2},
     "usage.updated"),
    ({"type": "done", "stop_reason": "end_turn", "completion_state": "complete"},
     "turn.completed"),
    ({"type": "cancelled", "run_id": 7}, "turn.cancelled"),
    ({"type": "error", "error": "Model limit.", "error_code": "rate_limit"}, "error"),
    ({"type": "AGENT_RUNNER_DIED", "message": "oom"}, "turn.failed"),
    ({"type": "mcp_error", "error": "server down"}, "error"),
    ({"type": "permission_request", "request_id": "p1", "tool_name": "bash",
      "tool_input": {"command": "ls"}, "tool_use_id": "t1"}, "approval.requested"),
    ({"type": "permission_request", "request_id": "p2", "tool_name": "AskUserQuestion",
      "tool_input": ASK, "tool_use_id": "t3"}, "input.requested"),
    ({"type": "awaiting_approval", "request_id": "p1", "tool_use_id": "t1"}, None),
    ({"type": "permission_resolved", "request_id": "p1", "resolved_status": "denied"},
     "approval.resolved"),
    ({"type": "sandbox-connecting", "message": "Booting."}, None),
    ({"type": "content_block_delta", "delta": {"type": "text_delta", "text": "x"}},
     "message.delta"),
    ({"type": "content_block_delta", "delta": {"type": "thinking_delta", "text": "y"}},
     "reasoning.delta"),
    ({"type": "content_block_delta", "id": "tu", "delta": {"type": "input_json_delta",
      "partial_json": "{"}}, "tool.args_delta"),
    ({"type": "content_block_start", "content_block": {"type": "tool_use", "id": "tu",
      "name": "read"}}, "tool.started"),
    ({"type": "tool_use", "id": "tu", "name": "read", "input": {"p": 1}}, "tool.started"),
    ({"type": "tool_result", "tool_use_id": "tu", "content": "x", "is_error": True},
     "tool.failed"),
    ({"type": "message_delta", "delta": {"text": "z"}}, "message.delta"),
    ({"type": "keep-alive"}, None),
    ({"type": "a-frame-from-the-future", "x": [1]}, None),
]  # fmt: skip


@pytest.mark.parametrize(("frame", "kind"), KINDS, ids=[f["type"] for f, _ in KINDS])
def test_every_frame_has_its_kind_and_keeps_the_wire_json(
    frame: dict[str, Any], kind: str | None
) -> None:
    data = json.dumps(frame).encode()
    event = attach(parse_frame(data), "7:3", data)
    assert (event.type, event.kind, event.id, event.position) == (frame["type"], kind, "7:3", 3)
    assert event.raw == frame  # camelCase keys, the block's own "id", unknown fields: as sent
    assert parse_frame(frame).raw == frame  # a dict decodes the same (raw from its fields)
    assert event.dialect is M8TES


def test_the_dialect_knows_every_documented_frame_type() -> None:
    assert KNOWN_TYPES == FRAME_TYPES
    assert isinstance(parse_frame({"type": "a-frame-from-the-future"}), UnknownEvent)


def test_conveniences_read_the_camel_case_fields() -> None:
    start = parse_frame({"type": "tool-call-start", "toolCallId": "t1", "toolName": "bash"})
    assert (start.tool_name, start.call_id, start.tool_input) == ("bash", "t1", None)
    delta = parse_frame({"type": "text-delta", "id": "txt_9", "delta": "Hello"})
    assert isinstance(delta, TextDelta)  # block_id, message_id... are their classes' own
    assert (delta.text, delta.block_id, delta.id) == ("Hello", "txt_9", None)  # no stream id yet
    message = parse_frame({"type": "message-start", "messageId": "m1"})
    assert isinstance(message, MessageStart) and message.message_id == "m1"
    error = parse_frame({"type": "error", "error": "Model limit.", "error_code": "rate_limit"})
    assert isinstance(error, ErrorFrame)
    assert (error.error, error.error_code, error.is_final_response()) == (
        "Model limit.", "rate_limit", False,
    )  # fmt: skip
    died = parse_frame({"type": "SANDBOX_QUOTA_EXHAUSTED", "message": "no quota"})
    assert died.error == "SANDBOX_QUOTA_EXHAUSTED: no quota" and died.is_final_response()
    assert parse_frame({"type": "done"}).is_final_response()
    metadata = parse_frame({"type": "metadata", "payload": {"run_id": 7}})
    assert isinstance(metadata, Metadata) and metadata.run_id == 7
    fallback = parse_frame({"type": "metadata", "run_id": 8})  # the SDK's fallback
    assert isinstance(fallback, Metadata) and fallback.run_id == 8
    assert parse_frame({"type": "thinking-delta", "id": "r", "text": "hm"}).text == "hm"


@pytest.mark.parametrize(
    "data",
    [b"not json", b"[1, 2]", b'{"no": "type"}', b'{"type": 3}',
     b'{"type": "done", "stop_reason": 5}'],
    ids=["invalid-json", "array", "no-type", "type-not-a-string", "bad-field"],
)  # fmt: skip
def test_bad_frames_raise_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError):
        parse_frame(data)


def test_a_permission_request_is_an_approval_call_and_the_pause() -> None:
    event = parse_frame({"type": "permission_request", "request_id": "p1", "tool_name": "bash",
                         "tool_input": {"command": "ls"}, "tool_use_id": "t1"})  # fmt: skip
    (call,) = M8TES.calls(event)
    assert (call.id, call.kind, call.name, call.input) == ("p1", "approval", "bash",
                                                           {"command": "ls"})  # fmt: skip
    assert call.data == {"request_id": "p1", "tool_use_id": "t1"}
    pause = M8TES.pause(event)
    assert pause is not None and pause.ids == ("p1",) and pause.calls == (call,)
    parked = parse_frame({"type": "awaiting_approval", "request_id": "p1", "tool_use_id": "t1"})
    assert M8TES.pause(parked) == type(pause)(("p1",)) and M8TES.calls(parked) == ()
    resolved = parse_frame({"type": "permission_resolved", "request_id": "p1"})
    assert M8TES.settled(resolved) == "p1" and M8TES.pause(resolved) is None


def test_approval_replies_carry_decision_reason_and_remember() -> None:
    call = Call("p1", "approval", parse_frame({"type": "done"}), "bash", data={"request_id": "p1"})
    assert M8TES.approval_reply(call, Deny("use the staging host")) == {
        "request_id": "p1", "decision": "deny", "remember": False,
        "reason": "use the staging host",
    }  # fmt: skip
    assert M8TES.approval_reply(call, Allow(remember=True)) == {
        "request_id": "p1", "decision": "allow", "remember": True,
    }  # fmt: skip
    assert M8TES.reply_target({"request_id": "p1", "decision": "allow"}) == "p1"


def test_a_question_gate_is_a_question_call_answered_per_question() -> None:
    event = parse_frame({"type": "permission_request", "request_id": "p2",
                         "tool_name": "AskUserQuestion", "tool_input": ASK})  # fmt: skip
    (call,) = M8TES.calls(event)
    assert (call.kind, call.text, call.options) == ("question", "Which channel?",
                                                    ("#general", "#ops"))  # fmt: skip
    assert event.kind == "input.requested" and event.text == "Which channel?"
    assert M8TES.question_reply(call, "#ops") == {
        "request_id": "p2",
        "answers": {"Which channel?": "#ops"},
    }
    assert M8TES.question_reply(call, None) == {
        "request_id": "p2",
        "answers": {"Which channel?": DECLINED},
    }


def test_turn_ends_stop_reasons_and_severities() -> None:
    def frame(**fields: Any) -> Any:
        return parse_frame(fields)

    assert M8TES.turn_end(frame(type="done", stop_reason="max_tokens")) == "max_tokens"
    assert M8TES.turn_end(frame(type="done")) == "end_turn"
    assert M8TES.turn_end(frame(type="cancelled")) == "cancelled"
    assert M8TES.turn_end(frame(type="AGENT_RUNNER_DIED")) == "error"
    assert M8TES.turn_end(frame(type="error", error="x")) is None  # the run may recover
    assert M8TES.severity(frame(type="error", error="x")) == "exhausted"
    assert M8TES.severity(frame(type="mcp_error")) == "retrying"
    assert M8TES.severity(frame(type="done")) is None
    assert M8TES.terminal(frame(type="done")) is None  # a reply opens a new turn
    finished = RunStatus.of(Run(id=7, status="completed", stop_reason="end_turn", output="Hi"))
    assert (finished.type, finished.kind, finished.text, finished.id) == (
        "run.completed", "turn.completed", "Hi", None,
    )  # fmt: skip
    assert M8TES.terminal(finished) == M8TES.turn_end(finished) == "end_turn"
    failed = RunStatus.of(Run(id=7, status="failed", error="boom"))
    assert (M8TES.terminal(failed), failed.error, M8TES.severity(failed)) == (
        "error", "boom", "exhausted",
    )  # fmt: skip
    assert M8TES.terminal(RunStatus.of(Run(id=7, status="running"))) is None


def test_usage_is_what_the_stream_attached_and_user_input_is_a_reply() -> None:
    metrics = parse_frame({"type": "run_metrics", "input_tokens_used": 300})
    assert M8TES.usage(metrics) is None  # nothing attached: not read by a stream
    attach(metrics, "7:1", None, {"added_tokens": TokenCount(200, 5)})
    assert M8TES.usage(metrics) == TokenCount(200, 5)
    assert M8TES.user_input("go on") == {"message": "go on"}
    assert M8TES.user_input({"message": "x", "permission_mode": "plan"}) == {
        "message": "x",
        "permission_mode": "plan",
    }
