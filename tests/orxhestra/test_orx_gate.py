"""The tool gate: ``decide(call)`` runs before a gated tool, and a deny keeps the tool from running.

Every test drives a real orxhestra ``Runner`` whose model plays a scenario, so the calls go
through orxhestra's own tool executor exactly as with a real model.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from langchain_core.messages import ToolMessage
from orx_support import announced, collect, responses, tool

from agentflow.orxhestra import GatedTool, ToolCall, gate_agent, gate_tools, human_input_tool
from agentflow.plugins import Allow, Deny, Verdict
from agentflow.testing import CustomTool, Question, Say, Scenario, Turn
from agentflow.testing.orxhestra import scenario_runner


def file_tools(ran: list[tuple[str, str]]) -> list[Any]:
    async def read_file(path: str) -> str:
        """Read a file."""
        ran.append(("read_file", path))
        return f"contents of {path}"

    async def delete_file(path: str) -> str:
        """Delete a file."""
        ran.append(("delete_file", path))
        return "deleted"

    return [tool(read_file), tool(delete_file)]


READ_AND_DELETE = Scenario(
    [
        Turn(
            [
                Say("Let me tidy up."),
                CustomTool("read_file", {"path": "a.txt"}),
                CustomTool("delete_file", {"path": "a.txt"}),
                Say("Read it; the delete was refused."),
            ]
        )
    ]
)


async def test_a_denied_tool_never_runs_and_the_agent_reads_the_deny_message() -> None:
    ran: list[tuple[str, str]] = []
    runner = scenario_runner(READ_AND_DELETE, file_tools(ran))
    seen: list[ToolCall] = []

    async def decide(call: ToolCall) -> Verdict:
        seen.append(call)
        return Deny("Deleting is not allowed.") if call.name == "delete_file" else Allow()

    assert gate_agent(runner.agent, decide) == ["read_file", "delete_file"]
    events = await collect(runner, "Tidy up.", session="s1")

    assert ran == [("read_file", "a.txt")]  # the allowed tool ran once, the denied one never
    ids = {part.tool_name: part.tool_call_id for part in announced(events)}
    assert [(c.name, dict(c.input), c.id, c.session_id, c.agent_name) for c in seen] == [
        ("read_file", {"path": "a.txt"}, ids["read_file"], "s1", "agent"),
        ("delete_file", {"path": "a.txt"}, ids["delete_file"], "s1", "agent"),
    ]
    by_name = {part.tool_name: part for part in responses(events)}
    assert (by_name["read_file"].result, by_name["read_file"].error) == ("contents of a.txt", None)
    assert (by_name["delete_file"].result, by_name["delete_file"].error) == (
        "",
        "Deleting is not allowed.",
    )
    # What the model is given on its next call: the deny message as the call's error result.
    _, messages = runner.agent._model.requests[-1]
    results = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
    assert results[ids["delete_file"]].content == "Deleting is not allowed."
    assert results[ids["delete_file"]].status == "error"
    assert results[ids["read_file"]].status == "success"
    final = events[-1]
    assert final.is_final_response() and final.text == "Read it; the delete was refused."


@pytest.mark.parametrize(
    ("decide_result", "reason"),
    [(RuntimeError("policy store down"), "RuntimeError: policy store down"), (True, "True")],
    ids=["decide-raises", "not-a-verdict"],
)
async def test_a_gate_that_cannot_decide_stays_shut(decide_result: Any, reason: str) -> None:
    ran: list[tuple[str, str]] = []
    runner = scenario_runner(READ_AND_DELETE, file_tools(ran))

    async def decide(call: ToolCall) -> Verdict:
        if isinstance(decide_result, Exception):
            raise decide_result
        return decide_result  # type: ignore[no-any-return]

    gate_agent(runner.agent, decide)
    events = await collect(runner, "Tidy up.")
    assert ran == []
    errors = [part.error for part in responses(events)]
    assert len(errors) == 2
    assert all(e is not None and "was not run" in e and reason in e for e in errors)
    assert events[-1].is_final_response()


async def test_only_the_named_tools_are_gated() -> None:
    ran: list[tuple[str, str]] = []
    asked: list[str] = []

    async def deny_all(call: ToolCall) -> Verdict:
        asked.append(call.name)
        return Deny("no")

    tools = gate_tools(file_tools(ran), deny_all, names=["delete_file"])
    assert [type(t) is GatedTool for t in tools] == [False, True]
    runner = scenario_runner(READ_AND_DELETE, tools)
    await collect(runner, "Tidy up.")
    assert asked == ["delete_file"]
    assert ran == [("read_file", "a.txt")]


def test_a_misspelt_tool_name_is_an_error_not_an_ungated_tool() -> None:
    runner = scenario_runner(READ_AND_DELETE, file_tools([]))

    async def allow(call: ToolCall) -> Verdict:
        return Allow()

    with pytest.raises(ValueError, match=r"unknown tool\(s\) \['delete_fiel'\]"):
        gate_agent(runner.agent, allow, names=["delete_fiel"])
    with pytest.raises(ValueError, match="delete_fiel"):
        gate_tools(file_tools([]), allow, names=["delete_fiel"])


async def test_gating_again_replaces_the_decision_instead_of_stacking() -> None:
    ran: list[tuple[str, str]] = []
    runner = scenario_runner(READ_AND_DELETE, file_tools(ran))
    first: list[str] = []

    async def deny(call: ToolCall) -> Verdict:
        first.append(call.name)
        return Deny("no")

    async def allow(call: ToolCall) -> Verdict:
        return Allow()

    gate_agent(runner.agent, deny)
    gate_agent(runner.agent, allow)
    assert all(not isinstance(t.inner, GatedTool) for t in runner.agent._tools.values())
    await collect(runner, "Tidy up.")
    assert first == []
    assert ran == [("read_file", "a.txt"), ("delete_file", "a.txt")]


async def test_identical_calls_in_one_batch_get_their_own_ids() -> None:
    ran: list[tuple[str, str]] = []
    same = CustomTool("read_file", {"path": "a.txt"})
    runner = scenario_runner(Scenario([Turn([same, same, Say("Twice.")])]), file_tools(ran))
    ids: list[str | None] = []

    async def decide(call: ToolCall) -> Verdict:
        ids.append(call.id)
        return Allow()

    gate_agent(runner.agent, decide)
    events = await collect(runner, "Read twice.")
    assert sorted(i or "" for i in ids) == sorted(p.tool_call_id for p in announced(events))
    assert len(set(ids)) == 2
    assert ran == [("read_file", "a.txt")] * 2


async def test_sessions_running_at_once_each_see_their_own_calls() -> None:
    # orxhestra hands each call its context, then awaits its before-tool callback, then runs
    # the tool. Holding both sessions in that callback until both are there means both
    # contexts were handed over before either tool runs: a context kept on the shared tool
    # object, rather than per task, would give one session's call the other's session.
    entered = 0
    both_inside = anyio.Event()

    async def before_tool(ctx: Any, name: str, args: dict[str, Any]) -> None:
        nonlocal entered
        entered += 1
        if entered == 2:
            both_inside.set()
        await both_inside.wait()

    async def read_file(path: str) -> str:
        """Read a file."""
        return path

    scenario = Scenario([Turn([CustomTool("read_file", {"path": "p"}), Say("Done.")])])
    runner = scenario_runner(scenario, [tool(read_file)], before_tool_callback=before_tool)
    seen: list[ToolCall] = []

    async def decide(call: ToolCall) -> Verdict:
        seen.append(call)
        return Allow()

    gate_agent(runner.agent, decide)
    results: dict[str, list[Any]] = {}

    async def run(session: str) -> None:
        results[session] = await collect(runner, "Go.", session=session)

    async with anyio.create_task_group() as tg:
        tg.start_soon(run, "s1")
        tg.start_soon(run, "s2")
    assert both_inside.is_set()
    expected = {(s, announced(results[s])[0].tool_call_id) for s in ("s1", "s2")}
    assert {(c.session_id, c.id) for c in seen} == expected
    assert len({call_id for _, call_id in expected}) == 2


async def test_a_gated_tool_keeps_its_interactive_flag() -> None:
    async def answer(question: str) -> str:
        return "Oslo"

    async def allow(call: ToolCall) -> Verdict:
        return Allow()

    runner = scenario_runner(
        Scenario([Turn([Question("Which city?"), Say("Oslo it is.")])]), [human_input_tool(answer)]
    )
    gate_agent(runner.agent, allow)
    events = await collect(runner, "Weather?")
    assert announced(events)[0].metadata == {"interactive": True}
    assert responses(events)[0].result == "Oslo"


async def test_outside_a_runner_the_call_has_no_id_unless_given_one() -> None:
    seen: list[ToolCall] = []

    async def decide(call: ToolCall) -> Verdict:
        seen.append(call)
        return Allow()

    gated, untouched = gate_tools(file_tools([]), decide, exclude=["delete_file"])
    assert isinstance(gated, GatedTool) and not isinstance(untouched, GatedTool)
    assert await gated.ainvoke({"path": "x"}) == "contents of x"
    tool_call = {"type": "tool_call", "id": "call_9", "name": "read_file", "args": {"path": "y"}}
    message = await gated.ainvoke(tool_call)
    assert isinstance(message, ToolMessage) and message.content == "contents of y"
    assert [(c.input, c.id, c.session_id) for c in seen] == [
        ({"path": "x"}, None, None),
        ({"path": "y"}, "call_9", None),
    ]
