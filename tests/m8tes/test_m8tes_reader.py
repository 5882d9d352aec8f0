"""Positions, skips, accumulation and alignment of a run's frames, without a server."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from agentflow import StreamError
from agentflow.core.dialect import TokenCount
from agentflow.m8tes import parse_frame
from agentflow.m8tes.connection import Connection
from agentflow.m8tes.reader import FrameReader
from agentflow.m8tes.track import Accumulator, Progress

# Frames are JSON objects of mixed values, so the literal is typed as the reader takes it.
RUN: list[dict[str, Any]] = [
    {"type": "metadata", "payload": {"run_id": 4}},
    {"type": "message-start", "messageId": "m1"},
    {"type": "text-start", "id": "t"},
    {"type": "text-delta", "id": "t", "delta": "Hello"},
    {"type": "text-delta", "id": "t", "delta": " there"},
    {"type": "text-end", "id": "t"},
    {"type": "tool-call-start", "toolCallId": "c1", "toolName": "read"},
    {"type": "tool-call-delta", "toolCallId": "c1", "delta": '{"path": '},
    {"type": "tool-call-delta", "toolCallId": "c1", "delta": '"/etc"}'},
    {"type": "tool-call-end", "toolCallId": "c1"},
    {"type": "tool-result-end", "toolCallId": "c1", "result": "ok"},
    {"type": "run_metrics", "input_tokens_used": 100, "output_tokens_used": 10},
    {"type": "run_metrics", "input_tokens_used": 250, "output_tokens_used": 12},
    {"type": "done", "stop_reason": "end_turn"},
]


def frames(items: list[dict[str, Any]]) -> list[tuple[bytes, Any]]:
    out = []
    for item in items:
        data = json.dumps(item).encode()
        out.append((data, parse_frame(data)))
    return out


def feed(reader: FrameReader, items: list[dict[str, Any]], offset: int = 0) -> list[Any]:
    got = []
    for i, (data, event) in enumerate(frames(items)):
        taken = reader.take(offset + i, data, event)
        if taken is not None:
            got.append(taken)
    return got


def test_a_replay_skips_what_was_taken_and_delivers_the_rest_once() -> None:
    reader = FrameReader(4, Progress())
    first = feed(reader, RUN[:5])  # the connection is cut after five frames
    again = feed(reader, RUN)  # the re-attach replays the whole run
    assert [e.id for e in first] == [f"4:{i}" for i in range(5)]
    assert [e.id for e in again] == [f"4:{i}" for i in range(5, len(RUN))]
    assert [e.raw for e in first + again] == RUN
    assert feed(reader, RUN) == []  # a third replay brings nothing new
    assert reader.acc.text == ["Hello", " there"]  # skipped frames are not read twice


def test_what_earlier_frames_tell_is_attached_to_later_ones() -> None:
    events = feed(FrameReader(4, Progress()), RUN)
    by_type = {e.type: e for e in events}
    assert by_type["text-end"].text == "Hello there"
    end = by_type["tool-call-end"]
    assert (end.tool_name, end.tool_input) == ("read", {"path": "/etc"})
    assert by_type["tool-result-end"].tool_name == "read"
    metrics = [e for e in events if e.type == "run_metrics"]
    assert [m.added_tokens for m in metrics] == [TokenCount(100, 10), TokenCount(150, 2)]


def test_a_resumed_run_reads_the_skipped_frames_so_a_block_ends_whole() -> None:
    before = FrameReader(4, Progress())
    feed(before, RUN[:4])  # dispatched, then the process died
    resumed = FrameReader(4, Progress.from_cursor(before.progress.cursor()))
    events = feed(resumed, RUN)
    assert events[0].id == "4:4"
    assert next(e for e in events if e.type == "text-end").text == "Hello there"
    metrics = [e for e in events if e.type == "run_metrics"]
    assert metrics[1].added_tokens == TokenCount(150, 2)


def test_the_cursor_round_trips_and_foreign_cursors_are_refused() -> None:
    progress = Progress()
    for i, (data, _) in enumerate(frames(RUN[:3])):
        progress.take(i, data)
    again = Progress.from_cursor(progress.cursor())
    assert (again.count, tuple(again.tail), again.provisional) == (3, tuple(progress.tail), False)
    progress.provisional = True
    assert Progress.from_cursor(progress.cursor()).provisional
    for bad in (None, "", "2026-01-01T00:00:00Z", "-1:", "3:zz"):
        with pytest.raises(ValueError):
            Progress.from_cursor(bad)


def test_a_reply_stream_is_placed_by_the_next_replay() -> None:
    # Turn one was taken up to its done; a frame came after it unseen (error_cleared).
    turn_one = [*RUN, {"type": "error_cleared", "reason": "provider_fallback"}]
    turn_two: list[dict[str, Any]] = [
        {"type": "metadata", "payload": {"run_id": 4}},
        {"type": "message-start", "messageId": "m2"},
        {"type": "text-delta", "id": "u", "delta": "Again"},
    ]
    reader = FrameReader(4, Progress())
    feed(reader, RUN)
    reader.after_reply()  # the reply's stream starts after position 13 as far as we know
    first = feed(reader, turn_two[:2], offset=len(RUN))
    assert [e.id for e in first] == ["4:14", "4:15"] and reader.progress.provisional
    reader.replay()  # re-attach: find where those two frames really are
    rest = feed(reader, [*turn_one, *turn_two])
    assert [e.raw for e in rest] == turn_two[2:]
    assert rest[0].id == "4:17" and not reader.progress.provisional


def test_a_reply_stream_with_nothing_to_place_it_by_fails_clearly() -> None:
    reader = FrameReader(4, Progress())
    reader.after_reply()
    with pytest.raises(StreamError, match="replays it all"):
        reader.replay()
    reader = FrameReader(4, Progress())
    feed(reader, RUN[:2])
    reader.after_reply()
    feed(reader, [{"type": "metadata", "payload": {"run_id": 9}}], offset=2)
    reader.replay()
    feed(reader, RUN)  # a history that does not hold that frame
    with pytest.raises(StreamError, match="does not hold"):
        reader.check_end()


def test_gates_open_and_close_by_the_sdk_rules() -> None:
    acc = Accumulator()

    def take(**frame: Any) -> None:
        acc.take(parse_frame(frame))

    take(type="permission_request", request_id="p1", tool_use_id="c1", tool_name="bash")
    assert acc.gate is not None and acc.gate.request_id == "p1"
    take(type="tool-result-end", toolCallId="other", result="x")  # another tool: still open
    assert acc.gate is not None
    take(type="permission_resolved", request_id="p1")
    assert acc.gate is None
    take(type="awaiting_approval", request_id="p1", tool_use_id="c1")  # a late copy
    assert acc.gate is None
    take(type="permission_request", request_id="p2", tool_use_id="c2")
    take(type="tool-result-end", toolCallId="c2", result="ran")  # the gated tool finished
    assert acc.gate is None
    take(type="awaiting_approval", request_id="p3", tool_use_id="c3")
    take(type="text-delta", id="t", delta="go")  # the model writes again: settled
    assert acc.gate is None


def test_a_terminal_frame_is_the_last_word_until_work_follows() -> None:
    acc = Accumulator()
    acc.take(parse_frame({"type": "error", "error": "overloaded"}))
    assert acc.ended and acc.errors == ["overloaded"]
    acc.take(parse_frame({"type": "sandbox-connecting"}))  # re-driven on the same response
    assert not acc.ended
    acc.take(parse_frame({"type": "done"}))
    acc.take(parse_frame({"type": "error_cleared"}))
    assert acc.ended and acc.errors == []


async def test_a_connection_counts_only_the_frames_of_the_run() -> None:
    body = b"".join(
        [
            b": a comment\n\n",
            b'data: {"type":"keep-alive"}\n\n',
            b'data: {"type":"metadata","payload":{"run_id":4}}\n\n',
            b"data: {not json\n\n",  # not a frame of the run: skipped, takes no position
            b'data: {"type":"done","stop_reason":5}\n\n',  # unreadable fields: kept as unknown
            b'data: {"type":"replay_complete"}\n\n',
            b'data: {"type":"text-delta","id":"t","delta":"x"}\n\n',
            b"data: [DONE]\n\n",
        ]
    )
    conn = Connection(httpx.Response(200, content=body), 4, 10, 1 << 20)
    got = []
    while await conn.fill():
        while (frame := conn.take()) is not None:
            got.append(frame)
    assert [(p, e.type, type(e).__name__) for p, _, e in got] == [
        (10, "metadata", "Metadata"),
        (11, "done", "UnknownEvent"),
        (12, "text-delta", "TextDelta"),
    ]
    assert conn.done and conn.next == 13
    acc = Accumulator()
    acc.take(got[1][2])
    assert acc.ended  # an unreadable done still ends the turn's stream
    acc.take(got[2][2])
    assert acc.text == ["x"]
