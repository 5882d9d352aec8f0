"""``app.run`` over a real orxhestra Runner: the App's policies gate the agent's tools.

The agent is a real ``LlmAgent`` in a real ``Runner`` whose model plays a scenario, so the
calls go through orxhestra's own tool executor exactly as with a real model.
"""

from __future__ import annotations

from typing import Any

import anyio
from langchain_core.messages import ToolMessage
from orx_support import TURN_TIMEOUT, announced, collect, file_tools, responses, shape, spy

from agentflow import App, Event
from agentflow.orxhestra import GatedTool, OrxhestraEvent, OrxhestraSource
from agentflow.plugins import Allow, Deny
from agentflow.testing import CustomTool, Say, Scenario, Think, Turn
from agentflow.testing.orxhestra import scenario_runner

TIDY_UP = Scenario(
    [
        Turn(
            [
                Say("Let me tidy up.", stream=True),
                CustomTool("read_file", {"path": "a.txt"}),
                CustomTool("delete_file", {"path": "a.txt"}),
                Say("Read it; the delete was refused.", stream=True),
            ]
        )
    ]
)


def tidy_app() -> App:
    app = App(load_entrypoints=False)

    @app.confirm("read_file")
    def reads_are_fine() -> Allow:
        return Allow()

    @app.confirm("delete_file")
    def no_deletes(event: Event) -> Deny:
        assert event.tool_name == "delete_file"  # the policy sees its own call of the batch
        return Deny("Deleting is not allowed.")

    return app


async def test_a_denied_tool_never_runs_and_the_run_ends_with_the_answer() -> None:
    ran: list[tuple[str, str]] = []
    runner = scenario_runner(TIDY_UP, file_tools(ran))
    source = OrxhestraSource(runner, user_id="u")
    assert source.gated == ["read_file", "delete_file"]
    yielded = spy(runner)
    with anyio.fail_after(TURN_TIMEOUT):
        result = await tidy_app().run(source, "s1", send=["Tidy up."])

    assert ran == [("read_file", "a.txt")]  # the allowed tool ran once, the denied one never
    assert (result.stop_reason, result.text) == ("end_turn", "Read it; the delete was refused.")
    assert result.ok and result.dialect == "orxhestra"
    ids = {part.tool_name: part.tool_call_id for part in announced(yielded)}
    records = [(r.id, r.name, r.input, r.kind, r.outcome, r.sent) for r in result.tool_calls]
    assert records == [
        (ids["read_file"], "read_file", {"path": "a.txt"}, "confirmation", "allowed", True),
        (ids["delete_file"], "delete_file", {"path": "a.txt"}, "confirmation", "denied", True),
    ]
    assert [r.policy for r in result.tool_calls] == ["reads_are_fine", "no_deletes"]
    # The agent got the deny message as the call's error response, and the model read it.
    by_name = {part.tool_name: part for part in responses(yielded)}
    assert (by_name["read_file"].result, by_name["read_file"].error) == ("contents of a.txt", None)
    assert by_name["delete_file"].error == "Deleting is not allowed."
    _, messages = runner.agent._model.requests[-1]
    results = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
    assert (results[ids["delete_file"]].content, results[ids["delete_file"]].status) == (
        "Deleting is not allowed.",
        "error",
    )
    # Usage: the two model calls' llm_response token counts, summed.
    counted = [e.llm_response for e in yielded if e.llm_response is not None]
    assert len(counted) == 2
    assert result.usage.input_tokens == sum(r.input_tokens for r in counted) > 0
    assert result.usage.output_tokens == sum(r.output_tokens for r in counted) > 0
    assert result.time_to_first_token is not None


def native(event: Event) -> Any:
    """The orxhestra event inside ``event``, which must be an :class:`OrxhestraEvent`."""
    assert isinstance(event, OrxhestraEvent)
    return event.native


