"""Typed events: decoding, round-trips, unknown types, decode errors, conveniences, builders."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fixture_data import load_fixture_events

from agentflow import DecodeError, UnknownEvent, parse_event
from agentflow import events as ev
from agentflow.events import EVENT_CLASSES, KNOWN_TYPES

FIXTURE = load_fixture_events()


def _class_name(event_type: str) -> str:
    return "".join(part.capitalize() for part in event_type.replace(".", "_").split("_"))


def test_fixture_covers_all_44_types() -> None:
    assert len(KNOWN_TYPES) == 44
    assert {e["type"] for e in FIXTURE} == KNOWN_TYPES


def test_class_names_are_pascal_case_of_the_type() -> None:
    for event_type, cls in EVENT_CLASSES.items():
        assert cls.__name__ == _class_name(event_type)
        assert getattr(ev, cls.__name__) is cls


@pytest.mark.parametrize("obj", FIXTURE, ids=[f"{i}-{e['type']}" for i, e in enumerate(FIXTURE)])
@pytest.mark.parametrize("form", ["bytes", "str", "dict"])
def test_every_fixture_line_parses_to_its_class_and_round_trips(
    obj: dict[str, Any], form: str
) -> None:
    data: Any = {"bytes": json.dumps(obj).encode(), "str": json.dumps(obj), "dict": obj}[form]
    event = parse_event(data)
    assert type(event) is EVENT_CLASSES[obj["type"]]
    assert not isinstance(event, UnknownEvent)
    assert event.model_dump(mode="json", exclude_unset=True) == obj
    assert event.raw == obj


def test_events_are_frozen() -> None:
    event = parse_event(FIXTURE[1])
    with pytest.raises(Exception, match="frozen"):
        event.id = "other"  # type: ignore[misc]


def test_unknown_type_keeps_every_field() -> None:
    obj = {
        "type": "agent.hologram",
        "id": "sevt_x",
        "processed_at": "2026-05-14T09:12:05.800Z",
        "beam": {"power": 3},
        "content": [{"type": "text", "text": "hi"}],
    }
    event = parse_event(json.dumps(obj).encode())
    assert isinstance(event, UnknownEvent)
    assert event.type == "agent.hologram"
    assert event.domain == "agent" and event.action == "hologram"
    assert event.beam == {"power": 3}  # type: ignore[attr-defined]
    assert event.raw == obj
    assert event.text == "hi"
    assert event.error is None


def test_unknown_nested_variants_are_kept() -> None:
    obj = {
        "type": "agent.message",
        "id": "e1",
        "processed_at": "2026-05-14T09:12:05.800Z",
        "content": [{"type": "hologram", "beam": 1}, {"type": "text", "text": "ok"}],
    }
    for event in (parse_event(obj), parse_event(json.dumps(obj).encode())):
        assert isinstance(event, ev.AgentMessage)
        assert isinstance(event.content[0], ev.UnknownBlock)
        assert isinstance(event.content[1], ev.TextBlock)
        assert event.text == "ok"
        assert event.raw == obj


def test_an_unknown_source_inside_a_known_block_is_kept() -> None:
    block = {"type": "image", "source": {"type": "hologram", "beam": 2}}
    event = parse_event({"type": "user.message", "id": "e1", "content": [block]})
    assert isinstance(event, ev.UserMessage)
    image = event.content[0]
    assert isinstance(image, ev.ImageBlock)
    assert type(image.source).__name__ == "UnknownSource"  # every field kept
    assert image.source.model_dump() == block["source"]


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ({"type": "agent.tool_use", "id": "sevt_1", "processed_at": "t", "input": {}}, "name"),
        (
            {"type": "agent.tool_use", "id": "sevt_1", "processed_at": "t", "name": 3, "input": {}},
            "name",
        ),
        (
            {"type": "session.status_idle", "id": "sevt_1", "processed_at": "t", "stop_reason": {}},
            "stop_reason.type",
        ),
        ({"type": "session.error", "id": "sevt_1", "processed_at": "t"}, "error"),
        (
            {"type": "user.message", "id": "sevt_1", "content": [{"type": "text"}]},
            "content.0.text.text",
        ),
        (
            {
                "type": "user.message",
                "id": "sevt_1",
                "content": [{"type": "image", "source": {"type": "url"}}],
            },
            "content.0.image.source.url.url",
        ),
        ({"type": "user.message", "id": "sevt_1", "content": [5]}, "content.0"),
    ],
    ids=[
        "missing-name",
        "wrong-type-name",
        "nested-stop-reason",
        "missing-error",
        "known-block-missing-field",
        "known-source-in-known-block",
        "block-not-an-object",
    ],
)
def test_malformed_known_event_raises_decode_error_naming_type_field_and_id(
    obj: dict[str, Any], field: str
) -> None:
    with pytest.raises(DecodeError) as info:
        parse_event(json.dumps(obj).encode())
    err = info.value
    assert err.event_type == obj["type"]
    assert err.event_id == "sevt_1"
    assert err.field == field
    message = str(err)
    assert obj["type"] in message and "sevt_1" in message and field in message


@pytest.mark.parametrize(
    "data",
    [b"{not json", b"[1, 2]", b'{"id": "x"}', "", b'{"type": 5}'],
    ids=["bad-json", "array", "no-type", "empty", "non-string-type"],
)
def test_non_event_input_raises_decode_error(data: bytes | str) -> None:
    with pytest.raises(DecodeError, match="Expected"):
        parse_event(data)


def test_conveniences_on_tool_use_and_idle() -> None:
    by_type = {e["type"]: parse_event(e) for e in FIXTURE}
    tool = by_type["agent.tool_use"]
    assert tool.tool_name == "bash" and isinstance(tool.tool_input, dict)
    assert by_type["agent.custom_tool_use"].tool_name is not None
    assert by_type["agent.mcp_tool_use"].tool_name is not None
    assert by_type["agent.message"].tool_name is None
    assert by_type["agent.message"].text
    assert by_type["session.status_running"].text == ""
    assert by_type["session.error"].error is not None
    assert by_type["session.error"].error.retry_status is not None
    assert by_type["workflow_run.error"].error is not None
    assert by_type["agent.message"].error is None
    assert by_type["session.status_terminated"].is_final_response()
    assert by_type["session.deleted"].is_final_response()
    assert not by_type["agent.message"].is_final_response()
    assert by_type["event_delta"].text
    assert by_type["event_start"].id is None
    when = by_type["agent.message"].processed_time
    assert when is not None and when.tzinfo is not None


@pytest.mark.parametrize(
    ("stop_reason", "final"),
    [
        ({"type": "end_turn"}, True),
        ({"type": "requires_action", "event_ids": ["a", "b"]}, False),
        ({"type": "retries_exhausted"}, True),
        ({"type": "budget_reached"}, True),
        ({"type": "refusal"}, True),
        ({"type": "some_future_reason"}, True),
    ],
    ids=lambda v: v["type"] if isinstance(v, dict) else str(v),
)
def test_idle_is_final_unless_requires_action(stop_reason: dict[str, Any], final: bool) -> None:
    event = parse_event(
        {"type": "session.status_idle", "id": "i", "processed_at": "t", "stop_reason": stop_reason}
    )
    assert isinstance(event, ev.SessionStatusIdle)
    assert event.is_final_response() is final
    assert event.requires_action is (not final)
    assert event.stop_reason.event_ids == stop_reason.get("event_ids", [])


def test_text_skips_non_text_blocks_and_joins() -> None:
    event = parse_event(
        {
            "type": "agent.message",
            "id": "m",
            "processed_at": "t",
            "content": [
                {"type": "text", "text": "a"},
                {"type": "redacted"},
                {"type": "text", "text": "b"},
            ],
        }
    )
    assert event.text == "ab"


def test_domain_and_action() -> None:
    event = parse_event(FIXTURE[0])
    assert (event.domain, event.action) == ("user", "define_outcome")
    start = parse_event({"type": "event_start", "event": {"type": "agent.message", "id": "x"}})
    assert (start.domain, start.action) == ("event_start", "")


# ---------------------------------------------------------------- builders


def test_builders_shapes() -> None:
    assert ev.user_message("hi") == {
        "type": "user.message",
        "content": [{"type": "text", "text": "hi"}],
    }
    assert ev.tool_confirmation("e1", "allow") == {
        "type": "user.tool_confirmation",
        "tool_use_id": "e1",
        "result": "allow",
    }
    assert ev.tool_confirmation("e1", "deny", "no")["deny_message"] == "no"
    assert ev.custom_tool_result("c1", "42") == {
        "type": "user.custom_tool_result",
        "custom_tool_use_id": "c1",
        "content": [{"type": "text", "text": "42"}],
    }
    assert ev.custom_tool_result("c1", "boom", is_error=True)["is_error"] is True
    assert ev.interrupt() == {"type": "user.interrupt"}
    assert ev.interrupt("sthr_1") == {"type": "user.interrupt", "session_thread_id": "sthr_1"}
    outcome = ev.define_outcome("do it", "all green", max_iterations=2)
    assert outcome["rubric"] == {"type": "text", "content": "all green"}
    assert ev.system_message("be brief")["content"] == [{"type": "text", "text": "be brief"}]
    assert ev.tool_result("t1", "out")["tool_use_id"] == "t1"


@pytest.mark.parametrize(
    "call",
    [
        lambda: ev.tool_confirmation("e1", "allow", deny_message="x"),
        lambda: ev.tool_confirmation("e1", "maybe"),  # type: ignore[arg-type]
        lambda: ev.custom_tool_result("c1", ""),
        lambda: ev.custom_tool_result("c1", []),
        lambda: ev.tool_result("t1", ""),
        lambda: ev.user_message([]),
        lambda: ev.user_message([{"text": "no type"}]),
        lambda: ev.define_outcome("d", "r", max_iterations=21),
        lambda: ev.system_message(""),
    ],
    ids=[
        "deny-message-with-allow",
        "bad-result",
        "empty-result",
        "empty-result-list",
        "empty-tool-result",
        "empty-message",
        "block-without-type",
        "too-many-iterations",
        "empty-system",
    ],
)
def test_builders_reject_what_the_api_rejects(call: Any) -> None:
    with pytest.raises(ValueError):
        call()
