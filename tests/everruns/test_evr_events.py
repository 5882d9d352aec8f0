"""Typed Everruns events: every recorded frame decodes, round-trips and carries its kind."""

from __future__ import annotations

import json
from typing import Any

import pytest
from evr_support import fixture_events

from agentflow import DecodeError, Event
from agentflow.everruns import EVENT_TYPES, EVERRUNS
from agentflow.everruns.events import (
    KNOWN_TYPES,
    InvalidEvent,
    OutputMessageDelta,
    ToolCallRequested,
    UnknownEvent,
    parse_event,
    parse_stored,
)

KINDS = {
    "output.message.delta": "message.delta",
    "output.message.completed": "message.completed",
    "reason.thinking.delta": "reasoning.delta",
    "reason.thinking.completed": "reasoning.completed",
    "tool.started": "tool.started",
    "tool.call_requested": "tool.requested",
    "tool.approval_requested": "approval.requested",
    "tool.approval_resolved": "approval.resolved",
    "question.requested": "input.requested",
    "turn.started": "turn.started",
    "turn.completed": "turn.completed",
    "turn.failed": "turn.failed",
    "session.idled": "usage.updated",
    "input.message": None,
    "output.message.started": None,
    "reason.thinking.started": None,
    "question.answered": None,
}


def envelope(event_type: str, data: Any, **extra: Any) -> dict[str, Any]:
    return {"id": "event_1", "type": event_type, "ts": "t", "session_id": "s", "sequence": 1,
            "context": {}, "data": data, **extra}  # fmt: skip


def test_the_known_types_are_the_dialects() -> None:
    assert KNOWN_TYPES == EVENT_TYPES
    assert len(KNOWN_TYPES) == 30


def test_every_recorded_event_decodes_to_its_own_class_and_round_trips() -> None:
    events = fixture_events()
    seen: set[str] = set()
    for raw in events:
        event = parse_event(json.dumps(raw).encode())
        assert not isinstance(event, UnknownEvent), raw["type"]
        assert isinstance(event, Event) and event.dialect is EVERRUNS
        assert event.raw == raw
        assert (event.id, event.type, event.sequence) == (raw["id"], raw["type"], raw["sequence"])
        if raw["type"] in KINDS:
            if raw["type"] == "tool.completed":
                continue
            assert event.kind == KINDS[raw["type"]], raw["type"]
        seen.add(raw["type"])
    assert {"tool.call_requested", "tool.approval_requested", "question.requested"} <= seen
    assert {"turn.failed", "session.idled", "reason.thinking.delta"} <= seen


def test_conveniences() -> None:
    delta = parse_event(envelope("output.message.delta", {"delta": "Hel", "accumulated": "Hel"}))
    assert isinstance(delta, OutputMessageDelta) and delta.text == "Hel"
    message = {"message": {"role": "agent", "content": [{"type": "text", "text": "a"},
               {"type": "image", "url": "x"}, {"type": "text", "text": "b"}]}}  # fmt: skip
    assert parse_event(envelope("output.message.completed", message)).text == "ab"
    started = parse_event(
        envelope(
            "tool.started", {"tool_call": {"id": "call_1", "name": "f", "arguments": {"x": 1}}}
        )
    )
    assert (started.tool_name, started.tool_input, started.call_id) == ("f", {"x": 1}, "call_1")
    result = [{"type": "text", "text": "42"}]
    ok = parse_event(
        envelope("tool.completed", {"tool_call_id": "call_1", "success": True, "result": result})
    )
    failure = {"tool_call_id": "call_1", "success": False, "status": "timeout", "error": "too slow"}
    bad = parse_event(envelope("tool.completed", failure))
    assert (ok.kind, ok.text, ok.error) == ("tool.completed", "42", None)
    assert bad.kind == "tool.failed" and bad.error is not None
    assert (bad.error.type, bad.error.message) == ("timeout", "too slow")
    failed = parse_event(envelope("turn.failed", {"error": "boom", "error_code": "llm_error"}))
    assert failed.error is not None
    assert (failed.error.type, failed.error.message) == ("llm_error", "boom")
    assert failed.is_final_response() and not delta.is_final_response()
    assert delta.error is None and delta.tool_name is None and delta.call_id is None


def test_a_tool_request_focused_on_each_call() -> None:
    calls = [
        {"id": "c1", "name": "a", "arguments": {"n": 1}},
        {"id": "c2", "name": "b", "arguments": {}},
    ]
    event = parse_event(envelope("tool.call_requested", {"tool_calls": calls}))
    assert isinstance(event, ToolCallRequested)
    second = event.for_call(1)
    assert (event.tool_name, second.tool_name, second.tool_input, second.call_id) == (
        "a", "b", {}, "c2",
    )  # fmt: skip
    assert second.raw == event.raw and second.id == event.id


def test_unknown_types_are_kept_whole() -> None:
    raw = envelope("budget.warning", {"spent": 3}, tags=["x"], novel=True)
    event = parse_event(json.dumps(raw))
    assert isinstance(event, UnknownEvent) and event.kind is None
    assert event.raw == raw and event.data == {"spent": 3}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"{not json", None),
        (b"[1, 2]", None),
        (json.dumps({"type": "turn.started", "data": {}}).encode(), "id"),
        (json.dumps(envelope("tool.call_requested", {"tool_calls": "nope"})).encode(),
         "data.tool_calls"),
        (json.dumps(envelope("output.message.delta", {"accumulated": "x"})).encode(),
         "data.delta"),
    ],
    ids=["bad-json", "not-an-object", "no-id", "bad-tool-calls", "delta-without-text"],
)  # fmt: skip
def test_bad_frames_raise_a_decode_error_naming_the_field(data: bytes, field: str | None) -> None:
    with pytest.raises(DecodeError) as info:
        parse_event(data)
    assert info.value.field == field
    assert "nope" not in str(info.value)  # the data never goes into the message


def test_the_listing_keeps_an_invalid_known_event() -> None:
    raw = envelope("tool.call_requested", {"tool_calls": "nope"})
    kept = parse_stored(raw)
    assert isinstance(kept, InvalidEvent) and kept.type == "tool.call_requested"
    assert kept.raw == raw and "data.tool_calls" in kept.decode_error
    assert EVERRUNS.pause(kept) is None and EVERRUNS.calls(kept) == ()
    with pytest.raises(DecodeError):
        parse_stored({"type": "x"})  # no id: nothing to keep it by
