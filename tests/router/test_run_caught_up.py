"""app.run(until="caught_up"): read what the session holds, answer it, never wait for the agent;
and the run's fencing token as ctx.fencing_token."""

from __future__ import annotations

import anyio
import pytest
from router_support import new_app, replies, scenario, text_of

from agentflow import Context, ManagedAgentsClient, MemoryCheckpointStore, user_message
from agentflow.events import Event
from agentflow.testing import CustomTool, Emulator, Say, Wait


async def test_a_paused_session_is_answered_and_the_run_returns_before_the_turn_ends() -> None:
    app = new_app()
    seen: list[str] = []
    runs: list[tuple[str | None, int | None, str | None]] = []

    @app.on("*")
    def record(event: Event) -> None:
        seen.append(str(event.id))

    @app.tool
    async def lookup(city: str, ctx: Context) -> str:
        """Look a city up."""
        runs.append((ctx.call_id, ctx.fencing_token, ctx.session_id))
        return f"found {city}"

    # After the answer the agent takes a while: a run that waited for it would be slow.
    scen = scenario(CustomTool("lookup", {"city": "Oslo"}), Wait(0.5), Say("Done."))
    store = MemoryCheckpointStore()
    async with Emulator(scen) as emu:
        sid = emu.create_session()
        emu.send(sid, [user_message("go")])
        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            with anyio.fail_after(10):
                await emu.wait_for_event(sid, "session.status_idle")  # requires_action
                first = await app.run(
                    client, sid, until="caught_up", checkpoint=store, replay=True, fencing_token=7
                )
                answered = emu.history(sid)
                await emu.wait_for_event(sid, "session.status_idle", count=2)  # end_turn
                second = await app.run(
                    client, sid, until="caught_up", checkpoint=store, replay=True, fencing_token=8
                )
                third = await app.run(client, sid, until="caught_up", checkpoint=store)
        history = emu.history(sid)
    [call_id] = [e["id"] for e in history if e["type"] == "agent.custom_tool_use"]
    assert first.stop_reason == "caught_up"  # answered; the agent was still at work
    assert not [e for e in answered if (e.get("stop_reason") or {}).get("type") == "end_turn"]
    assert runs == [(call_id, 7, sid)]  # the tool-use id and the run's token, inside the tool
    assert [text_of(r) for r in replies(history).values()] == ["found Oslo"]
    assert (second.stop_reason, second.text) == ("end_turn", "Done.")
    assert third.stop_reason == "end_turn" and third.events == 0  # nothing new: at once
    assert seen == [e["id"] for e in history]  # every event once, across the runs


async def test_a_session_with_nothing_new_returns_at_once() -> None:
    app = new_app()
    store = MemoryCheckpointStore()
    async with Emulator(scenario(Say("Hi."))) as emu:
        sid = emu.create_session()
        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            with anyio.fail_after(10):
                empty = await app.run(client, sid, until="caught_up", checkpoint=store)
                emu.send(sid, [user_message("go")])
                await emu.wait_for_event(sid, "session.status_idle")
                ended = await app.run(client, sid, until="caught_up", checkpoint=store, replay=True)
    assert (empty.stop_reason, empty.events) == ("caught_up", 0)  # no status event yet
    assert (ended.stop_reason, ended.text) == ("end_turn", "Hi.")


async def test_caught_up_sends_nothing() -> None:
    app = new_app()
    async with Emulator(scenario(Say("Hi."))) as emu:
        sid = emu.create_session()
        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            with pytest.raises(ValueError, match="sends nothing"):
                await app.run(client, sid, send=["hi"], until="caught_up")
        assert emu.history(sid) == []


async def test_the_channel_can_read_history_pages_instead_of_a_stream() -> None:
    app = new_app()

    @app.tool
    def lookup(city: str) -> str:
        """Look a city up."""
        return f"found {city}"

    store = MemoryCheckpointStore()
    async with Emulator(scenario(CustomTool("lookup", {"city": "Rome"}), Say("Done."))) as emu:
        sid = emu.create_session()
        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            with anyio.fail_after(10):
                # A whole turn, polled: the pause is answered and the run ends with the turn.
                result = await app.run(client, sid, send=["go"], poll=0.02, checkpoint=store)
                again = await app.run(client, sid, until="caught_up", poll=0.02, checkpoint=store)
        history = emu.history(sid)
        assert emu.stream_count(sid) == 0
    assert (result.stop_reason, result.text) == ("end_turn", "Done.")
    assert [text_of(r) for r in replies(history).values()] == ["found Rome"]
    assert (again.stop_reason, again.events) == ("end_turn", 0)
    assert not [r for r in emu.requests if r.path.endswith("/stream")]  # never a stream
