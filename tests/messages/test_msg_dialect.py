"""The Messages dialect, pure: calls, pauses, turn ends, usage, severity, reply shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentflow import Call, ToolReply
from agentflow.messages import MESSAGES, MessageBuilder, parse_event
from agentflow.messages.events import ContentBlockStop, MessageStop


def response(*blocks: dict[str, Any], stop: str | None = "end_turn") -> list[Any]:
    """The enriched events of one response holding ``blocks`` (tool inputs streamed)."""
    frames: list[dict[str, Any]] = [
        {"type": "message_start", "message": {"id": "msg_1", "usage": {"input_tokens": 10}}}
    ]
    for i, block in enumerate(blocks):
        start = dict(block)
        tool_input = start.pop("input", None)
        if block["type"] == "tool_use":
            start["input"] = {}
        text = start.pop("text", None)
        if block["type"] == "text":
            start["text"] = ""
        frames.append({"type": "content_block_start", "index": i, "content_block": start})
        if text is not None:
            delta = {"type": "text_delta", "text": text}
            frames.append({"type": "content_block_delta", "index": i, "delta": delta})
        if tool_input is not None:
            delta = {"type": "input_json_delta", "partial_json": json.dumps(tool_input)}
            frames.append({"type": "content_block_delta", "index": i, "delta": delta})
        frames.append({"type": "content_block_stop", "index": i})
    frames.append(
        {"type": "message_delta", "delta": {"stop_reason": stop}, "usage": {"output_tokens": 7}}
    )
    frames.append({"type": "message_stop"})
    builder = MessageBuilder()
    events = [parse_event(json.dumps(f)) for f in frames]
    for event in events:
        builder.add(event)
    return events


TOOLS = (
    {"type": "text", "text": "Looking."},
    {"type": "tool_use", "id": "toolu_a", "name": "search_orders", "input": {"query": "A"}},
    {"type": "tool_use", "id": "toolu_b", "name": "get_shipping_status", "input": {"id": 1}},
)


def test_a_tool_use_stop_announces_a_call_that_does_not_start_early() -> None:
    events = response(*TOOLS, stop="tool_use")
    calls = [c for e in events for c in MESSAGES.calls(e)]
    assert [(c.id, c.kind, c.name, c.input, c.early) for c in calls] == [
        ("toolu_a", "tool", "search_orders", {"query": "A"}, False),
        ("toolu_b", "tool", "get_shipping_status", {"id": 1}, False),
    ]
    assert all(isinstance(c.event, ContentBlockStop) for c in calls)


def test_message_stop_with_tool_use_is_a_pause_carrying_its_calls() -> None:
    stop = response(*TOOLS, stop="tool_use")[-1]
    pause = MESSAGES.pause(stop)
    assert pause is not None and pause.ids == ("toolu_a", "toolu_b")
    assert [c.event.tool_name for c in pause.calls] == ["search_orders", "get_shipping_status"]
    assert MESSAGES.turn_end(stop) is None
    assert stop.kind == "tool.requested"


@pytest.mark.parametrize(
    ("stop", "end", "kind"),
    [
        ("end_turn", "end_turn", "turn.completed"),
        ("max_tokens", "max_tokens", "turn.completed"),
        ("stop_sequence", "stop_sequence", "turn.completed"),
        ("refusal", "refusal", "turn.completed"),
        ("model_context_window_exceeded", "model_context_window_exceeded", "turn.completed"),
        ("pause_turn", None, None),
        (None, "end_turn", "turn.completed"),
    ],
)
def test_turn_ends(stop: str | None, end: str | None, kind: str | None) -> None:
    event = response({"type": "text", "text": "hi"}, stop=stop)[-1]
    assert MESSAGES.turn_end(event) == end and MESSAGES.pause(event) is None
    assert event.kind == kind
    assert event.is_final_response() is (end is not None)


def test_usage_is_counted_once_per_complete_response() -> None:
    events = response({"type": "text", "text": "hi"})
    counts = [MESSAGES.usage(e) for e in events]
    assert [c for c in counts if c is not None] == [counts[-1]]
    assert counts[-1] is not None
    assert (counts[-1].input_tokens, counts[-1].output_tokens) == (10, 7)
    restored = MessageStop(type="message_stop")
    restored.enrich({"usage": {"input_tokens": 5}}, restored=True)
    assert MESSAGES.usage(restored) is None  # rebuilt from a saved conversation: not billed now


@pytest.mark.parametrize(
    ("error_type", "severity", "end"),
    [
        ("overloaded_error", "retrying", None),
        ("api_error", "retrying", None),
        ("a_new_error", "retrying", None),
        ("invalid_request_error", "exhausted", "error"),
        ("authentication_error", "exhausted", "error"),
    ],
)
def test_error_events(error_type: str, severity: str, end: str | None) -> None:
    event = parse_event(json.dumps({"type": "error", "error": {"type": error_type}}))
    assert MESSAGES.severity(event) == severity and MESSAGES.turn_end(event) == end
    assert MESSAGES.severity(parse_event(b'{"type":"ping"}')) is None


def test_replies_are_tool_result_blocks() -> None:
    events = response(*TOOLS, stop="tool_use")
    call = next(c for e in events for c in MESSAGES.calls(e))
    ok = MESSAGES.tool_reply(call, ToolReply([{"type": "text", "text": "found"}]))
    assert ok == {
        "type": "tool_result",
        "tool_use_id": "toolu_a",
        "content": [{"type": "text", "text": "found"}],
        "is_error": False,
    }
    failed = MESSAGES.tool_reply(call, ToolReply.failure("denied", "no"))
    assert failed["is_error"] is True and MESSAGES.reply_target(failed) == "toolu_a"
    assert MESSAGES.user_input("hi") == {
        "role": "user",
        "content": [{"type": "text", "text": "hi"}],
    }
    assert MESSAGES.user_input({"type": "text", "text": "x"}) == {"type": "text", "text": "x"}


def test_other_events_announce_nothing() -> None:
    for event in response({"type": "text", "text": "hi"}):
        assert MESSAGES.calls(event) == ()
        assert MESSAGES.settled(event) is None and MESSAGES.terminal(event) is None
    server = parse_event(
        b'{"type":"content_block_stop","index":0}',
    )
    assert MESSAGES.calls(server) == ()  # no block attached outside a channel
    call = Call("x", "tool", server)
    assert MESSAGES.unanswered(call.event)[0] == "custom"
