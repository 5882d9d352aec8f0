"""requires_action against the emulator with the real client: batching, concurrency, ownership."""

from __future__ import annotations

import threading
from typing import Any

import anyio
from router_support import ids_of, new_app, replies, run_turn, run_turn_logged, scenario, text_of

from agentflow import (
    Allow,
    Deny,
    ManagedAgentsClient,
    custom_tool_result,
    hookimpl,
    user_message,
)
from agentflow.plugins import AllowList, DenyList
from agentflow.testing import CustomTool, Emulator, McpTool, Say, Tool


async def test_three_tools_and_two_confirmations_answered_in_one_send() -> None:
    app = new_app()
    runs: list[str] = []
    active = peak = 0

    @app.tool
    async def lookup(key: str) -> str:
        """Look a key up."""
        nonlocal active, peak
        runs.append(key)
        active += 1
        peak = max(peak, active)
        await anyio.sleep(0.05)
        active -= 1
        return f"value of {key}"

    app.plugins.register(AllowList("read*"))
    app.plugins.register(DenyList("bash", message="No shell here."))
    scen = scenario(
        Say("Working."),
        CustomTool("lookup", {"key": "a"}),
        CustomTool("lookup", {"key": "b"}),
        CustomTool("lookup", {"key": "c"}),
        Tool("read_file", {"path": "notes.txt"}, permission="always_ask"),
        Tool("bash", {"command": "rm -rf /"}, permission="always_ask"),
        Say("All done."),
    )
    result, history, requests = await run_turn_logged(app, scen)

    assert sorted(runs) == ["a", "b", "c"]  # each executor ran exactly once
    assert peak == 3  # acceptance 2: all three were running at the same time
    assert (result.stop_reason, result.text, result.unanswered) == ("end_turn", "All done.", [])
    assert history[-1]["type"] == "session.status_idle"
    assert history[-1]["stop_reason"] == {"type": "end_turn"}

    custom_ids = ids_of(history, "agent.custom_tool_use")
    read_id, bash_id = ids_of(history, "agent.tool_use")
    got = replies(history)
    assert set(got) == {*custom_ids, read_id, bash_id}
    assert [text_of(got[i]) for i in custom_ids] == ["value of a", "value of b", "value of c"]
    assert got[read_id]["result"] == "allow" and "deny_message" not in got[read_id]
    assert (got[bash_id]["result"], got[bash_id]["deny_message"]) == ("deny", "No shell here.")
    assert all("session_thread_id" not in r for r in got.values())

    # one events.send carried all five replies (the other post is the user message): they
    # are adjacent in history, before the session started running again
    posts = [r for r in requests if r.method == "POST" and r.path.endswith("/events")]
    assert len(posts) == 2
    positions = sorted(history.index(r) for r in got.values())
    assert positions == list(range(positions[0], positions[0] + 5))
    assert history[positions[-1] + 1]["type"] == "session.status_running"
    assert result.counts["user.custom_tool_result"] == 3
    assert result.counts["user.tool_confirmation"] == 2

    by_id = {r.id: r for r in result.tool_calls}
    assert {by_id[i].outcome for i in custom_ids} == {"ok"}
    assert (by_id[read_id].outcome, by_id[bash_id].outcome) == ("allowed", "denied")
    assert all(r.sent for r in result.tool_calls)
    assert by_id[custom_ids[0]].input == {"key": "a"} and by_id[custom_ids[0]].duration_s > 0
    assert result.time_to_first_event is not None and result.duration > 0


async def test_sync_tools_overlap_in_worker_threads() -> None:
    app = new_app()
    barrier = threading.Barrier(3, timeout=5)  # breaks unless all three wait at once

    @app.tool
    def wait_for_peers(n: int) -> str:
        """Wait for the other calls."""
        barrier.wait()
        return f"met {n}"

    scen = scenario(*(CustomTool("wait_for_peers", {"n": i}) for i in range(3)), Say("ok"))
    result, history = await run_turn(app, scen)
    assert sorted(text_of(r) for r in replies(history).values()) == ["met 0", "met 1", "met 2"]
    assert [r.outcome for r in result.tool_calls] == ["ok", "ok", "ok"]


