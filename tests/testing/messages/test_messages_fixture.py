"""The recorded Messages stream in tests/fixtures is what the emulator writes today."""

from __future__ import annotations

import json
from collections import Counter

import anyio
from msg_support import FIXTURE, final_content, record_fixture, split


async def test_the_stream_fixture_matches_a_fresh_recording() -> None:
    with anyio.fail_after(10):
        fresh = await record_fixture()
    assert fresh == FIXTURE.read_bytes(), (
        "tests/fixtures/messages_stream.sse is out of date with the emulator; if the change "
        "is deliberate, rewrite it with `python tests/testing/messages/msg_support.py`"
    )


def test_the_stream_fixture_holds_a_few_hundred_events_and_parallel_tool_use() -> None:
    frames = split(FIXTURE.read_text(encoding="utf-8"))
    counts = Counter(f.event for f in frames)
    content = final_content(frames)
    json_deltas = [
        f for f in frames if f.event == "content_block_delta" and "partial_json" in f.data
    ]
    assert 200 <= len(frames) <= 400
    assert counts["message_start"] == counts["message_stop"] == 1
    assert [b["type"] for b in content] == ["thinking", "text", "text"] + ["tool_use"] * 3
    assert len({b["id"] for b in content[3:]}) == 3
    assert len(json_deltas) >= 12
    assert json.loads(frames[-2].data)["delta"]["stop_reason"] == "tool_use"
