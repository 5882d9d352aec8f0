"""What the agent and the user see when a tool or a policy goes wrong (against the emulator).

Each test shows the reply stored in the session (what the agent gets) and the
``ToolCallRecord`` / ``RunResult`` fields (what the program gets).
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from pydantic import BaseModel
from router_support import ids_of, new_app, replies, run_turn, scenario, text_of

from agentflow import Allow, hookimpl
from agentflow.testing import CustomTool, Say, Tool


class Address(BaseModel):
    city: str
    postcode: str


async def test_invalid_input_is_an_error_naming_the_field_and_the_tool_never_runs() -> None:
    app = new_app()
    runs: list[Address] = []

    @app.tool
    def ship(to: Address, copies: int = 1) -> str:
        """Ship a parcel."""
        runs.append(to)
        return "shipped"

    bad = {"to": {"city": "Oslo"}, "copies": "many"}
    result, history = await run_turn(app, scenario(CustomTool("ship", bad), Say("ok")))
    (reply,) = replies(history).values()
    assert reply["is_error"] is True
    assert text_of(reply) == (
        "invalid input for tool 'ship': to.postcode: Field required; "
        "copies: Input should be a valid integer"
    )
    assert runs == []
    (record,) = result.tool_calls
    assert (record.outcome, record.is_error, record.input) == ("invalid_input", True, bad)
    assert record.error == text_of(reply)
    assert result.stop_reason == "end_turn"


async def test_raising_tool_sends_the_exception_type_and_message() -> None:
    app = new_app()

    @app.tool
    async def fetch(url: str) -> str:
        """Fetch a URL."""
        raise ConnectionError(f"cannot reach {url}")

    result, history = await run_turn(app, scenario(CustomTool("fetch", {"url": "x.test"})))
    (reply,) = replies(history).values()
    assert (reply["is_error"], text_of(reply)) == (True, "ConnectionError: cannot reach x.test")
    assert (result.tool_calls[0].outcome, result.tool_calls[0].error) == (
        "error",
        "ConnectionError: cannot reach x.test",
    )


async def test_timing_out_tool_is_an_error_result() -> None:
    app = new_app()

    @app.tool(timeout=0.1)
    async def slow() -> str:
        """Never finishes in time."""
        await anyio.sleep(30)
        return "late"

    result, history = await run_turn(app, scenario(CustomTool("slow", {}), Say("ok")))
    (reply,) = replies(history).values()
    assert (reply["is_error"], text_of(reply)) == (True, "tool 'slow' timed out after 0.1s")
    assert result.tool_calls[0].outcome == "timeout"
    assert result.stop_reason == "end_turn"


@pytest.mark.parametrize("empty", [None, "", []], ids=["none", "empty-str", "empty-list"])
async def test_empty_result_is_replaced_by_a_placeholder(empty: Any) -> None:
    app = new_app()

    @app.tool(name="noop", description="Does nothing.")
    def anything() -> Any:
        return empty

    result, history = await run_turn(app, scenario(CustomTool("noop", {}), Say("ok")))
    (reply,) = replies(history).values()
    assert "is_error" not in reply and text_of(reply) == "(no output)"
    assert result.tool_calls[0].outcome == "ok"


async def test_raising_policy_denies_and_is_reported() -> None:
    app = new_app()

    class Flaky:
        @hookimpl
        def agentflow_confirm_tool(self, event: Any) -> Any:
            raise RuntimeError("policy service unavailable")

    app.plugins.register(Flaky(), name="flaky")
    app.default_confirmation = Allow()  # would allow, but a failing policy denies first
    result, history = await run_turn(
        app, scenario(Tool("read", {"path": "a"}, permission="always_ask"), Say("ok"))
    )
    (reply,) = replies(history).values()
    assert reply["result"] == "deny"
    assert reply["deny_message"] == "The client's confirmation policy failed; denied."
    message = "confirmation policy 'flaky' raised RuntimeError: policy service unavailable"
    assert result.errors == [message]
    (record,) = result.tool_calls
    assert (record.outcome, record.policy, record.error) == ("denied", "flaky", message)
    tool_result = [e for e in history if e["type"] == "agent.tool_result"][0]
    assert tool_result["is_error"] is True  # the agent saw the call refused


async def test_no_matching_policy_denies_by_default() -> None:
    app = new_app()

    @app.confirm("read*")
    def reads() -> Allow:
        return Allow()

    result, history = await run_turn(
        app, scenario(Tool("bash", {"command": "ls"}, permission="always_ask"), Say("ok"))
    )
    (reply,) = replies(history).values()
    assert reply["result"] == "deny"
    assert reply["deny_message"] == (
        "No confirmation policy matched tool 'bash'; the call was denied by default."
    )
    assert (result.tool_calls[0].outcome, result.tool_calls[0].policy) == ("denied", "default")


async def test_configured_default_allows() -> None:
    app = new_app()
    app.default_confirmation = Allow()
    result, history = await run_turn(
        app, scenario(Tool("bash", {}, permission="always_ask"), Say("ok"))
    )
    (bash_id,) = ids_of(history, "agent.tool_use")
    assert replies(history)[bash_id]["result"] == "allow"
    assert result.tool_calls[0].policy == "default"
