"""``app.run`` over Everruns: client-side tools, approvals by the policies, questions by
``@app.on_question`` (or the default decline), 409 retries, turn ends and attaching."""

from __future__ import annotations

import json
from typing import Any

import anyio
from evr_support import client_for, posts, quiet_app, turn_ids

from agentflow import Allow, Context, Deny, Event, MemoryCheckpointStore
from agentflow.everruns import DECLINED_ANSWER, EverrunsClient
from agentflow.testing import CustomTool, Error, Question, Say, Scenario, Tool, Turn, Wait
from agentflow.testing.everruns import EverrunsEmulator

GATES = Scenario(
    [
        Turn(
            [
                Say("Let me check."),
                Tool("rm", {"path": "/tmp/a"}, permission="always_ask", result="removed"),
                Tool("rm", {"path": "/etc"}, permission="always_ask"),
                CustomTool("get_weather", {"city": "Oslo"}),
                CustomTool("get_weather", {"city": "Paris"}),
                CustomTool("wipe", {}),
                Question("Which city first?", ("Oslo", "Paris"), "Route"),
                Say("All done."),
            ]
        )
    ]
)


def gated_app(answer: bool = True) -> tuple[Any, list[str]]:
    app = quiet_app()
    ran: list[str] = []

    @app.tool
    async def get_weather(city: str) -> dict[str, Any]:
        """Weather for a city."""
        ran.append(city)
        await anyio.sleep(0.05)
        return {"city": city, "temp_c": 12}

    @app.tool(confirm=True)
    def wipe() -> str:
        """Wipe everything."""
        ran.append("wipe")
        return "wiped"

    @app.confirm("rm")
    def only_tmp(event: Event) -> Allow | Deny:
        path = (event.tool_input or {}).get("path", "")
        return Allow() if path.startswith("/tmp/") else Deny(f"{path} is off limits")

    @app.confirm("wipe")
    def never_wipe(event: Event) -> Deny:
        return Deny("wiping is not allowed")

    if answer:

        @app.on_question
        def pick(question: str, options: tuple[str, ...]) -> str:
            return options[-1]

    return app, ran


async def test_tools_approvals_and_questions_are_all_answered_once() -> None:
    app, ran = gated_app()
    async with EverrunsEmulator(GATES) as emu, client_for(emu) as client:
        session = await client.sessions.create(tools=client.tool_definitions(app))
        with anyio.fail_after(15):
            result = await app.run(client, session.id, send=["Tidy up and plan the route."])
        history = emu.history(session.id)
        results, decisions = posts(emu, "/tool-results"), posts(emu, "/tool-approvals")
        answers = posts(emu, "/question-answers")
    assert (result.stop_reason, result.text) == ("end_turn", "All done.")
    assert sorted(ran) == ["Oslo", "Paris"]  # wipe was denied before it could run
    (batch,) = results  # one pause, one post with all three results
    sent = {r["tool_call_id"]: r for r in batch["tool_results"]}
    assert len(sent) == 3
    assert [json.loads(r["result"]) for r in sent.values() if "result" in r] == [
        {"city": "Oslo", "temp_c": 12}, {"city": "Paris", "temp_c": 12},
    ]  # fmt: skip
    assert [r["error"] for r in sent.values() if "error" in r] == ["wiping is not allowed"]
    verdicts = sorted(
        (d["decisions"][0]["decision"], d["decisions"][0].get("reason")) for d in decisions
    )
    assert verdicts == [("allow", None), ("deny", "/etc is off limits")]
    (answer,) = answers
    assert list(answer["answers"].values()) == ["Paris"]
    resolved = [e["data"]["decision"] for e in history if e["type"] == "tool.approval_resolved"]
    assert sorted(resolved) == ["allow", "deny"]
    kinds = {c.name: (c.kind, c.outcome, c.sent) for c in result.tool_calls}
    assert kinds["ask_user"] == ("question", "answered", True)
    assert kinds["wipe"] == ("custom", "denied", True)
    outcomes = sorted((c.name, c.outcome) for c in result.tool_calls)
    assert outcomes.count(("rm", "allowed")) == outcomes.count(("rm", "denied")) == 1
    assert result.usage.input_tokens > 0 and result.time_to_first_token is not None
    assert not result.unanswered and not result.errors


async def test_a_question_nobody_answers_is_declined_never_left_waiting() -> None:
    scenario = Scenario([Turn([Question("Ship it?", ("yes", "no")), Say("Understood.")])])
    app = quiet_app()
    async with EverrunsEmulator(scenario) as emu, client_for(emu) as client:
        session = await client.sessions.create()
        with anyio.fail_after(10):
            result = await app.run(client, session.id, send=["go"])
        (answer,) = posts(emu, "/question-answers")
    assert list(answer["answers"].values()) == [DECLINED_ANSWER]
    assert result.stop_reason == "end_turn"
    assert [(c.outcome, c.policy) for c in result.tool_calls] == [("declined", "default")]


