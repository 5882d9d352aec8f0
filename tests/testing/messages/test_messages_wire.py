"""What the Messages emulator writes on the wire, read with a raw httpx client."""

from __future__ import annotations

import json

import anyio
import pytest
from msg_support import (
    MODEL,
    Frame,
    assistant,
    body,
    final_content,
    raw_client,
    results,
    split,
    stream,
    user,
)

from agentflow.testing import (
    Burst,
    CustomTool,
    Emit,
    Error,
    Faults,
    Question,
    Say,
    Scenario,
    Stop,
    Turn,
    Wait,
)
from agentflow.testing.messages import MessagesEmulator, Position

TWO_TURNS = Scenario(
    [
        Turn([Say("First."), CustomTool("f", {"a": 1}), CustomTool("g", {}), Say("After tools.")]),
        Turn([Say("Second turn.")]),
    ]
)


def _names(frames: list[Frame]) -> list[str | None]:
    return [f.event for f in frames]


async def test_a_stream_has_the_real_event_order_and_block_indexes() -> None:
    async with MessagesEmulator(TWO_TURNS) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            frames = await stream(client, body())
    names = _names(frames)
    assert names[:2] == ["message_start", "ping"]
    assert names[-2:] == ["message_delta", "message_stop"]
    for f in frames:  # the JSON type always equals the event name
        assert f.json()["type"] == f.event
    blocks = [f.json() for f in frames if f.event and f.event.startswith("content_block")]
    per_index: dict[int, list[str]] = {}
    for b in blocks:
        per_index.setdefault(b["index"], []).append(b["type"])
    assert sorted(per_index) == [0, 1, 2]
    for kinds in per_index.values():  # start, deltas, stop; blocks one after another
        assert kinds[0] == "content_block_start" and kinds[-1] == "content_block_stop"
        assert set(kinds[1:-1]) == {"content_block_delta"}
    assert len(per_index[0]) >= 4 and len(per_index[1]) >= 4  # several deltas each
    assert len(per_index[2]) == 3  # an empty input: one empty input_json_delta
    start = frames[0].json()["message"]
    assert start["model"] == MODEL and start["content"] == [] and start["stop_reason"] is None
    assert start["id"].startswith("msg_") and start["usage"]["output_tokens"] == 1
    end = frames[-2].json()
    assert end["delta"]["stop_reason"] == "tool_use"
    assert end["usage"]["input_tokens"] == start["usage"]["input_tokens"]
    uses = final_content(frames)[1:]
    assert [(u["name"], u["input"]) for u in uses] == [("f", {"a": 1}), ("g", {})]


async def test_tool_input_arrives_in_fragments_cut_inside_strings() -> None:
    tool_input = {"query": 'naïve café ☕ and "quotes"', "n": [1, 2, 3]}
    scenario = Scenario([Turn([CustomTool("search", tool_input)])])
    async with MessagesEmulator(scenario) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            frames = await stream(client, body())
    fragments = [
        f.json()["delta"]["partial_json"] for f in frames if f.event == "content_block_delta"
    ]
    assert fragments[0] == "" and len(fragments) > 4
    for fragment in fragments[1:-1]:  # no fragment is valid JSON on its own
        with pytest.raises(ValueError):
            json.loads(fragment)
    assert json.loads("".join(fragments)) == tool_input


async def test_non_ascii_text_arrives_intact_as_utf8() -> None:
    text = "naïve café ☕ — 東京 🌧️ done"
    async with MessagesEmulator(Scenario.simple(text)) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            async with client.stream("POST", "/v1/messages", json=body(stream=True)) as r:
                raw = await r.aread()
    deltas = [
        f.json()["delta"]["text"]
        for f in split(raw.decode("utf-8"))
        if f.event == "content_block_delta"
    ]
    assert "☕".encode() in raw  # sent as UTF-8, not as \\u escapes
    assert len(deltas) > 1 and "".join(deltas) == text


async def test_tool_results_continue_the_turn_and_a_new_user_message_starts_the_next() -> None:
    async with MessagesEmulator(TWO_TURNS) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            first = final_content(await stream(client, body()))
            convo = [user("hi"), assistant(first), results(first)]
            second = await stream(client, body(convo))
            convo += [assistant(final_content(second)), user("and now?")]
            third = await stream(client, body(convo))
            convo += [assistant(final_content(third)), user("more?")]
            fallback = await stream(client, body(convo))
        positions = [r.position for r in emu.requests]
    assert final_content(second) == [{"type": "text", "text": "After tools."}]
    assert second[-2].json()["delta"]["stop_reason"] == "end_turn"
    assert final_content(third) == [{"type": "text", "text": "Second turn."}]
    assert final_content(fallback) == [{"type": "text", "text": "OK"}]  # turns ran out
    assert positions == [Position(0, 0), Position(0, 1), Position(1, 0), Position(2, 0)]


