"""The scripted chat model plays scenarios through a real orxhestra Runner, with no network."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from orx_support import announced, collect, responses, tool

from agentflow.testing import (
    Burst,
    CustomTool,
    Emit,
    Error,
    Say,
    Scenario,
    ScenarioError,
    Stop,
    Think,
    Turn,
    Usage,
    Wait,
)
from agentflow.testing.orxhestra import THINKING_TEXT, ScenarioChatModel, scenario_runner


def partial_text(events: list[Any]) -> str:
    return "".join(e.text for e in events if e.partial)


async def test_a_text_turn_streams_partials_then_the_final_answer() -> None:
    runner = scenario_runner(Scenario([Turn([Say("Hello there, friend.", stream=True)])]))
    events = await collect(runner, "Hi")
    *chunks, final = events
    assert [c.text for c in chunks] == ["Hello", " there,", " friend."]
    assert all(c.partial is True and c.turn_complete is False for c in chunks)
    assert not any(c.is_final_response() for c in chunks)
    assert (final.partial, final.turn_complete, final.text) == (False, True, "Hello there, friend.")
    assert final.is_final_response() and final.metadata == {}
    assert final.llm_response.model_version == "agentflow-scenario"
    assert final.llm_response.input_tokens > 0 and final.llm_response.output_tokens > 0


async def test_each_message_plays_the_next_turn_and_each_session_starts_over() -> None:
    runner = scenario_runner(Scenario.simple("one", "two"))
    assert (await collect(runner, "a"))[-1].text == "one"
    assert (await collect(runner, "b"))[-1].text == "two"
    assert (await collect(runner, "c"))[-1].text == "OK"  # the fallback reply
    assert (await collect(runner, "a", session="other"))[-1].text == "one"


async def test_text_before_tool_calls_streams_but_rides_on_the_call_message() -> None:
    async def lookup(q: str) -> str:
        """Look something up."""
        return q.upper()

    scenario = Scenario(
        [Turn([Say("Checking."), CustomTool("lookup", {"q": "x"}), Say("A"), Say("B")])]
    )
    runner = scenario_runner(scenario, [tool(lookup)])
    events = await collect(runner, "Go")
    kinds = [(e.type.value, e.partial) for e in events]
    assert kinds == [
        ("agent_message", True),
        ("agent_message", None),
        ("tool_response", None),
        ("agent_message", True),
        ("agent_message", True),
        ("agent_message", False),
    ]
    call_message = events[1]
    assert call_message.text == "" and call_message.llm_response.text == "Checking."
    assert responses(events)[0].result == "X"
    assert events[-1].text == "A\n\nB" == partial_text(events[3:])


async def test_thinking_streams_as_partial_thinking_and_stays_out_of_the_answer() -> None:
    runner = scenario_runner(Scenario([Turn([Think(), Say("Answer.", thinking=True)])]))
    events = await collect(runner, "Think")
    thinking = [e.thinking for e in events if e.thinking]
    assert thinking == [THINKING_TEXT, " " + THINKING_TEXT]
    assert all(e.partial and e.text == "" for e in events if e.thinking)
    assert events[-1].text == "Answer." and events[-1].thinking == ""


async def test_a_failing_model_call_ends_the_turn_with_an_error_event() -> None:
    scenario = Scenario(
        [Turn([Say("Working"), Error("api_error", "exhausted", "boom")]), [Say("Back")]]
    )
    runner = scenario_runner(scenario)
    events = await collect(runner, "Go")
    assert [(e.partial, e.text) for e in events] == [(True, "Working"), (None, "api_error: boom")]
    error = events[-1]
    assert error.metadata == {"error": True, "exception_type": "ScriptedModelError"}
    assert error.error == "api_error: boom" and not error.is_final_response()
    assert error.llm_response is None
    assert (await collect(runner, "Again"))[-1].text == "Back"  # the next turn plays


async def test_a_transient_looking_error_is_retried_by_orxhestra_and_fails_again() -> None:
    runner = scenario_runner(
        Scenario([Turn([Say("Working"), Error("overloaded_error", "exhausted")])])
    )
    events = await collect(runner, "Go")
    assert [e.text for e in events] == [
        "Working",
        "overloaded_error: the scripted model call failed",
    ]
    assert events[-1].metadata["error"] is True


async def test_a_retrying_error_is_retried_and_the_turn_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    scenario = Scenario([Turn([Say("a"), Error("overloaded_error", "retrying"), Say("b")])])
    runner = scenario_runner(scenario)
    with caplog.at_level(logging.WARNING, logger="orxhestra"):
        events = await collect(runner, "Go")
    assert [(e.partial, e.text) for e in events] == [(True, "a"), (True, "b"), (False, "b")]
    assert not any(e.metadata for e in events)
    assert any("retrying" in r.getMessage() for r in caplog.records)


async def test_too_many_tool_rounds_end_in_the_max_iterations_error() -> None:
    ran: list[str] = []

    async def step(n: str) -> str:
        """One step."""
        ran.append(n)
        return n

    turn = Turn(
        [
            CustomTool("step", {"n": "1"}),
            CustomTool("step", {"n": "2"}),
            CustomTool("step", {"n": "3"}),
        ]
    )
    runner = scenario_runner(
        Scenario([Turn([turn.steps[0], Say("x"), turn.steps[1], Say("y"), turn.steps[2]])]),
        [tool(step)],
        max_iterations=2,
    )
    events = await collect(runner, "Go")
    assert ran == ["1", "2"]
    last = events[-1]
    assert last.text == "Max iterations (2) reached without a final answer."
    assert last.metadata == {"error": True} and not last.is_final_response()


async def test_usage_comes_with_every_answer_or_only_where_asked() -> None:
    quiet = scenario_runner(Scenario([[Say("no usage")], [Say("usage"), Usage()]], usage=False))
    first = (await collect(quiet, "a"))[-1].llm_response
    second = (await collect(quiet, "b"))[-1].llm_response
    assert (first.input_tokens, first.output_tokens) == (None, None)
    assert second.output_tokens == 1 + len("usage") // 4


async def test_stop_ends_the_turn_and_burst_and_wait_stream_chunks() -> None:
    runner = scenario_runner(
        Scenario([Turn([Burst(3, "part"), Wait(0.01), Say("end"), Stop("refusal"), Say("never")])])
    )
    events = await collect(runner, "Go")
    assert [e.text for e in events if e.partial] == ["part 0\n", "part 1\n", "part 2\n", "\n\nend"]
    assert events[-1].text == "part 0\npart 1\npart 2\n\n\nend"


async def test_a_turn_ending_with_tools_ends_with_an_empty_answer() -> None:
    async def ping() -> str:
        """Ping."""
        return "pong"

    runner = scenario_runner(Scenario([Turn([CustomTool("ping")])]), [tool(ping)])
    events = await collect(runner, "Go")
    last = events[-1]
    assert (last.type.value, last.partial, last.text, last.is_final_response()) == (
        "agent_message",
        False,
        "",
        False,
    )


async def test_a_call_to_a_tool_the_agent_lacks_gets_an_error_response() -> None:
    runner = scenario_runner(Scenario([Turn([CustomTool("nope"), Say("Oh.")])]))
    events = await collect(runner, "Go")
    (call,) = announced(events)
    (reply,) = responses(events)
    assert reply.tool_call_id == call.tool_call_id
    assert reply.error is not None and reply.error.startswith("Tool 'nope' not found.")
    assert events[-1].text == "Oh."


async def test_the_json_form_of_a_scenario_is_accepted() -> None:
    runner = scenario_runner({"turns": [{"steps": [{"say": "from JSON"}]}]})
    assert (await collect(runner, "Go"))[-1].text == "from JSON"


def test_a_step_a_chat_model_cannot_play_is_rejected_up_front() -> None:
    scenario = Scenario([[Say("fine")], Turn([Say("a"), Emit({"type": "x"})])])
    with pytest.raises(ScenarioError, match=r"turn 2, step 2: Emit cannot be played"):
        ScenarioChatModel(scenario)
    with pytest.raises(ScenarioError, match=r"turn 1, step 1: 'hi' is not a scenario step"):
        ScenarioChatModel(Scenario([["hi"]]))  # type: ignore[list-item]


def test_the_model_is_asynchronous_only() -> None:
    model = ScenarioChatModel(Scenario.simple("hi"))
    with pytest.raises(NotImplementedError, match="asynchronously"):
        model.invoke("hello")