async def test_a_409_on_the_results_is_retried_by_the_router_and_posted_once() -> None:
    scenario = Scenario([Turn([CustomTool("get_weather", {"city": "Oslo"}), Say("Mild.")])])
    app, ran = gated_app()
    async with EverrunsEmulator(scenario) as emu, client_for(emu) as client:
        session = await client.sessions.create(tools=client.tool_definitions(app))
        path = f"/api/v1/sessions/{session.id}/tool-results"
        emu.fail_next(
            409, path=path, message=f"session {session.id} is not waiting for tool results"
        )
        with anyio.fail_after(15):
            result = await app.run(client, session.id, send=["go"])
        attempts = posts(emu, "/tool-results", status=None)
        accepted = posts(emu, "/tool-results")
    assert ran == ["Oslo"] and len(attempts) == 2 and len(accepted) == 1
    assert attempts[0] == attempts[1]  # the same stored reply, posted again
    assert result.stop_reason == "end_turn" and any(
        "409" in e or "conflict" in e for e in result.errors
    )


async def test_failed_and_cancelled_turns_end_the_run_with_their_reason() -> None:
    scenario = Scenario(
        [Turn([Say("Trying."), Error("llm_error", message="Model unavailable.")]),
         Turn([Say("Working on it."), Wait(5), Say("never")])]
    )  # fmt: skip
    app = quiet_app()
    errors: list[Any] = []

    @app.on(kind="turn.failed")
    def failed(event: Event) -> None:
        errors.append(event.error)

    @app.on(kind="message.completed")
    async def stop_early(event: Event, ctx: Context) -> None:
        if event.text == "Working on it.":
            await ctx.interrupt()

    async with EverrunsEmulator(scenario) as emu, client_for(emu) as client:
        session = await client.sessions.create()
        with anyio.fail_after(10):
            first = await app.run(client, session.id, send=["one"])
            second = await app.run(client, session.id, send=["two"])
    assert (first.stop_reason, second.stop_reason) == ("error", "cancelled")
    assert [(e.type, e.message) for e in errors] == [("llm_error", "Model unavailable.")]


async def test_a_run_with_nothing_to_send_answers_the_pending_pause() -> None:
    scenario = Scenario([Turn([CustomTool("get_weather", {"city": "Oslo"}), Say("Done.")])])
    app, ran = gated_app()
    async with EverrunsEmulator(scenario) as emu, client_for(emu) as client:
        session = await client.sessions.create(tools=client.tool_definitions(app))
        await client.messages.create(session.id, "someone else asked")
        with anyio.fail_after(10):
            await emu.wait_for_event(session.id, "tool.call_requested")
            attached = await app.run(client, session.id)
            await emu.wait_for_event(session.id, "session.idled")
            again = await app.run(client, session.id)  # the turn is over: returns at once
    assert ran == ["Oslo"] and attached.stop_reason == "end_turn" and attached.text == "Done."
    assert again.stop_reason == "end_turn" and again.events == 0


async def test_consecutive_runs_with_a_checkpoint_each_end_at_their_own_turn() -> None:
    scenario = Scenario([Turn([Say("First answer.")]), Turn([Say("Second answer.")])])
    app = quiet_app()
    seen: list[str] = []

    @app.on("*")
    def record(event: Event) -> None:
        seen.append(str(event.id))

    store = MemoryCheckpointStore()
    async with EverrunsEmulator(scenario) as emu, client_for(emu) as client:
        session = await client.sessions.create()
        with anyio.fail_after(10):
            first = await app.run(client, session.id, send=["one"], checkpoint=store)
            second = await app.run(client, session.id, send=["two"], checkpoint=store)
        history = [e["id"] for e in emu.history(session.id)]
        first_turn = turn_ids(emu, session.id)
    assert (first.text, second.text) == ("First answer.", "Second answer.")
    assert seen == history[: len(seen)] and len(seen) == len(history) - 1  # no repeats
    assert seen[: len(first_turn)] == first_turn


async def test_an_agent_key_alone_runs_everything_on_the_channel_surface() -> None:
    app, ran = gated_app()
    async with EverrunsEmulator(GATES, agent_key="evr_ak_only") as emu:
        async with EverrunsClient(agent_url=emu.agent_url, agent_key="evr_ak_only") as client:
            session = await client.sessions.create(tools=client.tool_definitions(app))
            with anyio.fail_after(15):
                result = await app.run(client, session.id, send=["go"])
        surfaces = {r.surface for r in emu.requests}
    assert result.stop_reason == "end_turn" and sorted(ran) == ["Oslo", "Paris"]
    assert surfaces == {"channel"}
