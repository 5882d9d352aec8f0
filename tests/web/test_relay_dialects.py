"""The relay over the other dialects' real runs: every tool gets its own id, whatever the wire.

orxhestra announces several calls in one event; the Messages API names a tool call in a
``content_block_start`` whose id is the ``tool_use`` block's. The relay reads the call ids the
dialects give (``event.call_id``, the calls of a multi-call event), so each tool's status line
starts and ends under its own id.
"""

from __future__ import annotations

import anyio
import httpx
from web_support import events_url, read_until, serving

from agentflow import App
from agentflow.testing import CustomTool, Say, Scenario, Turn
from agentflow.web import Relay

LIMIT = 30

TWO_TOOLS = Scenario(
    [Turn([CustomTool("read_file", {"path": "a"}), CustomTool("read_file", {"path": "b"}),
           Say("Both read.")])]
)  # fmt: skip


async def _relayed(relay: Relay, session: str) -> list[dict[str, object]]:
    relay.finish(session)
    async with serving(relay) as server, httpx.AsyncClient(timeout=10) as http:
        got = await read_until(http, events_url(server, session), token=server.token)
    return [m.data for m in got if m.event in ("tool.started", "tool.completed")]


def _tools(relayed: list[dict[str, object]], kind: str) -> list[dict[str, object]]:
    """The ``tool`` object of each relayed message of ``kind``, in order."""
    found: list[dict[str, object]] = []
    for message in relayed:
        if message["kind"] == kind:
            tool = message["tool"]
            assert isinstance(tool, dict), message
            found.append(tool)
    return found


async def test_an_orxhestra_event_with_two_calls_shows_two_tools_each_finished_by_its_id() -> None:
    from langchain_core.tools import StructuredTool

    from agentflow.orxhestra import OrxhestraSource
    from agentflow.testing.orxhestra import scenario_runner

    ran: list[tuple[str, str]] = []

    async def read_file(path: str) -> str:
        """Read a file."""
        ran.append(("read_file", path))
        return f"contents of {path}"

    runner = scenario_runner(TWO_TOOLS, [StructuredTool.from_function(coroutine=read_file)])
    app = App(load_entrypoints=False)
    relay = Relay()
    app.use(relay.middleware(session_id="orx"))
    app.confirm("read_file")(lambda: True)
    with anyio.fail_after(LIMIT):
        result = await app.run(OrxhestraSource(runner, user_id="u"), "orx", send=["Read both"])
        tools = await _relayed(relay, "orx")
    assert result.stop_reason == "end_turn" and len(ran) == 2
    started, finished = _tools(tools, "tool.started"), _tools(tools, "tool.completed")
    assert [s["name"] for s in started] == ["read_file", "read_file"]
    ids = {s["id"] for s in started}
    assert len(ids) == 2 and None not in ids
    assert {f["id"] for f in finished} == ids


async def test_a_messages_tool_call_keeps_its_tool_use_id_to_its_result() -> None:
    from agentflow import Conversation, MessagesClient
    from agentflow.testing import Emulator

    app = App(load_entrypoints=False)
    relay = Relay()
    app.use(relay.middleware())

    @app.tool
    def read_file(path: str) -> str:
        """Read a file."""
        return f"contents of {path}"

    async with Emulator(TWO_TOOLS, dialect="messages") as emu:
        async with MessagesClient(api_key=emu.api_key, base_url=emu.base_url, model="m",
                                  max_tokens=100) as client:  # fmt: skip
            with anyio.fail_after(LIMIT):
                result = await app.run(client, Conversation(), send=["Read both"])
    with anyio.fail_after(LIMIT):
        tools = await _relayed(relay, result.session_id)  # the conversation's id
    assert result.stop_reason == "end_turn"
    started = _tools(tools, "tool.started")
    assert len(started) == 2
    assert all(str(s["id"]).startswith("toolu_") for s in started)
