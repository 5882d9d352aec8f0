"""The recorded Everruns stream in ``tests/fixtures/everruns_stream.sse``.

The fixture is the exact body of one ``/sse`` connection of a deterministic emulator
(``deterministic=True``: fixed clock, counter ids) over five turns: thinking, streamed text,
two client-side tools answered with ``tool-results``, a server tool, an approval answered on
the channel surface, a question, a burst of 60 messages and a failed turn. It is meant for
benchmarks and decoder tests that need a realistic Everruns byte stream without a server.

The test records the stream again and compares it byte for byte. After a deliberate change
to the emulator's output, rewrite the file with::

    AGENTFLOW_WRITE_FIXTURES=1 python -m pytest tests/testing/everruns/test_everruns_fixture.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio
from everruns_support import channel, create_session, frames, management, parse_block, send

from agentflow.testing import Burst, CustomTool, Error, Question, Say, Scenario, Think, Tool, Turn
from agentflow.testing.everruns import EverrunsEmulator

FIXTURE = Path(__file__).parents[2] / "fixtures" / "everruns_stream.sse"
WORDS = (
    "The forecast combines several sources and the numbers agree closely this week "
    "so the answer below should hold unless a front moves in faster than expected"
)


def _text(repeats: int) -> str:
    return " ".join([WORDS] * repeats)


SCENARIO = Scenario(
    [
        Turn(
            [
                Think(),
                Say(_text(2), thinking=True),
                CustomTool("get_weather", {"city": "Oslo"}),
                CustomTool("get_weather", {"city": "Paris"}),
                Say("Oslo is 12 degrees and Paris is 18 degrees today."),
            ]
        ),
        Turn(
            [
                Tool("web_search", {"q": "ferry times"}, result="Ferries leave hourly."),
                Say(_text(3)),
                Tool("send_email", {"to": "ops@example.com"}, permission="always_ask"),
                Say("The email is on its way."),
            ]
        ),
        Turn([Question("Which city first?", ("Oslo", "Paris"), "Route"), Say(_text(4))]),
        Turn([Say("Here is the full list."), Burst(60, "item"), Say(_text(5))]),
        Turn([Say("Checking one more thing."), Error("llm_error", message="Model unavailable.")]),
    ]
).with_faults(keepalive_seconds=120.0)
PROMPTS = ("Weather?", "Ferries?", "Plan the route.", "List everything.", "One more.")


async def record() -> str:
    """Run the five turns against a deterministic emulator and return the stream's text."""
    async with EverrunsEmulator(SCENARIO, deterministic=True) as emu:
        async with management(emu) as client, channel(emu) as agent:
            session_id = await create_session(client, title="fixture")
            parts: list[str] = []
            async with client.stream("GET", f"/sessions/{session_id}/sse") as response:
                reader = frames(response)
                for prompt in PROMPTS:
                    await send(client, session_id, prompt)
                    async for frame in reader:
                        parts.append(frame.raw)
                        if frame.event in ("connected", None):
                            continue
                        data = frame.json()["data"]
                        if frame.event == "tool.call_requested":
                            results = [
                                {"tool_call_id": c["id"], "result": {"temp_c": 10 + i * 6}}
                                for i, c in enumerate(data["tool_calls"])
                            ]
                            url = f"/sessions/{session_id}/tool-results"
                            await client.post(url, json={"tool_results": results})
                        elif frame.event == "tool.approval_requested":
                            decision = {"approval_id": data["approval_id"], "decision": "allow"}
                            url = f"/sessions/{session_id}/tool-approvals"
                            await agent.post(url, json={"decisions": [decision]})
                        elif frame.event == "question.requested":
                            answers = {data["questions"][0]["id"]: "Oslo"}
                            url = f"/sessions/{session_id}/question-answers"
                            await agent.post(url, json={"answers": answers})
                        elif frame.event == "session.idled":
                            break
    return "".join(parts)


async def test_the_recorded_stream_fixture_is_reproduced_byte_for_byte() -> None:
    with anyio.fail_after(20):
        text = await record()
    if os.environ.get("AGENTFLOW_WRITE_FIXTURES") == "1":
        FIXTURE.write_text(text, encoding="utf-8", newline="\n")
    assert FIXTURE.is_file(), f"missing {FIXTURE.name}: regenerate it (see the module docstring)"
    assert text == FIXTURE.read_text(encoding="utf-8")


def test_the_fixture_is_a_well_formed_everruns_stream() -> None:
    blocks = FIXTURE.read_text(encoding="utf-8").split("\n\n")
    assert blocks[-1] == ""  # ends with a complete message
    frames_ = [parse_block(b) for b in blocks[:-1]]
    assert frames_[0].event == "connected" and frames_[0].id is None
    events = [f.json() for f in frames_[1:]]
    assert 250 <= len(events) <= 600
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    assert [f.id for f in frames_[1:]] == [e["id"] for e in events]
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    kinds = {e["type"] for e in events}
    assert {"tool.call_requested", "tool.approval_requested", "question.requested"} <= kinds
    assert {"turn.completed", "turn.failed", "reason.thinking.delta"} <= kinds
    assert sum(e["type"] == "session.idled" for e in events) == len(PROMPTS)
    assert all(json.loads(json.dumps(e)) == e for e in events)
