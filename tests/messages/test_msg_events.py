"""Typed Messages events: every type decodes, keeps its fields and names its kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentflow import DecodeError, Event
from agentflow.messages import MESSAGES, UnknownEvent, parse_event
from agentflow.messages.events import (
    CitationsDelta,
    ContentBlockDelta,
    ContentBlockStart,
    Error,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    MessageStop,
    Ping,
    SignatureDelta,
    TextDelta,
    ThinkingDelta,
    UnknownDelta,
)
from agentflow.wire import SSEDecoder

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "messages_stream.sse"


def _frames() -> list[bytes]:
    return [f.data for f in SSEDecoder().feed(FIXTURE.read_bytes())]


def test_every_frame_of_the_recorded_stream_decodes_and_round_trips() -> None:
    events = [parse_event(data) for data in _frames()]
    assert all(isinstance(e, Event) and e.dialect is MESSAGES for e in events)
    assert not any(isinstance(e, UnknownEvent) for e in events)
    for data, event in zip(_frames(), events, strict=True):
        assert event.raw == json.loads(data)
        assert event.id is None


@pytest.mark.parametrize(
    ("data", "cls", "kind"),
    [
        ({"type": "message_start", "message": {"id": "msg_1", "usage": {}}}, MessageStart,
         "turn.started"),
        ({"type": "content_block_start", "index": 0,
          "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}},
         ContentBlockStart, "tool.started"),
        ({"type": "content_block_start", "index": 0,
          "content_block": {"type": "server_tool_use", "id": "srv_1", "name": "web_search"}},
         ContentBlockStart, "tool.started"),
        ({"type": "content_block_start", "index": 0, "content_block": {"type": "text",
          "text": ""}}, ContentBlockStart, None),
        ({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
          "usage": {"output_tokens": 3}}, MessageDelta, "usage.updated"),
        ({"type": "ping"}, Ping, None),
        ({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}, Error,
         "error"),
        ({"type": "message_stop"}, MessageStop, None),
    ],
    ids=["message_start", "tool_use start", "server tool start", "text start", "message_delta",
         "ping", "error", "bare message_stop"],
)  # fmt: skip
def test_event_types_and_kinds(data: dict[str, object], cls: type, kind: str | None) -> None:
    event = parse_event(json.dumps(data))
    assert type(event) is cls and event.kind == kind
    assert event.raw == data


@pytest.mark.parametrize(
    ("delta", "cls", "kind", "text"),
    [
        ({"type": "text_delta", "text": "Hé"}, TextDelta, "message.delta", "Hé"),
        ({"type": "input_json_delta", "partial_json": '{"a'}, InputJsonDelta,
         "tool.args_delta", ""),
        ({"type": "thinking_delta", "thinking": "hmm"}, ThinkingDelta, "reasoning.delta", ""),
        ({"type": "signature_delta", "signature": "c2ln"}, SignatureDelta, None, ""),
        ({"type": "citations_delta", "citation": {"type": "char_location", "cited_text": "x"}},
         CitationsDelta, None, ""),
        ({"type": "future_delta", "stuff": [1]}, UnknownDelta, None, ""),
    ],
    ids=["text", "input_json", "thinking", "signature", "citations", "unknown"],
)  # fmt: skip
def test_delta_types(delta: dict[str, object], cls: type, kind: str | None, text: str) -> None:
    event = parse_event(json.dumps({"type": "content_block_delta", "index": 2, "delta": delta}))
    assert isinstance(event, ContentBlockDelta) and type(event.delta) is cls
    assert (event.kind, event.text) == (kind, text)
    assert event.raw["delta"] == delta  # unknown fields kept
    if cls is ThinkingDelta:
        assert event.thinking == "hmm"
    if cls is InputJsonDelta:
        assert event.partial_json == '{"a' and event.partial_input is None  # no channel


def test_an_unknown_event_type_is_kept_whole() -> None:
    event = parse_event(b'{"type":"message_checkpoint","at":3,"nested":{"k":[1,2]}}')
    assert isinstance(event, UnknownEvent)
    assert event.kind is None and event.raw == {
        "type": "message_checkpoint",
        "at": 3,
        "nested": {"k": [1, 2]},
    }


def test_unknown_fields_of_known_events_are_kept() -> None:
    event = parse_event(
        b'{"type":"message_delta","delta":{"stop_reason":"refusal",'
        b'"stop_details":{"type":"refusal"},"container":null},'
        b'"usage":{"output_tokens":1,"server_tool_use":{"web_search_requests":1}}}'
    )
    assert isinstance(event, MessageDelta) and event.stop_reason == "refusal"
    assert event.raw["usage"]["server_tool_use"] == {"web_search_requests": 1}
    assert event.delta.stop_details == {"type": "refusal"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "invalid JSON"),
        (b"[1, 2]", "got list"),
        (b'{"no_type": 1}', "string 'type' field"),
        (b'{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}',
         "field 'index'"),
        (b'{"type":"error","error":"flat"}', "'error'"),
    ],
    ids=["bad json", "not an object", "no type", "missing field", "wrong shape"],
)  # fmt: skip
def test_bad_frames_raise_decode_error_naming_the_problem(data: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        parse_event(data)


def test_conveniences_are_safe_on_every_event() -> None:
    for data in _frames():
        event = parse_event(data)
        assert isinstance(event.text, str)
        assert event.tool_input is None or isinstance(event.tool_input, dict)
        assert event.is_final_response() in (True, False)
        event.error  # noqa: B018 - never raises
        event.tool_name  # noqa: B018
        event.call_id  # noqa: B018
