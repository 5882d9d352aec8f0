"""The recorded m8tes stream fixture is what the emulator sends today, byte for byte."""

from __future__ import annotations

import json

from m8tes_record import FIXTURE, record

from agentflow.testing.m8tes.frames import DONE_MARKER


async def test_the_recorded_stream_matches_a_fresh_recording() -> None:
    fresh = await record()
    assert fresh == FIXTURE.read_bytes(), (
        "the emulator's m8tes frames changed; if that was deliberate, rewrite the fixture "
        "with: python tests/testing/m8tes_record.py"
    )


def test_the_fixture_is_a_complete_data_only_run_of_a_few_hundred_frames() -> None:
    text = FIXTURE.read_text(encoding="utf-8")
    assert text.endswith(DONE_MARKER)
    blocks = text[: -len(DONE_MARKER)].split("\n\n")
    assert blocks.pop() == ""
    frames = [json.loads(b.removeprefix("data: ")) for b in blocks]
    assert all(b.startswith("data: {") and "\n" not in b for b in blocks)
    assert 300 <= len(frames) <= 500
    kinds = {f["type"] for f in frames}
    assert {
        "metadata",
        "reasoning-delta",
        "text-delta",
        "tool-call-delta",
        "tool-result-end",
    } <= kinds
    assert frames[0]["type"] == "metadata" and frames[-1]["type"] == "done"
