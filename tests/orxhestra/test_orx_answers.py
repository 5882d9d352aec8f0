"""The App answers an orxhestra agent: ``@app.on_question`` for ``human_input``, the App's own
tools run by the run's actions router, and calls no event announced."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from orx_support import TURN_TIMEOUT, announced, file_tools, responses, spy, tool
from orxhestra.cli.tools.human_input import make_human_input_tool

from agentflow import App, Context, Event, RunResult
from agentflow.orxhestra import DECLINED, GatedTool, OrxhestraSource, RoutedTool
from agentflow.plugins import Allow, Deny
from agentflow.testing import CustomTool, Question, Say, Scenario, Turn
from agentflow.testing.orxhestra import scenario_runner

ASK_CITY = Scenario([Turn([Question("Which city?", ("Paris", "Oslo")), Say("Noted.")])])


async def run(app: App, source: Any, session: str = "s", **options: Any) -> RunResult:
    with anyio.fail_after(TURN_TIMEOUT):
        return await app.run(source, session, **options)


async def test_on_question_answers_human_input() -> None:
    runner = scenario_runner(ASK_CITY, [make_human_input_tool()])
    source = OrxhestraSource(runner, user_id="u")
    assert (source.gated, source.questions) == ([], 1)  # asked, never gated
    yielded = spy(runner)
    app = App(load_entrypoints=False)
    asked: list[tuple[str, Any]] = []

    @app.on_question
    def pick(question: str, event: Event) -> str:
        asked.append((question, event.tool_name))
        return "Paris"

    result = await run(app, source, send=["Plan a trip."])
    assert asked == [("Which city? (Paris / Oslo)", "human_input")]
    (call,) = announced(yielded)
    (reply,) = responses(yielded)
    assert (reply.tool_call_id, reply.result) == (call.tool_call_id, "Paris")
    (record,) = result.tool_calls
    assert (record.id, record.kind, record.outcome) == (call.tool_call_id, "question", "answered")
    assert record.policy is not None and record.policy.endswith(".pick")  # who answered
    assert result.text == "Noted."


async def test_an_unanswered_question_is_declined_not_left_waiting() -> None:
    runner = scenario_runner(ASK_CITY, [make_human_input_tool()])
    yielded = spy(runner)
    result = await run(App(load_entrypoints=False), OrxhestraSource(runner, user_id="u"),
                       send=["Plan a trip."])  # fmt: skip
    assert responses(yielded)[0].result == DECLINED
    assert [(r.outcome, r.policy) for r in result.tool_calls] == [("declined", "default")]


def test_human_input_cannot_be_gated_while_on_question_answers_it() -> None:
    runner = scenario_runner(ASK_CITY, [make_human_input_tool()])
    with pytest.raises(ValueError, match="'human_input' cannot be gated"):
        OrxhestraSource(runner, user_id="u", gate=["human_input"])
    source = OrxhestraSource(runner, user_id="u", gate=["human_input"], questions=False)
    assert (source.gated, source.questions) == (["human_input"], 0)
    assert source.roles == {"human_input": "approval"}


def weather_app(calls: list[tuple[str, Context | None]]) -> App:
    app = App(load_entrypoints=False)

    @app.tool
    async def get_weather(city: str, ctx: Context) -> dict[str, str]:
        """The weather in a city.

        Args:
            city: The city's name.
        """
        calls.append((city, ctx))
        if city == "Atlantis":
            raise LookupError("no such city")
        return {"city": city, "sky": "sunny"}

    @app.tool(confirm=True)
    def book_flight(city: str) -> str:
        """Book a flight."""
        calls.append((f"flight to {city}", None))
        return "booked"

    @app.confirm("book_flight")
    def no_flights() -> Deny:
        return Deny("No flights today.")

    return app


async def test_the_apps_tools_are_given_to_the_agent_and_run_by_the_router() -> None:
    calls: list[tuple[str, Context | None]] = []
    app = weather_app(calls)
    scenario = Scenario(
        [
            Turn(
                [
                    CustomTool("get_weather", {"city": "Oslo"}),
                    CustomTool("get_weather", {"city": "Atlantis"}),
                    CustomTool("book_flight", {"city": "Oslo"}),
                    Say("Sunny in Oslo; no flight."),
                ]
            )
        ]
    )
    runner = scenario_runner(scenario, file_tools([]))
    source = OrxhestraSource(runner, user_id="u", app_tools=True)
    yielded = spy(runner)
    result = await run(app, source, "w", send=["Weather?"])

    offered = {t["function"]["name"]: t["function"] for t in runner.agent._model.offered_tools}
    assert sorted(offered) == ["book_flight", "delete_file", "get_weather", "read_file"]
    assert offered["get_weather"]["parameters"] == app.tools["get_weather"].input_schema
    routed = [n for n, t in runner.agent._tools.items() if isinstance(t, RoutedTool)]
    assert routed == ["get_weather", "book_flight"]
    # The function ran for Oslo and Atlantis (the run's context, for that call), never for
    # the denied flight.
    assert [city for city, _ in calls] == ["Oslo", "Atlantis"]
    ids = [part.tool_call_id for part in announced(yielded)]
    assert [ctx.call_id for _, ctx in calls] == ids[:2]  # type: ignore[union-attr]
    assert all(ctx is not None and ctx.session_id == "w" for _, ctx in calls)
    got = [(r.tool_call_id, r.result, r.error) for r in responses(yielded)]
    assert sorted(got) == sorted(
        [
            (ids[0], '{"city":"Oslo","sky":"sunny"}', None),
            (ids[1], "", "LookupError: no such city"),
            (ids[2], "", "No flights today."),
        ]
    )
    records = [(r.id, r.kind, r.outcome, r.policy) for r in result.tool_calls]
    assert records == [
        (ids[0], "custom", "ok", None),
        (ids[1], "custom", "error", None),
        (ids[2], "custom", "denied", "no_flights"),
    ]
    assert result.text == "Sunny in Oslo; no flight."


async def test_an_app_tool_may_not_take_the_name_of_the_agents_own() -> None:
    app = App(load_entrypoints=False)

    @app.tool
    def read_file(path: str) -> str:
        """Read a file, the App's way."""
        return path

    runner = scenario_runner(Scenario.simple("hi"), file_tools([]))
    source = OrxhestraSource(runner, user_id="u", app_tools=True)
    with pytest.raises(ValueError, match="'read_file' has the name of one of the agent's own"):
        await run(app, source, send=["hi"])


