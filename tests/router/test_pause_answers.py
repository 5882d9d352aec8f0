"""Every call of a pause gets an answer, whatever a policy or a tool does (against the emulator).

Hanging and raising policies, tools raising ``BaseException`` subclasses, inputs that are
not objects, tools the app lacks, and replies the server rejects: each ends in a reply the
agent can act on and a report the program can read, never a lost reply or a silent hang.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from router_support import ids_of, new_app, replies, run_turn, scenario, text_of

from agentflow import Allow, ManagedAgentsClient, ToolReply, user_message
from agentflow.testing import CustomTool, Emulator, Say, Tool

FOREIGN: dict[str, Callable[[], BaseException]] = {
    "cancelled": asyncio.CancelledError,
    "system-exit": lambda: SystemExit(3),
    "generator-exit": GeneratorExit,
}


async def test_a_hanging_policy_is_denied_at_its_timeout_and_the_other_reply_lands() -> None:
    app = new_app()
    app.policy_timeout = 0.2

    @app.confirm("slow")
    async def never_answers() -> None:
        await anyio.sleep_forever()

    @app.confirm("fast")
    def allow_fast() -> Allow:
        return Allow()

    scen = scenario(
        Tool("slow", permission="always_ask"), Tool("fast", permission="always_ask"), Say("done")
    )
    result, history = await run_turn(app, scen)
    slow_id, fast_id = ids_of(history, "agent.tool_use")
    got = replies(history)
    assert got[fast_id]["result"] == "allow"
    assert got[slow_id]["result"] == "deny"
    assert got[slow_id]["deny_message"] == "The client's confirmation policy failed; denied."
    records = {r.id: r for r in result.tool_calls}
    assert (records[slow_id].outcome, records[slow_id].policy) == ("denied", "never_answers")
    assert (
        records[slow_id].error == "confirmation policy 'never_answers' did not answer within 0.2s"
    )
    assert records[slow_id].error in result.errors
    assert result.counts["user.tool_confirmation"] == 2 and result.stop_reason == "end_turn"


async def test_the_policies_of_one_pause_are_asked_at_the_same_time() -> None:
    # Each policy waits for the other to have started: asked one after the other, the first
    # would wait forever (and be denied at its timeout).
    app = new_app()
    app.policy_timeout = 5
    started = {"a": anyio.Event(), "b": anyio.Event()}

    @app.confirm("a", "b")
    async def rendezvous(event: Any) -> Allow:
        me = event.tool_name
        started[me].set()
        await started["b" if me == "a" else "a"].wait()
        return Allow()

    scen = scenario(
        Tool("a", permission="always_ask"), Tool("b", permission="always_ask"), Say("done")
    )
    result, history = await run_turn(app, scen)
    assert [r["result"] for r in replies(history).values()] == ["allow", "allow"]
    assert result.errors == [] and result.stop_reason == "end_turn"


@pytest.mark.parametrize("raised", list(FOREIGN), ids=list(FOREIGN))
async def test_a_policy_raising_a_base_exception_denies_and_is_reported(raised: str) -> None:
    app = new_app()

    @app.confirm
    async def broken() -> None:
        raise FOREIGN[raised]()

    result, history = await run_turn(
        app, scenario(Tool("bash", permission="always_ask"), Say("done"))
    )
    (reply,) = replies(history).values()
    assert reply["result"] == "deny"
    (record,) = result.tool_calls
    assert record.outcome == "denied" and record.policy == "broken"
    assert record.error is not None and record.error.startswith("confirmation policy 'broken' ")
    assert record.error in result.errors and result.stop_reason == "end_turn"


@pytest.mark.parametrize("raised", list(FOREIGN), ids=list(FOREIGN))
@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
async def test_a_tool_raising_a_base_exception_gets_an_error_result(
    raised: str, sync: bool
) -> None:
    app = new_app()

    def fail() -> str:
        raise FOREIGN[raised]()

    async def fail_async() -> str:
        return fail()

    app.tool(name="fail", description="Fails.")(fail if sync else fail_async)
    result, history = await run_turn(app, scenario(CustomTool("fail"), Say("done")))
    (reply,) = replies(history).values()
    kind = {"cancelled": "CancelledError", "system-exit": "SystemExit: 3"}.get(raised)
    assert reply["is_error"] is True and text_of(reply) == (kind or "GeneratorExit")
    assert result.tool_calls[0].outcome == "error" and result.stop_reason == "end_turn"


async def test_cancelling_the_run_still_cancels_a_running_tool() -> None:
    app = new_app()
    started, cancelled = anyio.Event(), anyio.Event()

    @app.tool
    async def wait_forever() -> str:
        """Never returns."""
        started.set()
        try:
            await anyio.sleep_forever()
        finally:
            cancelled.set()
        return "unreachable"

    async with Emulator(scenario(CustomTool("wait_forever"), Say("done"))) as emu:
        sid = emu.create_session()
        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:

                    async def run() -> None:
                        await app.run(client, sid, send=[user_message("go")])

                    tg.start_soon(run)
                    await started.wait()
                    tg.cancel_scope.cancel()
                await cancelled.wait()
        assert replies(emu.history(sid)) == {}  # nothing was posted for the cancelled call


@pytest.mark.parametrize("bad", [[1, 2], None, "text"], ids=["array", "null", "string"])
async def test_a_call_whose_input_is_not_an_object_is_kept_and_answered_with_an_error(
    bad: Any,
) -> None:
    app = new_app()
    runs: list[str] = []
    seen: list[Any] = []

    @app.tool
    def lookup(key: str) -> str:
        """Look a key up."""
        runs.append(key)
        return key

    @app.on("agent.custom_tool_use")
    def saw(event: Any) -> None:
        seen.append(event.input)

    result, history = await run_turn(app, scenario(CustomTool("lookup", bad), Say("done")))
    (reply,) = replies(history).values()
    kind = {"array": "an array", "null": "null", "string": "a string"}
    expected = kind["array" if isinstance(bad, list) else "null" if bad is None else "string"]
    assert reply["is_error"] is True
    assert text_of(reply) == (
        f"invalid input for tool 'lookup': expected a JSON object of arguments, got {expected}"
    )
    assert seen == [bad] and runs == []  # the event reached the handlers; the tool never ran
    (record,) = result.tool_calls
    assert (record.outcome, record.input) == ("invalid_input", bad)
    assert result.stop_reason == "end_turn"


async def test_a_tool_the_app_lacks_gets_an_error_result_by_default() -> None:
    app = new_app()
    result, history = await run_turn(app, scenario(CustomTool("nowhere", {"q": 1}), Say("ok")))
    (reply,) = replies(history).values()
    assert reply["is_error"] is True
    assert text_of(reply) == "no tool named 'nowhere' is available to this client"
    (record,) = result.tool_calls
    assert (record.outcome, record.sent) == ("unknown", True)
    assert result.unanswered == [] and result.stop_reason == "end_turn"


async def test_malformed_content_from_a_tool_is_an_error_result_and_the_other_reply_lands() -> None:
    app = new_app()

    @app.tool
    def good() -> str:
        """Good."""
        return "fine"

    @app.tool
    def bad() -> list[dict[str, Any]]:
        """Bad."""
        return [{"type": "text", "text": 5}]

    result, history = await run_turn(app, scenario(CustomTool("good"), CustomTool("bad"), Say("k")))
    good_id, bad_id = ids_of(history, "agent.custom_tool_use")
    got = replies(history)
    assert text_of(got[good_id]) == "fine"
    assert got[bad_id]["is_error"] is True
    assert text_of(got[bad_id]) == (
        "tool 'bad' returned content a tool result cannot hold: "
        "content[0] (text): text must be a string"
    )
    assert {r.name: r.outcome for r in result.tool_calls} == {"good": "ok", "bad": "invalid_output"}
    assert result.stop_reason == "end_turn"


class _Raw:
    """A third-party tool whose reply skips agentflow's content checks."""

    def __init__(self, name: str, content: list[dict[str, Any]]) -> None:
        self.name, self.content = name, content
        self.confirm = self.idempotent = False

    async def call(self, tool_input: Any, ctx: Any = None) -> ToolReply:
        return ToolReply(self.content)


