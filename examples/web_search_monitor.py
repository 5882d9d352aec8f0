"""Report only the agent's ``web_search`` calls: a handler with a field filter.

``@app.on("agent.tool_use", name="web_search")`` matches tool-use events whose ``name`` is
``web_search``; every other event (other tools, messages, statuses) never reaches it.

    python examples/web_search_monitor.py                    # against a local emulator
    python examples/web_search_monitor.py --session sesn_... # a real session (ANTHROPIC_API_KEY)
"""

from __future__ import annotations

import anyio
from _session import open_session

from agentflow import App, Context, Event, user_message
from agentflow.testing import Say, Scenario, Tool, Turn

app = App()


@app.on("agent.tool_use", name="web_search")
def report_search(event: Event, ctx: Context) -> None:
    """Print the query of each web search, and count them in ``ctx.state``."""
    query = (event.tool_input or {}).get("query", "?")
    print(f"web_search #{ctx.state.get('searches', 0) + 1}: {query!r} at {event.processed_at}")
    ctx.state["searches"] = ctx.state.get("searches", 0) + 1


SCENARIO = Scenario(
    [
        Turn(
            [
                Say("I'll search for that."),
                Tool("web_search", {"query": "agentflow python events"}, result="3 results"),
                Tool("bash", {"command": "date"}, result="Mon Jun  1 09:00:00 UTC"),
                Tool("web_fetch", {"url": "https://example.com"}, result="<html>"),
                Tool("web_search", {"query": "claude managed agents sse"}, result="5 results"),
                Say("Here is what I found."),
            ]
        )
    ]
)


async def main() -> None:
    async with open_session(SCENARIO, __doc__ or "") as (client, session_id):
        result = await app.run(
            client, session_id, send=[user_message("Find docs about agentflow and SSE.")]
        )
    tool_uses = result.counts.get("agent.tool_use", 0)
    print(f"{tool_uses} tool calls in the turn; only web_search was reported")


if __name__ == "__main__":
    anyio.run(main)