async def test_handlers_see_exactly_what_orxhestra_yields_and_kinds_route_them() -> None:
    scenario = Scenario([Turn([*TIDY_UP.turns[0].steps[:3], Think(), *TIDY_UP.turns[0].steps[3:]])])
    plain = await collect(scenario_runner(scenario, file_tools([])), "Tidy up.")
    runner = scenario_runner(scenario, file_tools([]))
    source = OrxhestraSource(runner, user_id="u")
    yielded = spy(runner)
    app = App(load_entrypoints=False)
    app.confirm("*")(lambda: Allow())
    seen: list[Event] = []
    by_kind: dict[str, list[Any]] = {}

    @app.on("*")
    def every(event: Event) -> None:
        seen.append(event)

    for kind in ("message.delta", "reasoning.delta", "tool.started", "tool.completed",
                 "tool.failed", "message.completed"):  # fmt: skip

        def note(event: Event, kind: str = kind) -> None:
            by_kind.setdefault(kind, []).append(event)

        app.on(kind=kind)(note)
    partials: list[Event] = []

    @app.on("agent_message", partial=True)  # a field filter on orxhestra's own field
    def chunk(event: Event) -> None:
        partials.append(event)

    with anyio.fail_after(TURN_TIMEOUT):
        result = await app.run(source, "s", send=["Tidy up."])

    # Exactly the events orxhestra yielded, in order, each once: the same objects inside.
    assert len(seen) == len(yielded) == result.events
    assert all(native(e) is n for e, n in zip(seen, yielded, strict=True))
    # And the same events a plain astream of the scenario yields (ids and times aside).
    assert [shape(native(e)) for e in seen] == [shape(e) for e in plain]
    assert all(isinstance(e, OrxhestraEvent) for e in seen)
    texts = {k: [e.text for e in v] for k, v in by_kind.items()}
    assert texts["message.delta"] == ["Let", " me", " tidy", " up.", "Read", " it;", " the",
                                      " delete", " was", " refused."]  # fmt: skip
    assert [e.thinking for e in by_kind["reasoning.delta"]] == ["Thinking."]
    assert [[p.tool_name for p in e.tool_calls] for e in by_kind["tool.started"]] == [
        ["read_file", "delete_file"]
    ]
    assert [e.tool_name for e in by_kind["tool.completed"]] == ["read_file", "delete_file"]
    assert "tool.failed" not in by_kind
    assert (
        partials
        == by_kind["message.delta"][:4] + by_kind["reasoning.delta"] + by_kind["message.delta"][4:]
    )
    assert texts["message.completed"] == ["Read it; the delete was refused."]
    assert by_kind["message.completed"][0] is seen[-1] and seen[-1].is_final_response()
    assert result.counts == {"agent_message": len(seen) - 2, "tool_response": 2}


async def test_only_the_named_tools_are_gated_and_no_policy_means_deny() -> None:
    ran: list[tuple[str, str]] = []
    runner = scenario_runner(TIDY_UP, file_tools(ran))
    source = OrxhestraSource(runner, user_id="u", gate=["delete_file"])
    tools = runner.agent._tools
    assert [isinstance(tools[n], GatedTool) for n in ("read_file", "delete_file")] == [False, True]
    with anyio.fail_after(TURN_TIMEOUT):
        result = await App(load_entrypoints=False).run(source, "s", send=["Tidy up."])
    assert ran == [("read_file", "a.txt")]
    (record,) = result.tool_calls  # the ungated call is the agent's own business
    assert (record.name, record.outcome, record.policy) == ("delete_file", "denied", "default")
    assert result.stop_reason == "end_turn"


async def test_a_gated_tool_with_no_run_following_its_session_stays_shut() -> None:
    ran: list[tuple[str, str]] = []
    runner = scenario_runner(TIDY_UP, file_tools(ran))
    OrxhestraSource(runner, user_id="u")
    events = await collect(runner, "Tidy up.", session="by-hand")  # no app.run
    assert ran == []
    errors = [part.error for part in responses(events)]
    assert len(errors) == 2 and all(
        "no agentflow run follows session 'by-hand'" in e for e in errors
    )


async def test_a_call_id_answered_before_in_the_session_is_refused_saying_so() -> None:
    # Two Runners whose scripted models both number their calls from call_1, one App (one
    # checkpoint), one session: the second call_1 was answered already, so its gate stays shut.
    app = tidy_app()
    first = OrxhestraSource(scenario_runner(TIDY_UP, file_tools([])), user_id="u")
    ran: list[tuple[str, str]] = []
    runner = scenario_runner(TIDY_UP, file_tools(ran))
    yielded = spy(runner)
    with anyio.fail_after(TURN_TIMEOUT):
        await app.run(first, "s", send=["Tidy up."])
        await app.run(OrxhestraSource(runner, user_id="u"), "s", send=["Tidy up."])
    assert ran == []
    errors = [part.error for part in responses(yielded)]
    assert all("gave no answer to 'call_" in e and "answered before" in e for e in errors)
