"""The message builder: the recorded stream, cut anywhere, gives the SDK's final message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx2
from anthropic import AsyncAnthropic

from agentflow.messages import MessageBuilder, parse_event
from agentflow.messages.events import ContentBlockDelta, ContentBlockStop, MessageStop
from agentflow.wire import SSEDecoder

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "messages_stream.sse"
DATA = FIXTURE.read_bytes()


def build(chunks: list[bytes]) -> tuple[list[Any], MessageBuilder]:
    decoder, builder, events = SSEDecoder(), MessageBuilder(), []
    for chunk in chunks:
        for frame in decoder.feed(chunk):
            event = parse_event(frame.data)
            builder.add(event)
            events.append(event)
    return events, builder


async def sdk_final_message(data: bytes) -> dict[str, Any]:
    """What the official SDK's MessageStream makes of the same bytes."""

    def serve(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=data)

    http = httpx2.AsyncClient(transport=httpx2.MockTransport(serve))
    client = AsyncAnthropic(api_key="sk-not-used", base_url="http://127.0.0.1:9", http_client=http)
    try:
        async with client.messages.stream(
            model="m", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        ) as stream:
            message = await stream.get_final_message()
    finally:
        await client.close()
    return message.model_dump(mode="json", exclude_none=True)


async def test_the_built_message_is_the_sdk_final_message() -> None:
    events, builder = build([DATA])
    with anyio.fail_after(10):
        expected = await sdk_final_message(DATA)
    stop = events[-1]
    assert isinstance(stop, MessageStop) and builder.stopped
    ours = stop.message
    assert ours is not None
    assert ours["content"] == expected["content"]
    for key in ("id", "model", "role", "type", "stop_reason", "stop_sequence"):
        assert ours.get(key) == expected.get(key), key
    assert ours["usage"] == expected["usage"]
    assert [b["type"] for b in ours["content"]] == ["thinking", "text", "text", *["tool_use"] * 3]
    assert ours["content"][3]["input"] == {"city": "São Paulo", "units": "metric"}


def test_utf8_split_across_reads_never_corrupts_text() -> None:
    whole_events, whole = build([DATA])
    assert "São Paulo" in str(whole.message) and "—" in str(whole.message)
    # cut inside every multi-byte character of the stream, and one byte at a time
    cuts = [i for i in range(len(DATA)) if DATA[i] & 0xC0 == 0x80]
    assert len(cuts) >= 3  # "ã" (2 bytes) and "—" (3 bytes)
    splits = [[DATA[:i], DATA[i:]] for i in cuts]
    splits.append([DATA[i : i + 1] for i in range(len(DATA))])
    for chunks in splits:
        events, builder = build(chunks)
        assert [e.raw for e in events] == [e.raw for e in whole_events]
        assert builder.message == whole.message


def test_events_are_enriched_with_their_block_and_the_whole_message() -> None:
    events, builder = build([DATA])
    stops = [e for e in events if isinstance(e, ContentBlockStop)]
    assert [s.kind for s in stops] == [
        "reasoning.completed",
        "message.completed",
        "message.completed",
        None,
        None,
        None,
    ]
    assert stops[1].text.endswith("one moment.") and stops[0].thinking
    assert [s.tool_name for s in stops[3:]] == ["get_weather", "get_time", "daily"]
    assert stops[5].tool_input == {"days": [1, 2, 3], "detail": {"hourly": True}}
    json_deltas = [e for e in events if isinstance(e, ContentBlockDelta) and e.partial_json]
    assert all(d.call_id == stops[3 + d.index - 3].call_id for d in json_deltas)
    assert json_deltas[-1].partial_input == stops[5].tool_input
    final = events[-1]
    assert isinstance(final, MessageStop)
    assert final.kind == "tool.requested" and not final.is_final_response()
    assert [t.call_id for t in final.tool_events] == [s.call_id for s in stops[3:]]
    assert final.text == stops[1].text + stops[2].text


def test_a_broken_tool_input_keeps_the_raw_text_for_the_call() -> None:
    frames = [
        b'{"type":"message_start","message":{"id":"m","usage":{"input_tokens":1}}}',
        b'{"type":"content_block_start","index":0,"content_block":{"type":"tool_use",'
        b'"id":"toolu_1","name":"f","input":{}}}',
        b'{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta",'
        b'"partial_json":"{\\"a\\": tru"}}',
        b'{"type":"content_block_stop","index":0}',
        b'{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":4}}',
        b'{"type":"message_stop"}',
    ]
    builder = MessageBuilder()
    events = [parse_event(f) for f in frames]
    for event in events:
        builder.add(event)
    stop = events[3]
    assert isinstance(stop, ContentBlockStop)
    assert stop.call_input == '{"a": tru' and stop.tool_input is None
    assert builder.message is not None
    assert builder.message["content"][0]["input"] == {}  # the API needs an object back
    assert builder.message["usage"] == {"input_tokens": 1, "output_tokens": 4}


def test_a_stream_without_message_start_and_a_delta_for_no_block_are_tolerated() -> None:
    builder = MessageBuilder()
    for data in (
        b'{"type":"content_block_delta","index":7,"delta":{"type":"text_delta","text":"x"}}',
        b'{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
        b'{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}',
        b'{"type":"message_stop"}',
    ):
        builder.add(parse_event(data))
    assert builder.message is not None and builder.stopped
    assert builder.message["content"] == [{"type": "text", "text": "hi"}]  # closed at the stop
