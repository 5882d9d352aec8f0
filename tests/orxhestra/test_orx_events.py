"""orxhestra's events as agentflow events, and what the orxhestra dialect reads in them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from orx_support import collect, file_tools
from orxhestra.events.event import Event as NativeEvent
from orxhestra.events.event import EventType
from orxhestra.models.llm_response import LlmResponse
from orxhestra.models.part import Content, ToolCallPart, ToolResponsePart

from agentflow import Event, TokenCount
from agentflow.core.answers import ToolReply
from agentflow.orxhestra import ORXHESTRA, CallView, OrxhestraEvent, kind_of
from agentflow.orxhestra.dialect import verdict_of
from agentflow.plugins import Allow, Deny
from agentflow.testing import CustomTool, Say, Scenario, Turn
from agentflow.testing.orxhestra import scenario_runner


def native(**fields: Any) -> Any:
    return NativeEvent(**{"type": EventType.AGENT_MESSAGE, **fields})


def calls_event() -> Any:
    parts = [
        ToolCallPart(tool_call_id="c1", tool_name="read_file", args={"path": "a"}),
        ToolCallPart(tool_call_id="c2", tool_name="human_input", args={"question": "Why?"}),
        ToolCallPart(tool_call_id="c3", tool_name="ping", args={}),
    ]
    usage = LlmResponse(input_tokens=7, output_tokens=3)
    return native(content=Content(parts=parts), llm_response=usage)


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"partial": True, "content": Content.from_text("Hel")}, "message.delta"),
        ({"partial": True, "content": Content.from_thinking("hmm")}, "reasoning.delta"),
        ({"partial": True, "content": Content.from_text("I think"),
          "metadata": {"react_step": "thought"}}, "reasoning.delta"),
        ({"partial": True}, None),
        ({"partial": False, "content": Content.from_text("Hello.")}, "message.completed"),
        ({"partial": False}, "message.completed"),  # an empty answer is still the answer
        ({"content": Content.from_text("boom"), "metadata": {"error": True}}, "error"),
        ({"content": Content.from_text("I think"), "metadata": {"react_step": "thought"}},
         "reasoning.completed"),
        ({"metadata": {"react_step": "action", "action": "x"}}, None),
        ({"content": Content.from_text("Compacting context..."),
          "metadata": {"compacting": True}}, None),
        ({"type": EventType.AGENT_START}, None),
        ({"type": EventType.USER_MESSAGE, "content": Content.from_text("hi")}, None),
    ],
)  # fmt: skip
def test_kinds(fields: dict[str, Any], kind: str | None) -> None:
    assert kind_of(native(**fields)) == kind


def test_tool_events_and_their_kinds() -> None:
    assert OrxhestraEvent(calls_event()).kind == "tool.started"
    ok = ToolResponsePart(tool_call_id="c1", tool_name="read_file", result="text")
    failed = ToolResponsePart(tool_call_id="c3", tool_name="ping", error="no")
    responses = [NativeEvent(type=EventType.TOOL_RESPONSE, content=Content(parts=[part]))
                 for part in (ok, failed)]  # fmt: skip
    done, broken = (OrxhestraEvent(r) for r in responses)
    assert (done.kind, done.call_id, done.error, done.tool_name) == (
        "tool.completed", "c1", None, "read_file"
    )  # fmt: skip
    assert (broken.kind, broken.error) == ("tool.failed", "no")
    assert (
        ORXHESTRA.settled(done) == "c1" and ORXHESTRA.settled(OrxhestraEvent(calls_event())) is None
    )


async def test_the_wrapper_keeps_the_native_events_type_properties_and_methods() -> None:
    scenario = Scenario([Turn([Say("Looking."), CustomTool("read_file", {"path": "a"}),
                               Say("Found it.")])])  # fmt: skip
    natives = await collect(scenario_runner(scenario, file_tools([])), "Find it.")
    partial, call, reply, _, final = (OrxhestraEvent(n) for n in natives)
    assert isinstance(final, Event) and final.native is natives[-1]
    assert (final.type, final.id, final.dialect) == ("agent_message", natives[-1].id, ORXHESTRA)
    assert (final.text, final.is_final_response(), final.metadata) == ("Found it.", True, {})
    assert final.partial is False and final.turn_complete is True  # orxhestra's own fields
    assert final.to_langchain_message() == AIMessage(content="Found it.")
    assert (partial.text, partial.kind) == ("Looking.", "message.delta")
    assert not partial.is_final_response()
    assert [p.tool_name for p in call.tool_calls] == ["read_file"] and call.has_tool_calls
    assert (call.tool_name, call.tool_input, call.call_id) == ("read_file", {"path": "a"}, "call_1")
    assert call.llm_response.text == "Looking."
    message = reply.to_langchain_message()
    assert isinstance(message, ToolMessage) and message.content == "contents of a"
    assert reply.raw == json.loads(natives[2].model_dump_json())  # the native event as JSON
    assert json.dumps(final.raw)
    assert repr(final) == (
        f"OrxhestraEvent(type='agent_message', kind='message.completed', id={final.id!r}, "
        "text='Found it.')"
    )
    with pytest.raises(AttributeError, match="no_such_thing"):
        final.no_such_thing  # noqa: B018


def test_calls_are_announced_for_the_tools_this_client_answers() -> None:
    event = OrxhestraEvent(calls_event(), {"read_file": "approval", "human_input": "question"})
    approval, question = ORXHESTRA.calls(event)
    assert (approval.id, approval.kind, approval.name, approval.input) == (
        "c1", "approval", "read_file", {"path": "a"}
    )  # fmt: skip
    assert (question.id, question.kind, question.text) == ("c2", "question", "Why?")
    # A policy sees the one call it decides, not the batch's first.
    view = question.event
    assert isinstance(view, CallView) and view.native is event.native
    assert (view.tool_name, view.tool_input, view.call_id) == ("human_input", {"question": "Why?"},
                                                               "c2")  # fmt: skip
    assert ORXHESTRA.calls(OrxhestraEvent(calls_event())) == ()  # no roles: nothing to answer


def test_turn_end_severity_and_usage() -> None:
    event = OrxhestraEvent(native(partial=False, content=Content.from_text("Done.")))
    assert ORXHESTRA.turn_end(event) is None
    event.ends_turn = "end_turn"  # what the channel marks on a turn's last event
    assert ORXHESTRA.turn_end(event) == "end_turn"
    error = OrxhestraEvent(native(content=Content.from_text("x"), metadata={"error": True}))
    assert (ORXHESTRA.severity(error), ORXHESTRA.severity(event)) == ("exhausted", None)
    assert ORXHESTRA.usage(OrxhestraEvent(calls_event())) == TokenCount(7, 3)
    assert ORXHESTRA.usage(event) is None
    assert ORXHESTRA.usage(OrxhestraEvent(native(llm_response=LlmResponse()))) is None


def test_replies_in_the_dialects_form() -> None:
    (call,) = ORXHESTRA.calls(OrxhestraEvent(calls_event(), {"ping": "tool"}))
    reply = ORXHESTRA.tool_reply(call, ToolReply.failure("error", "down"))
    assert reply == {"tool_call_id": "c3", "kind": "tool",
                     "content": [{"type": "text", "text": "down"}], "is_error": True}  # fmt: skip
    allowed, denied = (ORXHESTRA.approval_reply(call, v) for v in (Allow(), Deny("No.")))
    assert (verdict_of(allowed), verdict_of(denied)) == (Allow(), Deny("No."))
    assert verdict_of({"tool_call_id": "c3", "allowed": False, "message": None}) == Deny()
    assert ORXHESTRA.question_reply(call, None)["answer"] is None
    assert {ORXHESTRA.reply_target(r) for r in (reply, allowed, denied)} == {"c3"}
    assert ORXHESTRA.user_input("hi") == {"type": "user_message", "text": "hi"}
