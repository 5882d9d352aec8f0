"""Scenarios: the JSON form, its errors, and the generator helpers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from emu_support import user_message

from agentflow.testing import (
    Burst,
    CustomTool,
    Emit,
    Emulator,
    Error,
    Faults,
    McpTool,
    Say,
    Scenario,
    ScenarioError,
    Stop,
    Think,
    Tool,
    Turn,
    Usage,
    Wait,
)

FIXTURE = Path(__file__).parent.parent / "fixtures" / "scenarios" / "weather.json"

ISSUE_EXAMPLE = {
    "turns": [
        {
            "steps": [
                {"say": "Looking that up."},
                {"custom_tool": {"name": "get_weather", "input": {"city": "Paris"}}},
                {"tool": {"name": "bash", "input": {"command": "ls"}, "permission": "always_ask"}},
                {"error": {"type": "model_overloaded_error", "retry_status": "retrying"}},
                {"say": "Done."},
            ]
        }
    ],
    "faults": {
        "drop_every": 7,
        "stall_after": 20,
        "stall_seconds": 3,
        "http_error_rate": 0.1,
        "duplicate_every": 5,
        "malformed_every": 0,
        "keepalive_seconds": 15,
    },
}


def test_the_documented_json_shape_parses() -> None:
    scenario = Scenario.from_dict(ISSUE_EXAMPLE)
    assert scenario.turns == (
        Turn(
            [
                Say("Looking that up."),
                CustomTool("get_weather", {"city": "Paris"}),
                Tool("bash", {"command": "ls"}, permission="always_ask"),
                Error("model_overloaded_error", "retrying"),
                Say("Done."),
            ]
        ),
    )
    assert scenario.faults == Faults(
        drop_every=7,
        stall_after=20,
        stall_seconds=3,
        http_error_rate=0.1,
        duplicate_every=5,
        keepalive_seconds=15,
    )


def test_every_extension_step_parses() -> None:
    steps: list[dict[str, Any]] = [
        {"say": "hi", "stream": True, "thinking": True},
        {"thinking": True},
        {
            "mcp_tool": {
                "server": "github",
                "name": "pr",
                "input": {"a": 1},
                "permission": "auto_ask",
            }
        },
        {"stop": "budget_reached"},
        {"stop": {"type": "refusal", "category": "cyber", "explanation": "no"}},
        {"burst": 3, "text": "x"},
        {"usage": True},
        {"emit": {"type": "agent.thread_context_compacted"}},
        {"wait": 0.5},
        {
            "error": {
                "type": "mcp_connection_failed_error",
                "retry_status": "terminal",
                "mcp_server_name": "github",
                "message": "down",
            }
        },
    ]
    scenario = Scenario.from_dict(
        {
            "turns": [{"steps": steps}],
            "step_delay": 0.1,
            "self_hosted": True,
            "usage": False,
            "fallback_reply": "Yes",
        }
    )
    assert scenario.turns[0].steps == (
        Say("hi", stream=True, thinking=True),
        Think(),
        McpTool("github", "pr", {"a": 1}, permission="auto_ask"),
        Stop("budget_reached"),
        Stop("refusal", "cyber", "no"),
        Burst(3, "x"),
        Usage(),
        Emit({"type": "agent.thread_context_compacted"}),
        Wait(0.5),
        Error("mcp_connection_failed_error", "terminal", "down", {"mcp_server_name": "github"}),
    )
    assert (scenario.step_delay, scenario.self_hosted, scenario.usage) == (0.1, True, False)
    assert scenario.turn(5) == Turn([Say("Yes")])


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"turns": [{"steps": [{"dance": 1}]}]}, r"turns\[0\]\.steps\[0\] has no known step key"),
        (
            {"turns": [{"steps": [{"tool": {"name": "x", "permission": "sometimes"}}]}]},
            "permission",
        ),
        ({"turns": [{"steps": [{"error": {"retry_status": "later"}}]}]}, "retry_status"),
        ({"turns": [{"steps": [{"emit": {"no": "type"}}]}]}, "emit needs a string 'type'"),
        ({"turns": [{"nope": []}]}, r"turns\[0\] must be an object with a 'steps' list"),
        ({"turns": [], "faults": {"drop": 1}}, "unknown faults key"),
        ({"turns": [], "faults": {"drop_every": -1}}, "drop_every must be >= 0"),
        ({"turns": [], "faults": {"http_error_rate": 2}}, "http_error_rate"),
        ({"turns": [], "faults": {"drop_every": "7"}}, "bad faults object"),
        ({"turns": [], "faults": {"keepalive_seconds": 0}}, "keepalive_seconds"),
        ({"turnz": []}, "unknown scenario key"),
        ([], "must be a JSON object"),
    ],
)
def test_malformed_scenarios_raise_a_clear_error(data: Any, match: str) -> None:
    with pytest.raises(ScenarioError, match=match):
        Scenario.from_dict(data)


def test_invalid_json_text_is_a_scenario_error() -> None:
    with pytest.raises(ScenarioError, match="not valid JSON"):
        Scenario.from_json("{")


def test_a_scenario_file_loads(tmp_path: Path) -> None:
    scenario = Scenario.load(FIXTURE)
    assert scenario.turns[0].steps[1] == CustomTool("get_weather", {"city": "Paris"})
    copy = tmp_path / "copy.json"
    copy.write_text(json.dumps(ISSUE_EXAMPLE))
    assert Scenario.load(copy).faults.drop_every == 7


def test_with_faults_changes_only_faults() -> None:
    base = Scenario.simple("a", "b")
    changed = base.with_faults(drop_every=3)
    assert changed.turns == base.turns
    assert changed.faults == Faults(drop_every=3)
    assert base.faults == Faults()


@pytest.mark.parametrize("n", [1, 2000])
async def test_bulk_emits_exactly_n_agent_messages(n: int) -> None:
    async with Emulator(Scenario.bulk(n)) as emu:
        session_id = emu.create_session()
        emu.send(session_id, [user_message()])
        with anyio.fail_after(20):
            await emu.wait_for_event(session_id, "session.status_idle")
        history = emu.history(session_id)
    messages = [e for e in history if e["type"] == "agent.message"]
    assert len(messages) == n
    assert messages[-1]["content"] == [{"type": "text", "text": f"chunk {n - 1}"}]


async def test_the_emulator_accepts_a_dict_or_a_path() -> None:
    for source in (ISSUE_EXAMPLE, FIXTURE, str(FIXTURE)):
        emulator = Emulator(source)
        assert emulator.scenario.turns[0].steps[0] == Say("Looking that up.")
