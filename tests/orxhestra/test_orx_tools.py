"""The agent's questions answered by a hook, and agentflow tools offered to and run by the agent."""

from __future__ import annotations

from typing import Any

from orx_support import announced, collect, responses
from orxhestra.cli.tools.human_input import make_human_input_tool

from agentflow import App, Context
from agentflow.orxhestra import (
    ToolCall,
    adapt_tools,
    answer_human_input,
    current_call,
    gate_agent,
    human_input_tool,
    reply_text,
)
from agentflow.plugins import Allow, Deny, Verdict
from agentflow.testing import CustomTool, Question, Say, Scenario, Turn
from agentflow.testing.orxhestra import scenario_runner

ASK_CITY = Scenario([Turn([Question("Which city?", ("Paris", "Oslo")), Say("Paris it is.")])])


async def test_human_input_is_answered_by_the_hook() -> None:
    asked: list[tuple[str, ToolCall | None]] = []

    async def answer(question: str) -> str:
        asked.append((question, current_call()))
        return "Paris"

    runner = scenario_runner(ASK_CITY, [human_input_tool(answer)])
    events = await collect(runner, "Plan a trip.", session="trip")

    (call,) = announced(events)
    assert (call.tool_name, call.args) == (
        "human_input",
        {"question": "Which city? (Paris / Oslo)"},
    )
    assert call.metadata == {"interactive": True}
    assert [(q, c.id if c else None, c.session_id if c else None) for q, c in asked] == [
        ("Which city? (Paris / Oslo)", call.tool_call_id, "trip")
    ]
    (reply,) = responses(events)
    assert (reply.tool_call_id, reply.result, reply.error) == (call.tool_call_id, "Paris", None)
    assert events[-1].is_final_response() and events[-1].text == "Paris it is."


async def test_an_agents_own_human_input_tool_is_answered_behind_the_gate() -> None:
    answered: list[str] = []

    async def answer(question: str) -> str:
        answered.append(question)
        return "Oslo"

    decided: list[str] = []

    async def decide(call: ToolCall) -> Verdict:
        decided.append(call.name)
        return Allow()

    runner = scenario_runner(ASK_CITY, [make_human_input_tool()])  # orxhestra's, no callback
    gate_agent(runner.agent, decide)
    assert answer_human_input(runner.agent, answer) == 1
    events = await collect(runner, "Plan a trip.")
    assert decided == ["human_input"] and answered == ["Which city? (Paris / Oslo)"]
    assert responses(events)[0].result == "Oslo"


def test_answering_an_agent_without_human_input_reports_none() -> None:
    async def answer(question: str) -> str:
        return ""

    runner = scenario_runner(ASK_CITY, [])
    assert answer_human_input(runner.agent, answer) == 0
    assert answer_human_input([make_human_input_tool()], answer) == 1


def weather_app(calls: list[tuple[str, Context | None]]) -> App:
    app = App()

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

    return app


async def test_an_agentflow_tool_is_offered_to_the_agent_and_run() -> None:
    calls: list[tuple[str, Context | None]] = []
    app = weather_app(calls)
    contexts: dict[str | None, Context] = {}
    asked_for: list[ToolCall] = []

    def context(call: ToolCall) -> Context:
        asked_for.append(call)
        return contexts.setdefault(call.session_id, Context(call.session_id))

    scenario = Scenario(
        [
            Turn(
                [
                    CustomTool("get_weather", {"city": "Oslo"}),
                    CustomTool("get_weather", {"city": "Atlantis"}),
                    CustomTool("get_weather", {"city": 3}),
                    Say("Sunny in Oslo."),
                ]
            )
        ]
    )
    runner = scenario_runner(scenario, adapt_tools(app.tools, context=context))
    events = await collect(runner, "Weather?", session="w")

    (offered,) = runner.agent._model.offered_tools
    assert offered["function"]["name"] == "get_weather"
    assert offered["function"]["description"] == "The weather in a city."
    assert offered["function"]["parameters"] == app.tools["get_weather"].input_schema
    # The function ran for the valid inputs only, with the run's context for the session.
    assert [(city, ctx is contexts["w"]) for city, ctx in calls] == [
        ("Oslo", True),
        ("Atlantis", True),
    ]
    ids = [part.tool_call_id for part in announced(events)]
    assert [c.id for c in asked_for] == ids
    results = [(r.tool_call_id, r.result, r.error) for r in responses(events)]
    assert results[0] == (ids[0], '{"city":"Oslo","sky":"sunny"}', None)
    assert results[1] == (ids[1], "", "LookupError: no such city")
    assert results[2][:2] == (ids[2], "")
    assert results[2][2].startswith("invalid input for tool 'get_weather': city:")
    assert events[-1].is_final_response() and events[-1].text == "Sunny in Oslo."


async def test_a_gated_agentflow_tool_that_is_denied_never_runs() -> None:
    calls: list[tuple[str, Context | None]] = []
    app = weather_app(calls)
    seen: list[str | None] = []

    def context(call: ToolCall) -> Context | None:
        seen.append(call.id)
        return None

    async def decide(call: ToolCall) -> Verdict:
        seen.append(call.id)
        return Deny("Not today.") if call.input["city"] == "Paris" else Allow()

    scenario = Scenario(
        [
            Turn(
                [
                    CustomTool("get_weather", {"city": "Paris"}),
                    CustomTool("get_weather", {"city": "Oslo"}),
                    Say("Only Oslo."),
                ]
            )
        ]
    )
    runner = scenario_runner(scenario, adapt_tools(app.tools, context=context))
    gate_agent(runner.agent, decide)
    events = await collect(runner, "Weather?")
    ids = [part.tool_call_id for part in announced(events)]
    assert [city for city, _ in calls] == ["Oslo"]
    # One id per call, the same for the gate and for the tool behind it.
    assert seen == [ids[0], ids[1], ids[1]]
    assert [r.error for r in responses(events)] == ["Not today.", None]


def test_reply_text_keeps_text_and_writes_other_blocks_as_json() -> None:
    from agentflow.tools import ToolReply

    image: dict[str, Any] = {"type": "image", "source": {"type": "url", "url": "u"}}
    reply = ToolReply([{"type": "text", "text": "a"}, image, {"type": "text", "text": "b"}])
    assert reply_text(reply) == 'a\n\n{"type": "image", "source": {"type": "url", "url": "u"}}\n\nb'
