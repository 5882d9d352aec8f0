"""The pure parts of the Messages emulator: position, segments, text cutting, planning."""

from __future__ import annotations

from typing import Any

import pytest

from agentflow.testing import CustomTool, Error, McpTool, Say, Scenario, Stop, Tool, Turn, Wait
from agentflow.testing._wire import ApiError, Ids
from agentflow.testing.messages.conversation import Position, locate
from agentflow.testing.messages.render import Block, Failure, Pause, pieces
from agentflow.testing.messages.script import Script, segments

USE = {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}]}
ANSWER = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1"}]}
SAID = {"role": "assistant", "content": "done"}


def _user(text: str = "q") -> dict[str, Any]:
    return {"role": "user", "content": text}


@pytest.mark.parametrize(
    ("messages", "position"),
    [
        ([_user()], Position(0, 0)),
        ([_user(), USE, ANSWER], Position(0, 1)),
        ([_user(), USE, ANSWER, USE, ANSWER], Position(0, 2)),
        ([_user(), SAID, _user()], Position(1, 0)),
        ([_user(), USE, ANSWER, SAID, _user(), USE, ANSWER], Position(1, 1)),
        ([_user(), SAID], Position(0, 1)),  # a response sent back (pause_turn) continues
        ([{"role": "user", "content": [{"type": "text", "text": "q"}]}], Position(0, 0)),
    ],
    ids=[
        "first",
        "after-tools",
        "after-two-tool-groups",
        "second-turn",
        "second-turn-tools",
        "sent-back",
        "block-content",
    ],
)
def test_locate_counts_turn_starts_and_responses_since(
    messages: list[dict[str, Any]], position: Position
) -> None:
    assert locate(messages) == position


def test_segments_end_after_tool_groups_and_stops() -> None:
    steps = (
        Say("a"),
        CustomTool("f"),
        Tool("g"),
        McpTool("s", "h"),
        Say("b"),
        Stop("pause_turn"),
        Say("c"),
    )
    parts = segments(steps)
    assert [len(s.tools) for s in parts] == [3, 0, 0]
    assert [[i for i, _ in s.steps] for s in parts] == [[0], [4], [6]]
    assert parts[1].stop == Stop("pause_turn") and parts[2].stop is None
    assert len(segments((CustomTool("f"),))) == 2  # the answer gets an empty response


@pytest.mark.parametrize("text", ["", "a", "ab", "naïve café ☕", "x" * 100])
def test_pieces_cut_at_least_twice_and_join_back(text: str) -> None:
    cut = pieces(text, 12)
    assert "".join(cut) == text
    assert len(cut) >= min(len(text), 2)
    assert all(len(p) <= 12 for p in cut)


def test_a_retrying_error_fires_once_and_an_exhausted_one_always() -> None:
    scenario = Scenario(
        [Turn([Say("a"), Error("api_error"), Wait(1)]), Turn([Error("api_error", "exhausted")])]
    )
    script = Script(scenario, Ids())
    first, second = script.plan(Position(0, 0)), script.plan(Position(0, 0))
    assert isinstance(first.parts[0], Block) and first.failure == Failure(
        "api_error", "Emulated api_error."
    )
    assert second.failure is None and isinstance(second.parts[-1], Pause)
    assert all(script.plan(Position(1, 0)).failure for _ in range(3))
    script.reset()
    assert script.plan(Position(0, 0)).failure is not None


def test_an_error_with_a_status_raises_the_http_error_once() -> None:
    scenario = Scenario(
        [
            Turn(
                [
                    Error(
                        "rate_limit_error",
                        message="Slow down.",
                        extra={"status": 429, "retry_after": 1.5},
                    )
                ]
            )
        ]
    )
    script = Script(scenario, Ids())
    with pytest.raises(ApiError) as info:
        script.plan(Position(0, 0))
    assert (info.value.status, info.value.type, info.value.message) == (
        429,
        "rate_limit_error",
        "Slow down.",
    )
    assert info.value.headers == {"retry-after": "2", "retry-after-ms": "1500"}
    assert script.plan(Position(0, 0)).stop_reason == "end_turn"


def test_first_stream_is_true_once_per_position() -> None:
    script = Script(Scenario(), Ids())
    assert [script.first_stream(Position(0, 0)) for _ in range(2)] == [True, False]
    assert script.first_stream(Position(0, 1))


def test_the_json_form_of_an_http_error_step() -> None:
    scenario = Scenario.from_dict(
        {
            "turns": [
                {
                    "steps": [
                        {
                            "error": {
                                "type": "overloaded_error",
                                "status": 529,
                                "should_retry": False,
                            }
                        }
                    ]
                }
            ]
        }
    )
    with pytest.raises(ApiError) as info:
        Script(scenario, Ids()).plan(Position(0, 0))
    assert (info.value.status, info.value.type) == (529, "overloaded_error")
    assert info.value.headers == {"x-should-retry": "false"}
