"""How an orxhestra run begins and ends: the messages it plays, its stop reasons, its errors."""

from __future__ import annotations

from functools import partial
from typing import Any

import anyio
import pytest
from orx_support import TURN_TIMEOUT, file_tools, spy, tool

from agentflow import (
    App,
    ConflictError,
    Context,
    Event,
    MemoryCheckpointStore,
    RunResult,
    SessionBusyError,
    user_message,
)
from agentflow.orxhestra import AgentFailed, OrxhestraEvent, OrxhestraSource
from agentflow.plugins import Allow
from agentflow.testing import CustomTool, Error, Say, Scenario, Turn
from agentflow.testing.orxhestra import scenario_runner


def quiet_app() -> App:
    app = App(load_entrypoints=False)
    app.confirm("*")(lambda: Allow())
    return app


async def run(app: App, source: Any, session: str = "s", **options: Any) -> RunResult:
    with anyio.fail_after(TURN_TIMEOUT):
        return await app.run(source, session, **options)


async def test_each_message_sent_is_played_in_order_and_the_last_ends_the_run() -> None:
    runner = scenario_runner(Scenario.simple("one", "two", "three"))
    source = OrxhestraSource(runner, user_id="u")
    yielded = spy(runner)
    app = quiet_app()
    ends: list[str | None] = []

    @app.on(kind="message.completed")
    def answer(event: Event) -> None:
        ends.append(event.dialect.turn_end(event))

    result = await run(app, source, send=["a", user_message("b")])  # either form of message
    assert [e.text for e in yielded if e.partial is False] == ["one", "two"]
    assert ends == [None, "end_turn"]  # only the last event of the last message ends the turn
    assert (result.stop_reason, result.text) == ("end_turn", "two")
    result = await run(app, source)  # nothing to send, nothing queued: nothing happens
    assert (result.stop_reason, result.events) == ("stream_ended", 0)
    assert (await run(app, source, send=["c"])).text == "three"  # the session goes on


async def test_a_message_sent_by_a_handler_is_played_in_the_same_run() -> None:
    scenario = Scenario([[Say("first", stream=True)], [Say("second")]])
    source = OrxhestraSource(scenario_runner(scenario), user_id="u")
    app = quiet_app()

    @app.on(kind="message.delta")
    async def follow_up(event: Event, ctx: Context) -> None:
        if event.text == "first":  # the delta before the answer: the turn is not over yet
            await ctx.send({"type": "user_message", "text": "and then?"})

    result = await run(app, source, send=["go"])
    assert (result.stop_reason, result.text) == ("end_turn", "second")


async def test_a_message_sent_while_the_turn_ends_waits_for_the_next_run() -> None:
    runner = scenario_runner(Scenario.simple("first", "second"))
    source = OrxhestraSource(runner, user_id="u")
    app = quiet_app()

    @app.on(kind="message.completed")
    async def follow_up(event: Event, ctx: Context) -> None:
        if event.text == "first":
            await ctx.send({"type": "user_message", "text": "and then?"})

    assert (await run(app, source, send=["go"])).text == "first"
    assert list(source.queue("s")) == ["and then?"]  # kept, not lost
    assert (await run(app, source)).text == "second"  # played by the next run
    assert list(source.queue("s")) == []


async def test_an_error_report_ends_the_run_with_error() -> None:
    scenario = Scenario([Turn([Say("Working", stream=True), Error("api_error", "exhausted")])])
    source = OrxhestraSource(scenario_runner(scenario), user_id="u")
    app = quiet_app()
    errors: list[Event] = []
    app.on(kind="error")(lambda event: errors.append(event))
    result = await run(app, source, send=["go"])
    assert result.stop_reason == "error" and not result.ok
    (error,) = errors
    assert isinstance(error, OrxhestraEvent)  # orxhestra's own fields are read through it
    assert error.error == "api_error: the scripted model call failed"
    assert error.metadata == {"error": True, "exception_type": "ScriptedModelError"}
    assert error.dialect.severity(error) == "exhausted"
    assert result.text == ""  # no answer came


async def test_a_handler_interrupting_ends_the_run_cancelled_and_stops_the_agent() -> None:
    ran: list[tuple[str, str]] = []
    scenario = Scenario(
        [Turn([Say("Reading."), CustomTool("read_file", {"path": "a"}), Say("Never said.")])]
    )
    runner = scenario_runner(scenario, file_tools(ran))
    source = OrxhestraSource(runner, user_id="u")
    yielded = spy(runner)
    app = quiet_app()

    @app.on(kind="tool.started")
    async def stop_it(ctx: Context) -> None:
        await ctx.interrupt()

    result = await run(app, source, send=["go"])
    assert result.stop_reason == "cancelled"
    # The generator was closed at the tool-call event, before the tool ran.
    assert ran == [] and [bool(e.tool_calls) for e in yielded] == [False, True]


async def test_ctx_stop_ends_the_run_stopped() -> None:
    scenario = Scenario([Turn([Say("Hello there.", stream=True)])])
    source = OrxhestraSource(scenario_runner(scenario), user_id="u")
    app = quiet_app()
    app.on(kind="message.delta")(lambda ctx: ctx.stop())
    result = await run(app, source, send=["hi"])
    assert (result.stop_reason, result.events) == ("stopped", 1)