async def test_mcp_ask_and_confirm_functions() -> None:
    app = new_app()
    seen: list[str] = []

    @app.confirm("search*")
    async def allow_search(event: Any, ctx: Any) -> Allow:
        seen.append(f"{event.mcp_server_name}:{event.tool_name}:{ctx.session_id[:5]}")
        return Allow()

    @app.confirm
    def deny_rest() -> Deny:
        return Deny("Only search is allowed.")

    scen = scenario(
        McpTool("docs", "search_docs", {"q": "x"}, permission="always_ask"),
        McpTool("docs", "delete_docs", {}, permission="auto_ask"),
        Say("ok"),
    )
    result, history = await run_turn(app, scen)
    search_id, delete_id = ids_of(history, "agent.mcp_tool_use")
    got = replies(history)
    assert got[search_id]["result"] == "allow"
    assert (got[delete_id]["result"], got[delete_id]["deny_message"]) == (
        "deny",
        "Only search is allowed.",
    )
    assert seen == ["docs:search_docs:sesn_"]
    assert [r.policy for r in result.tool_calls] == ["allow_search", "deny_rest"]


async def test_ids_owned_by_someone_else_are_left_and_reported() -> None:
    app = new_app(unknown_tools="leave")  # split ownership: "theirs" is another client's tool

    @app.tool
    def mine(x: int) -> int:
        """Mine."""
        return x * 2

    scen = scenario(CustomTool("mine", {"x": 2}), CustomTool("theirs", {}), Say("done"))
    async with Emulator(scen) as emu:
        sid = emu.create_session()

        async def other_owner() -> None:
            # the other owner answers its call once ours has been answered
            await emu.wait_for_event(sid, "user.custom_tool_result")
            (theirs,) = [e["id"] for e in emu.history(sid) if e.get("name") == "theirs"]
            emu.send(sid, [custom_tool_result(theirs, "from the other owner")])

        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(other_owner)
                    result = await app.run(client, sid, send=[user_message("go")])
        history = emu.history(sid)
    mine_id, theirs_id = ids_of(history, "agent.custom_tool_use")
    assert result.stop_reason == "end_turn" and result.unanswered == [theirs_id]
    got = replies(history)
    assert text_of(got[mine_id]) == "4" and text_of(got[theirs_id]) == "from the other owner"
    record = {r.id: r for r in result.tool_calls}[theirs_id]
    assert (record.kind, record.outcome, record.sent) == ("custom", "unanswered", False)
    assert record.error == "no executor for custom tool 'theirs'"
    # the partial answer made the session idle again with the rest; nothing was re-sent
    idles = [e for e in history if e["type"] == "session.status_idle"]
    assert [i["stop_reason"].get("event_ids") for i in idles[:2]] == [
        [mine_id, theirs_id],
        [theirs_id],
    ]
    assert result.counts["user.custom_tool_result"] == 2


async def test_failed_post_is_retried_without_running_the_tool_again() -> None:
    app = new_app()
    runs: list[int] = []

    @app.tool
    def count(n: int) -> str:
        """Count."""
        runs.append(n)
        return str(n)

    scen = scenario(CustomTool("count", {"n": 1}), Say("done"))
    async with Emulator(scen) as emu:
        sid = emu.create_session()
        emu.send(sid, [user_message("go")])
        await emu.wait_for_event(sid, "session.status_idle")
        # the next post of replies fails with a 500 (not retried by the client: it may have
        # been processed), then succeeds
        emu.fail_next(500, path=f"/v1/sessions/{sid}/events", method="POST")
        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            with anyio.fail_after(10):
                result = await app.run(client, sid)  # attach: answers the pending call
        history = emu.history(sid)
    assert runs == [1]
    assert len([e for e in history if e["type"] == "user.custom_tool_result"]) == 1
    assert result.stop_reason == "end_turn" and result.text == "done"
    assert len(result.errors) == 1 and "attempt 1" in result.errors[0]
    posts = [r for r in emu.requests if r.method == "POST" and r.path.endswith("/events")]
    assert [p.status for p in posts[-2:]] == [500, 200]


async def test_policy_registered_as_plugin_object_with_tryfirst_wins() -> None:
    app = new_app()

    class Org:
        @hookimpl(tryfirst=True)
        def agentflow_confirm_tool(self, event: Any) -> Deny | None:
            return Deny("Organisation policy.") if event.tool_name == "write" else None

    app.plugins.register(AllowList("*"))
    app.plugins.register(Org(), name="org")
    scen = scenario(Tool("write", {}, permission="always_ask"), Say("ok"))
    result, history = await run_turn(app, scen)
    (reply,) = replies(history).values()
    assert reply["deny_message"] == "Organisation policy."
    assert result.tool_calls[0].policy == "org"
