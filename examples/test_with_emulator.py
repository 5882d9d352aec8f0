"""Testing your own app against the emulator with the ``emulator`` pytest fixture.

Installing agentflow with the ``emulator`` extra registers a pytest plugin: the ``emulator``
fixture is a real local Managed Agents server on 127.0.0.1 (stopped after the test), driven
by the scenario given with ``@pytest.mark.emulator_scenario(...)``. Your app runs against it
exactly as against the real API, and ``emulator.history(session_id)`` shows what it sent.

    python -m pytest examples/test_with_emulator.py
"""

from __future__ import annotations

import pytest

from agentflow import App, Deny, Event, ManagedAgentsClient, user_message
from agentflow.testing import CustomTool, Emulator, Say, Scenario, Tool, Turn


@pytest.fixture
def anyio_backend() -> str:
    """The emulator serves with uvicorn, which runs on asyncio."""
    return "asyncio"


app = App()


@app.tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@app.confirm("bash")
def no_shell(event: Event) -> Deny:
    return Deny("No shell in tests.")


SCENARIO = Scenario(
    [
        Turn(
            [
                CustomTool("add", {"a": 2, "b": 3}),
                Tool("bash", {"command": "ls"}, permission="always_ask"),
                Say("2 + 3 = 5"),
            ]
        )
    ]
)


@pytest.mark.anyio
@pytest.mark.emulator_scenario(SCENARIO)
async def test_app_answers_the_tool_and_denies_bash(emulator: Emulator) -> None:
    async with ManagedAgentsClient(api_key=emulator.api_key, base_url=emulator.base_url) as client:
        session = await client.sessions.create(agent="agent_test", environment_id="env_test")
        result = await app.run(client, session.id, send=[user_message("What is 2 + 3?")])

    assert result.stop_reason == "end_turn"
    assert result.text == "2 + 3 = 5"
    assert {call.name: call.outcome for call in result.tool_calls} == {
        "add": "ok",
        "bash": "denied",
    }
    sent = [e for e in emulator.history(session.id) if e["type"].startswith("user.")]
    result_event = next(e for e in sent if e["type"] == "user.custom_tool_result")
    assert result_event["content"] == [{"type": "text", "text": "5"}]
    confirmation = next(e for e in sent if e["type"] == "user.tool_confirmation")
    assert (confirmation["result"], confirmation["deny_message"]) == ("deny", "No shell in tests.")