async def test_an_agent_that_raises_ends_the_run_with_agent_failed() -> None:
    runner = scenario_runner(Scenario.simple("x"))
    source = OrxhestraSource(runner, user_id="u")
    astream = runner.astream

    async def failing(**kwargs: Any) -> Any:
        async for event in astream(**kwargs):
            yield event
        raise RuntimeError("session store down")  # after the answer, held back till now

    runner.astream = failing
    seen: list[Event] = []
    app = quiet_app()
    app.on("*")(lambda event: seen.append(event))
    with pytest.raises(AgentFailed, match="RuntimeError: session store down") as caught:
        await run(app, source, send=["go"])
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert caught.value.run_result.stop_reason == "error"
    # What came first was handled (each an orxhestra event, whose ``partial`` is its own).
    assert [isinstance(e, OrxhestraEvent) and e.partial for e in seen] == [True, False]


async def test_two_sessions_run_at_once_each_with_its_own_answers() -> None:
    ran: list[tuple[str, str]] = []
    scenario = Scenario([Turn([CustomTool("read_file", {"path": "p"}), Say("Done.")])])
    source = OrxhestraSource(scenario_runner(scenario, file_tools(ran)), user_id="u")
    app = App(load_entrypoints=False)
    both = anyio.Event()
    asked: list[str | None] = []

    @app.confirm("read_file")
    async def hold_until_both_ask(ctx: Context) -> Allow:
        asked.append(ctx.session_id)
        if len(asked) == 2:
            both.set()
        await both.wait()  # both runs are deciding at once
        return Allow()

    results: dict[str, RunResult] = {}

    async def one(session: str) -> None:
        results[session] = await run(app, source, session, send=["go"])

    async with anyio.create_task_group() as tg:
        tg.start_soon(one, "s1")
        tg.start_soon(one, "s2")
    assert sorted(asked, key=str) == ["s1", "s2"] and len(ran) == 2
    for session in ("s1", "s2"):
        (record,) = results[session].tool_calls
        assert (record.outcome, results[session].text) == ("allowed", "Done.")


async def test_one_session_is_followed_by_one_run_at_a_time() -> None:
    source = OrxhestraSource(scenario_runner(Scenario.simple("hi")), user_id="u")
    app = quiet_app()
    inside = anyio.Event()
    release = anyio.Event()

    @app.on(kind="message.completed")
    async def hold() -> None:
        inside.set()
        await release.wait()

    async with anyio.create_task_group() as tg:
        tg.start_soon(partial(run, app, source, send=["a"]))
        await inside.wait()
        with pytest.raises(SessionBusyError):  # the same store: the session lease says no
            await run(app, source, send=["b"])
        with pytest.raises(ConflictError, match="already followed by a run"):  # the source
            await run(app, source, send=["b"], checkpoint=MemoryCheckpointStore())
        release.set()
    assert list(source.queue("s")) == []  # the refused run queued nothing


def test_bad_input_is_refused_before_anything_runs() -> None:
    source = OrxhestraSource(scenario_runner(Scenario.simple("hi")), user_id="u")
    app = quiet_app()
    with pytest.raises(ValueError, match=r"user messages only.*request 1 is \{'type': 'x'\}"):
        app.run_sync(source, "s", send=["fine", {"type": "x"}])
    assert list(source.queue("s")) == []  # nothing of it was kept
    with pytest.raises(TypeError, match=r"no stream options, got \['event_deltas'\]"):
        app.run_sync(source, "s", send=["hi"], event_deltas=("x",))
    with pytest.raises(ValueError, match="non-empty str id"):
        app.run_sync(source, 42, send=["hi"])
    with pytest.raises(ValueError, match="user_id"):
        OrxhestraSource(scenario_runner(Scenario.simple("hi")), user_id="")
    with pytest.raises(TypeError, match="orxhestra Runner"):
        OrxhestraSource(object(), user_id="u")


async def test_an_ungated_tool_runs_with_no_record() -> None:
    async def ping() -> str:
        """Ping."""
        return "pong"

    scenario = Scenario([Turn([CustomTool("ping"), Say("Pong.")])])
    source = OrxhestraSource(scenario_runner(scenario, [tool(ping)]), user_id="u", gate=False)
    result = await run(App(load_entrypoints=False), source, send=["go"])
    assert (result.tool_calls, result.text, source.gated) == ([], "Pong.", [])


async def test_a_gate_decided_while_the_run_is_interrupted_stays_shut() -> None:
    ran: list[tuple[str, str]] = []
    settled = anyio.Event()

    async def after_tool(ctx: Any, name: str, result: Any) -> None:
        settled.set()  # orxhestra is done with the call (run or refused)

    scenario = Scenario([Turn([CustomTool("read_file", {"path": "a"}), Say("Never said.")])])
    runner = scenario_runner(scenario, file_tools(ran), after_tool_callback=after_tool)
    source = OrxhestraSource(runner, user_id="u")
    app = App(load_entrypoints=False)

    @app.confirm("read_file")
    async def allow_but_stop(ctx: Context) -> Allow:
        await ctx.interrupt()  # from inside the agent's tool call, not from a handler
        return Allow()

    result = await run(app, source, send=["go"])
    with anyio.fail_after(TURN_TIMEOUT):
        await settled.wait()
    assert ran == []  # allowed by the policy, but the run had stopped: the gate stayed shut
    assert result.stop_reason == "stream_ended"  # no event was left to carry the end
