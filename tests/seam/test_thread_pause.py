"""Managed Agents multi-agent sessions: a subagent thread's requires_action idle is answered.

The emulator pauses a child thread (``CustomTool(..., thread="researcher")``): the thread
idles with ``requires_action`` while the session keeps running, and the replies carry no
thread id (the server routes them by id and echoes them with the thread's id).
"""

from __future__ import annotations

import anyio

from agentflow import Allow, App, ManagedAgentsClient
from agentflow.testing import CustomTool, Emulator, Say, Scenario, Tool, Turn


async def test_a_thread_idle_requiring_action_is_answered_like_the_sessions_own() -> None:
    scenario = Scenario(
        [
            Turn(
                [
                    Say("Delegating."),
                    CustomTool("lookup", {"key": "a"}, thread="researcher"),
                    Tool("read", {"path": "/x"}, permission="always_ask", thread="researcher"),
                    Say("Done."),
                ]
            )
        ]
    )
    app = App(load_entrypoints=False)
    ran: list[str] = []

    @app.tool
    def lookup(key: str) -> str:
        """Look a key up."""
        ran.append(key)
        return f"value of {key}"

    @app.confirm("read")
    def allow_reads() -> Allow:
        return Allow()

    async with Emulator(scenario) as emu:
        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            session = await client.sessions.create(agent="a", environment_id="e")
            with anyio.fail_after(20):
                result = await app.run(client, session.id, send=["Go"])
        history = emu.history(session.id)
    assert result.stop_reason == "end_turn" and result.text == "Done."
    assert ran == ["a"]
    thread_idles = [e for e in history if e["type"] == "session.thread_status_idle"]
    assert len(thread_idles) == 1 and thread_idles[0]["stop_reason"]["type"] == "requires_action"
    session_idles = [e for e in history if e["type"] == "session.status_idle"]
    assert [i["stop_reason"]["type"] for i in session_idles] == ["end_turn"]
    replies = [
        e for e in history if e["type"] in ("user.custom_tool_result", "user.tool_confirmation")
    ]
    thread_id = thread_idles[0]["session_thread_id"]
    assert {r["type"] for r in replies} == {"user.custom_tool_result", "user.tool_confirmation"}
    assert all(r["session_thread_id"] == thread_id for r in replies)  # routed, as echoed
    sent = [r.reply for r in result.tool_calls]
    assert all(reply is not None and "session_thread_id" not in reply for reply in sent)
    assert [(r.kind, r.outcome) for r in result.tool_calls] == [
        ("custom", "ok"),
        ("confirmation", "allowed"),
    ]