class _RawTools:
    def __init__(self, *tools: _Raw) -> None:
        self.tools = {t.name: t for t in tools}

    def get(self, name: str | None) -> _Raw | None:
        return self.tools.get(name or "")


async def test_a_rejected_batch_is_posted_reply_by_reply_so_the_good_ones_land() -> None:
    app = new_app()
    app.actions.tools = _RawTools(
        _Raw("good", [{"type": "text", "text": "fine"}]),
        _Raw("bad", [{"type": "text", "text": None}]),
        _Raw("also_good", [{"type": "text", "text": "fine too"}]),
    )
    steps = (CustomTool("good"), CustomTool("bad"), CustomTool("also_good"), Say("k"))
    result, history = await run_turn(app, scenario(*steps))
    good_id, bad_id, also_id = ids_of(history, "agent.custom_tool_use")
    got = replies(history)
    assert (text_of(got[good_id]), text_of(got[also_id])) == ("fine", "fine too")
    assert got[bad_id]["is_error"] is True
    assert text_of(got[bad_id]).startswith(
        "the server rejected the client's reply to this call: events[0].content[0].text"
    )
    records = {r.id: r for r in result.tool_calls}
    assert (records[bad_id].outcome, records[bad_id].sent) == ("rejected", True)
    assert records[good_id].sent and records[also_id].sent
    assert any(e.startswith(f"the reply to {bad_id} was rejected") for e in result.errors)
    assert result.stop_reason == "end_turn"
