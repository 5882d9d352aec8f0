"""The Everruns dialect on its own: calls, pauses, settlements, turn ends, usage, replies."""

from __future__ import annotations

from typing import Any

import pytest

from agentflow import Allow, Deny, TokenCount, ToolReply
from agentflow.everruns import DECLINED_ANSWER, EVERRUNS
from agentflow.everruns.events import parse_event

D = EVERRUNS


def ev(event_type: str, data: Any) -> Any:
    return parse_event({"id": "event_9", "type": event_type, "sequence": 9, "data": data})


CALLS = {"tool_calls": [{"id": "c1", "name": "a", "arguments": {"n": 1}},
                        {"id": "c2", "name": "b", "arguments": {"n": 2}}]}  # fmt: skip
APPROVAL = {"approval_id": "approval_1", "tool_call": {"id": "c3", "name": "rm", "arguments": {}}}
QUESTION = {
    "question_set_id": "qset_1",
    "tool_call_id": "c4",
    "questions": [
        {"id": "q1", "question": "Which city?", "options": [{"label": "Oslo"}, {"label": "Paris"}]}
    ],  # fmt: skip
}


def test_a_tool_request_is_a_pause_naming_each_call_with_its_own_focused_event() -> None:
    event = ev("tool.call_requested", CALLS)
    pause = D.pause(event)
    assert pause is not None and pause.ids == ("c1", "c2")
    first, second = pause.calls
    assert (first.kind, first.name, first.input) == ("tool", "a", {"n": 1})
    assert (second.event.tool_name, second.event.tool_input) == ("b", {"n": 2})
    assert D.calls(event) == pause.calls  # history reads see the same calls


def test_approvals_and_questions_are_pauses_of_their_own() -> None:
    approval = D.pause(ev("tool.approval_requested", APPROVAL))
    assert approval is not None and approval.ids == ("c3",)
    (call,) = approval.calls
    assert (call.kind, call.name, call.data["approval_id"]) == ("approval", "rm", "approval_1")
    question = D.pause(ev("question.requested", QUESTION))
    assert question is not None and question.ids == ("qset_1",)
    (ask,) = question.calls
    assert (ask.kind, ask.text, ask.options) == ("question", "Which city?", ("Oslo", "Paris"))


@pytest.mark.parametrize(
    ("event_type", "data", "settled"),
    [
        ("tool.completed", {"tool_call_id": "c1", "success": True}, "c1"),
        ("tool.approval_resolved", {"tool_call_id": "c3", "decision": "deny"}, "c3"),
        ("question.answered", {"question_set_id": "qset_1", "answers": {"q1": "Oslo"}}, "qset_1"),
        ("tool.started", {"tool_call": {"id": "c1", "name": "a"}}, None),
    ],
)
def test_replies_seen_on_the_stream_settle_their_call(
    event_type: str, data: Any, settled: str | None
) -> None:
    assert D.settled(ev(event_type, data)) == settled


@pytest.mark.parametrize(
    ("event_type", "data", "reason"),
    [
        ("turn.completed", {}, "end_turn"),
        ("turn.failed", {"error": "x"}, "error"),
        ("turn.cancelled", {"reason": "cancelled"}, "cancelled"),
        ("turn.sealed", {"reason": "budget"}, "budget_reached"),
        ("turn.sealed", {"reason": "no_progress"}, "no_progress"),
        ("session.idled", {}, None),
        ("output.message.completed", {}, None),
    ],
)
def test_turn_ends(event_type: str, data: Any, reason: str | None) -> None:
    event = ev(event_type, data)
    assert D.turn_end(event) == reason
    assert D.terminal(event) is None


def test_usage_comes_from_the_turn_totals_only() -> None:
    usage = {"input_tokens": 120, "output_tokens": 30}
    assert D.usage(ev("turn.completed", {"usage": usage})) == TokenCount(120, 30)
    assert D.usage(ev("turn.cancelled", {"usage": usage})) == TokenCount(120, 30)
    assert D.usage(ev("session.idled", {"usage": usage})) is None  # the same turn again
    assert D.usage(ev("output.message.completed", {"usage": usage})) is None
    assert D.severity(ev("turn.failed", {})) == "exhausted"


def test_replies_in_the_wire_form() -> None:
    pause = D.pause(ev("tool.call_requested", CALLS))
    assert pause is not None
    first = pause.calls[0]
    assert D.tool_reply(first, ToolReply([{"type": "text", "text": "ok"}])) == {
        "tool_call_id": "c1", "result": "ok",
    }  # fmt: skip
    failed = D.tool_reply(first, ToolReply.failure("error", "boom"))
    assert failed == {"tool_call_id": "c1", "error": "boom"}
    image = [{"type": "image", "source": {"type": "url", "url": "u"}}]
    assert D.tool_reply(first, ToolReply(image))["result"] == image
    (gate,) = D.calls(ev("tool.approval_requested", APPROVAL))
    assert D.approval_reply(gate, Allow()) == {
        "tool_call_id": "c3", "decision": "allow", "approval_id": "approval_1",
    }  # fmt: skip
    denied = D.approval_reply(gate, Deny("not today"))
    assert (denied["decision"], denied["reason"]) == ("deny", "not today")
    (ask,) = D.calls(ev("question.requested", QUESTION))
    assert D.question_reply(ask, "Oslo") == {"question_set_id": "qset_1", "answers": {"q1": "Oslo"}}
    assert D.question_reply(ask, None)["answers"] == {"q1": DECLINED_ANSWER}
    for reply, target in ((failed, "c1"), (denied, "c3"), (D.question_reply(ask, "x"), "qset_1")):
        assert D.reply_target(reply) == target


def test_user_input() -> None:
    text = D.user_input("hi")
    assert text == {"message": {"role": "user", "content": [{"type": "text", "text": "hi"}]}}
    bare = D.user_input({"content": [{"type": "text", "text": "x"}]})
    assert bare["message"]["role"] == "user"
    assert D.user_input({"message": {"content": []}, "controls": {"a": 1}})["controls"] == {"a": 1}
