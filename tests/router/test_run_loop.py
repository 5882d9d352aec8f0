"""app.run / run_sync / serve against the emulator: ends, ctx.send/interrupt/stop, resuming."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from router_support import new_app, replies, run_turn, scenario, text_of

from agentflow import App, Context, ManagedAgentsClient, user_message
from agentflow.events import Event
from agentflow.testing import CustomTool, Emulator, Error, Say, Scenario, Stop, Turn, Wait


async def test_handlers_see_every_event_once_in_order_and_the_run_ends_the_turn() -> None:
    app = new_app()
    seen: list[str] = []

    @app.on("*")
    def record(event: Event) -> None:
        seen.append(event.type)

    result, history = await run_turn(app, scenario(Say("Hello"), Say("Bye")))
    assert seen == [e["type"] for e in history]  # the user.message echo included
    assert result.events == len(history) and sum(result.counts.values()) == len(history)
    assert (result.stop_reason, result.text) == ("end_turn", "Bye")
    assert result.ok and result.last_event_id == history[-1]["id"]


@pytest.mark.parametrize(
    ("step", "reason"),
    [(Stop("refusal"), "refusal"), (Error("billing_error", "exhausted"), "retries_exhausted")],
    ids=["refusal", "retries-exhausted"],
)
async def test_any_idle_that_is_not_requires_action_ends_the_run(step: Any, reason: str) -> None:
    result, _ = await run_turn(new_app(), scenario(Say("Hm."), step))
    assert result.stop_reason == reason and not result.ok


async def test_terminated_session_ends_the_run() -> None:
    result, history = await run_turn(new_app(), scenario(Error("unknown_error", "terminal")))
    assert result.stop_reason == "terminated"
    assert history[-1]["type"] == "session.status_terminated"


async def test_ctx_stop_ends_after_the_current_event() -> None:
    app = new_app()
    after: list[str] = []

    @app.on("agent.message")
    def first_message(ctx: Context) -> None:
        ctx.stop()

    @app.on("agent.message")
    def still_runs(event: Event) -> None:
        after.append(event.text)

    result, _ = await run_turn(app, scenario(Say("one"), Say("two")))
    assert (result.stop_reason, result.text, after) == ("stopped", "one", ["one"])


async def test_ctx_send_from_a_handler_reaches_the_session() -> None:
    app = new_app()

    @app.on("session.status_idle")
    async def follow_up(event: Event, ctx: Context) -> None:
        if not ctx.state.get("asked"):
            ctx.state["asked"] = True
            await ctx.send(user_message("and then?"))

    scen = Scenario([Turn([Say("first")]), Turn([Say("second")])])
    async with Emulator(scen) as emu:
        sid = emu.create_session()

        @app.on("agent.message", text="second")
        def done(ctx: Context) -> None:
            ctx.stop()

        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            with anyio.fail_after(10):
                result = await app.serve(client, sid, send=[user_message("hi")])
        history = emu.history(sid)
    messages = [e["content"][0]["text"] for e in history if e["type"] == "user.message"]
    assert messages == ["hi", "and then?"]
    assert (result.stop_reason, result.text) == ("stopped", "second")


async def test_ctx_interrupt_ends_the_turn() -> None:
    app = new_app()

    @app.on("agent.message")
    async def stop_it(ctx: Context) -> None:
        await ctx.interrupt()

    result, history = await run_turn(app, scenario(Say("starting"), Wait(5), Say("never")))
    assert result.stop_reason == "end_turn" and result.text == "starting"
    interrupt = [e for e in history if e["type"] == "user.interrupt"]
    assert len(interrupt) == 1 and "session_thread_id" not in interrupt[0]
    assert "never" not in [e.get("content", [{}])[0].get("text") for e in history]


async def test_serve_follows_turns_until_terminated() -> None:
    app = new_app()
    idles: list[str] = []

    @app.tool
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    scen = Scenario([Turn([CustomTool("add", {"a": 1, "b": 2}), Say("3")]), Turn([Say("again")])])
    async with Emulator(scen) as emu:
        sid = emu.create_session()

        @app.on("session.status_idle")
        async def next_turn(event: Any, ctx: Context) -> None:
            if event.stop_reason.type != "end_turn":
                return
            idles.append(event.id)
            if len(idles) == 1:
                await ctx.send(user_message("more"))
            else:
                emu.terminate(sid)

        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            with anyio.fail_after(10):
                result = await app.serve(client, sid, send=[user_message("go")])
    assert result.stop_reason == "terminated" and len(idles) == 2
    assert result.text == "again" and [r.outcome for r in result.tool_calls] == ["ok"]


async def test_a_second_run_resumes_after_the_first() -> None:
    app = new_app()
    seen: list[str] = []

    @app.on("agent.message")
    def record(event: Event) -> None:
        seen.append(event.text)

    scen = Scenario([Turn([Say("one")]), Turn([Say("two")])])
    async with Emulator(scen) as emu:
        sid = emu.create_session()
        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            with anyio.fail_after(10):
                first = await app.run(client, sid, send=[user_message("a")])
                second = await app.run(client, sid, send=[user_message("b")])
    assert (first.text, second.text, seen) == ("one", "two", ["one", "two"])
    assert second.counts["user.message"] == 1


async def test_a_new_app_on_an_old_session_starts_at_the_end_of_history() -> None:
    scen = Scenario([Turn([Say("one")]), Turn([Say("two")])])
    async with Emulator(scen) as emu:
        sid = emu.create_session()
        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            with anyio.fail_after(10):
                await new_app().run(client, sid, send=[user_message("a")])
                fresh = new_app()
                result = await fresh.run(client, sid, send=[user_message("b")])
                # attaching with nothing to send: the turn is already over
                attached = await new_app().run(client, sid)
                replayed = await new_app().run(client, sid, replay=True, until=_second_idle())
    assert (result.text, result.counts["user.message"]) == ("two", 1)
    assert (attached.stop_reason, attached.events) == ("end_turn", 0)
    assert (replayed.stop_reason, replayed.counts["user.message"]) == ("end_turn", 2)


async def test_attaching_to_a_terminated_session_returns_at_once() -> None:
    async with Emulator(scenario(Say("hi"))) as emu:
        sid = emu.create_session()
        emu.terminate(sid)
        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            with anyio.fail_after(10):
                result = await new_app().run(client, sid)
    assert (result.stop_reason, result.events) == ("terminated", 0)


def _second_idle() -> Any:
    idles = 0

    def until(event: Event) -> bool:
        nonlocal idles
        idles += event.type == "session.status_idle"
        return idles == 2

    return until


async def test_event_deltas_are_passed_to_the_stream() -> None:
    app = new_app()
    previews: list[str] = []

    @app.on("event_delta")
    def delta(event: Any) -> None:
        previews.append(event.delta.content.text)

    result, _ = await run_turn(
        app, scenario(Say("streamed words", stream=True)), event_deltas=["agent.message"]
    )
    assert "".join(previews) == "streamed words" and result.text == "streamed words"


def test_run_sync_makes_its_own_client(monkeypatch: pytest.MonkeyPatch) -> None:
    app = new_app()

    @app.tool
    def echo(text: str) -> str:
        """Echo."""
        return text

    scen = scenario(CustomTool("echo", {"text": "sync"}), Say("done"))
    with Emulator(scen).run_in_thread() as emu:
        sid = emu.create_session()
        monkeypatch.setenv("ANTHROPIC_API_KEY", emu.api_key)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", emu.base_url)
        result = app.run_sync(None, sid, send=[user_message("go")])
        history = emu.history(sid)
    assert (result.stop_reason, result.text) == ("end_turn", "done")
    assert [text_of(r) for r in replies(history).values()] == ["sync"]


def test_bad_until_is_rejected() -> None:
    app: App = new_app()
    with pytest.raises(ValueError, match="until must be"):
        anyio.run(lambda: app.run(object(), "sesn_x", until="sometime"))  # type: ignore[arg-type]


async def test_until_callable_stops_on_any_event() -> None:
    app = new_app()
    result, _ = await run_turn(
        app, scenario(Say("one"), Say("two")), until=lambda e: e.type == "agent.message"
    )
    assert (result.stop_reason, result.text) == ("until", "one")


def test_app_tool_and_confirm_return_the_function_unchanged() -> None:
    app = new_app()

    def f(x: int) -> int:
        """F."""
        return x

    def g(x: int) -> int:
        """G."""
        return x

    def policy() -> bool:
        return True

    assert app.tool(f) is f
    assert app.tool(name="g2", timeout=1, max_concurrency=2)(g) is g
    assert app.confirm("x*")(policy) is policy and app.confirm(policy) is policy
    assert app.tools.names() == ["f", "g2"]
    assert (app.tools["g2"].timeout, app.tools["g2"].max_concurrency) == (1, 2)
    assert app.load_entrypoints is False and app.default_confirmation is None
    app.plugins  # noqa: B018 - creates the plugin manager
    with pytest.raises(RuntimeError, match="set load_entrypoints before"):
        app.load_entrypoints = True
