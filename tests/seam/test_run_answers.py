"""Answers across the seam on Managed Agents: ``confirm=True`` tools, and the one owner of
reply-post retries (a run that cannot post its replies raises with its partial result)."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from agentflow import Allow, App, Deny, ManagedAgentsClient, RateLimitError
from agentflow.testing import CustomTool, Emulator, Say, Scenario, Turn


def _app() -> tuple[App, list[str]]:
    app = App(load_entrypoints=False)
    ran: list[str] = []

    @app.tool(confirm=True)
    def refund(order: str) -> str:
        """Refund an order."""
        ran.append(f"refund {order}")
        return "refunded"

    @app.tool(confirm=True)
    def lookup(order: str) -> str:
        """Look an order up."""
        ran.append(f"lookup {order}")
        return "shipped"

    @app.confirm("refund")
    def no_refunds() -> Deny:
        return Deny("Refunds need a person.")

    @app.confirm("lookup")
    def lookups_are_fine() -> Allow:
        return Allow()

    return app, ran


async def test_a_confirm_tool_denied_never_runs_and_its_result_carries_the_message() -> None:
    scenario = Scenario(
        [Turn([CustomTool("refund", {"order": "A"}), CustomTool("lookup", {"order": "A"}),
               Say("Done.")])]
    )  # fmt: skip
    app, ran = _app()
    async with Emulator(scenario) as emu:
        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            session = await client.sessions.create(agent="a", environment_id="e")
            with anyio.fail_after(20):
                result = await app.run(client, session.id, send=["Refund A"])
        replies = {
            e["custom_tool_use_id"]: e
            for e in emu.history(session.id)
            if e["type"] == "user.custom_tool_result"
        }
    assert ran == ["lookup A"]
    assert result.stop_reason == "end_turn"
    records = {r.name: r for r in result.tool_calls}
    assert (records["refund"].outcome, records["refund"].is_error) == ("denied", True)
    assert records["lookup"].outcome == "ok"
    denied = replies[records["refund"].id]
    assert denied["is_error"] is True
    assert denied["content"] == [{"type": "text", "text": "Refunds need a person."}]
    assert replies[records["lookup"].id]["content"] == [{"type": "text", "text": "shipped"}]


async def test_a_persistent_429_is_retried_by_one_owner_then_raised_with_the_partial_result() -> (
    None
):
    scenario = Scenario([Turn([CustomTool("lookup", {"order": "B"}), Say("Done.")])])
    app, ran = _app()
    holder: dict[str, Any] = {}

    @app.on("agent.custom_tool_use")
    def block_replies() -> None:  # from now on every POST to the session's events is a 429
        emu, sid = holder["emu"], holder["sid"]
        emu.fail_next(429, count=1000, path=f"/v1/sessions/{sid}/events", method="POST",
                      retry_after=0)  # fmt: skip

    async with Emulator(scenario) as emu:
        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            session = await client.sessions.create(agent="a", environment_id="e")
            holder.update(emu=emu, sid=session.id)
            with anyio.fail_after(20), pytest.raises(RateLimitError) as info:
                await app.run(client, session.id, send=["Look B up"])
        posts = [
            r
            for r in emu.requests
            if r.method == "POST" and r.path == f"/v1/sessions/{session.id}/events"
        ]
    assert ran == ["lookup B"]
    rejected = [r for r in posts if r.status == 429]
    assert len(rejected) == 5  # the actions router's attempts, and no other layer's on top
    partial = info.value.run_result
    assert partial is not None and partial.stop_reason == "error"
    (record,) = partial.tool_calls
    assert (record.name, record.outcome, record.sent) == ("lookup", "ok", False)
    assert record.reply is not None and record.reply["custom_tool_use_id"] == record.id
    assert len(partial.errors) == 5 and "attempt 5" in partial.errors[-1]