async def test_a_call_no_event_announced_is_still_decided_by_the_policies() -> None:
    # ``outer`` calls the gated ``inner`` itself, so orxhestra announces only ``outer``:
    # the router learns of the inner call when its gate asks.
    ran: list[tuple[str, str]] = []
    runner = scenario_runner(
        Scenario([Turn([CustomTool("outer", {"path": "x"}), Say("Done.")])]), file_tools(ran)
    )

    async def outer(path: str) -> str:
        """Read, through the agent's own gated tool."""
        inner = runner.agent._tools["read_file"]
        assert isinstance(inner, GatedTool)
        return str(await inner.ainvoke({"path": path}))

    runner.agent._tools["outer"] = tool(outer)
    source = OrxhestraSource(runner, user_id="u", gate=["read_file"])
    app = App(load_entrypoints=False)
    seen: list[Any] = []

    @app.confirm("read_file")
    def allow(event: Event) -> Allow:
        seen.append((event.tool_name, event.tool_input))
        return Allow()

    result = await run(app, source, send=["go"])
    assert ran == [("read_file", "x")] and seen == [("read_file", {"path": "x"})]
    (record,) = result.tool_calls
    assert (record.name, record.kind, record.outcome) == ("read_file", "confirmation", "allowed")
    assert record.id.startswith("read_file-")  # no model id: one of agentflow's own
    assert result.text == "Done."