async def test_a_stop_ends_the_response_and_sending_it_back_continues() -> None:
    scenario = Scenario([Turn([Say("Working."), Stop("pause_turn"), Say("Resumed.")])])
    async with MessagesEmulator(scenario) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            first = await stream(client, body())
            resumed = await stream(client, body([user("hi"), assistant(final_content(first))]))
            past_the_end = await stream(
                client,
                body(
                    [
                        user("hi"),
                        assistant(final_content(first)),
                        user("x"),
                        assistant([{"type": "text", "text": "y"}]),
                    ]
                ),
            )
    assert first[-2].json()["delta"] == {"stop_reason": "pause_turn", "stop_sequence": None}
    assert final_content(resumed) == [{"type": "text", "text": "Resumed."}]
    assert final_content(past_the_end) == []
    assert past_the_end[-2].json()["delta"]["stop_reason"] == "end_turn"


async def test_question_burst_and_emit_render_as_text_and_raw_events() -> None:
    scenario = Scenario(
        [Turn([Question("Which city?"), Burst(5, "w"), Emit({"type": "future_event", "x": 1})])]
    )
    async with MessagesEmulator(scenario) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            frames = await stream(client, body())
    content = final_content(frames)
    assert content == [
        {"type": "text", "text": "Which city?"},
        {"type": "text", "text": "w 0 w 1 w 2 w 3 w 4"},
    ]
    burst = [f for f in frames if f.event == "content_block_delta" and f.json()["index"] == 1]
    assert len(burst) == 5
    future = [f.json() for f in frames if f.event == "future_event"]
    assert future == [{"type": "future_event", "x": 1}]


async def test_stream_false_returns_the_message_as_json() -> None:
    async with MessagesEmulator(TWO_TURNS) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            response = await client.post("/v1/messages", json=body())
    message = response.json()
    assert response.headers["content-type"] == "application/json"
    assert response.headers["request-id"].startswith("req_")
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["stop_reason"] == "tool_use"
    assert [b["type"] for b in message["content"]] == ["text", "tool_use", "tool_use"]
    assert message["content"][1]["input"] == {"a": 1}


async def test_a_mid_stream_error_ends_the_stream_once_per_position() -> None:
    scenario = Scenario(
        [Turn([Say("Before."), Error("overloaded_error", message="Busy."), Say("After.")])]
    )
    async with MessagesEmulator(scenario) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            failed = await stream(client, body())
            retried = await stream(client, body())
            emu.reset()
            again = await stream(client, body())
    assert failed[-1].event == "error" and "message_stop" not in _names(failed)
    error = failed[-1].json()
    assert error["error"] == {"type": "overloaded_error", "message": "Busy."}
    assert error["request_id"].startswith("req_")
    assert [b["text"] for b in final_content(failed)] == ["Before."]
    assert [b["text"] for b in final_content(retried)] == ["Before.", "After."]
    assert again[-1].event == "error"  # reset() forgets what fired


async def test_an_exhausted_error_fails_every_request_that_reaches_it() -> None:
    scenario = Scenario([Turn([Error("api_error", "exhausted")])])
    async with MessagesEmulator(scenario) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            streams = [await stream(client, body()) for _ in range(2)]
            plain = await client.post("/v1/messages", json=body())
    assert [s[-1].event for s in streams] == ["error", "error"]
    assert plain.status_code == 500  # a non-streamed request gets the type's HTTP status
    assert plain.json()["error"]["type"] == "api_error"


async def test_an_error_with_a_status_is_an_http_error_before_any_stream() -> None:
    step = Error("overloaded_error", extra={"status": 529, "retry_after": 2, "should_retry": True})
    scenario = Scenario([Turn([Say("Never sent first."), step, Say("Then fine.")])])
    async with MessagesEmulator(scenario) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            async with client.stream("POST", "/v1/messages", json=body(stream=True)) as r:
                status, headers, data = r.status_code, r.headers, json.loads(await r.aread())
            frames = await stream(client, body())
    assert status == 529
    assert headers["retry-after"] == "2" and headers["retry-after-ms"] == "2000"
    assert headers["x-should-retry"] == "true"
    assert data["type"] == "error" and data["error"]["type"] == "overloaded_error"
    assert data["request_id"] == headers["request-id"]
    assert [b["text"] for b in final_content(frames)] == ["Never sent first.", "Then fine."]


async def test_keepalive_pings_fill_a_wait_and_wait_for_request_is_event_based() -> None:
    scenario = Scenario(
        [Turn([Say("a"), Wait(0.5), Say("b")])], faults=Faults(keepalive_seconds=0.05)
    )
    async with MessagesEmulator(scenario) as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(stream, client, body())
                record = await emu.wait_for_request(1)
                assert emu.stream_count == 1
            async with client.stream("POST", "/v1/messages", json=body(stream=True)) as r:
                frames = split((await r.aread()).decode())
    assert record.status == 200 and record.body["messages"] == [user("hi")]
    names = _names(frames)
    first_b = names.index("content_block_start", names.index("content_block_stop"))
    assert names[2:first_b].count("ping") >= 1  # idle pings while the turn waited
    assert [b["text"] for b in final_content(frames)] == ["a", "b"]


async def test_unknown_routes_answer_404_with_the_envelope() -> None:
    async with MessagesEmulator() as emu, raw_client(emu) as client:
        response = await client.get("/v1/models")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"
