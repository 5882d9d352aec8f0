"""Helpers for the orxhestra tests: run a Runner turn, make LangChain tools."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from langchain_core.tools import BaseTool, StructuredTool

TURN_TIMEOUT = 10.0


async def collect(runner: Any, message: str, *, session: str = "s", user: str = "u") -> list[Any]:
    """Every event one ``runner.astream`` yields (bounded in time)."""
    events: list[Any] = []
    with anyio.fail_after(TURN_TIMEOUT):
        async for event in runner.astream(user_id=user, session_id=session, new_message=message):
            events.append(event)
    return events


def tool(fn: Callable[..., Awaitable[Any]]) -> BaseTool:
    """A LangChain tool from an async function (name, schema and docstring from it)."""
    return StructuredTool.from_function(coroutine=fn)


def announced(events: list[Any]) -> list[Any]:
    """The tool-call parts of every agent message that announced calls, in order."""
    return [part for event in events for part in event.tool_calls]


def responses(events: list[Any]) -> list[Any]:
    """The tool-response parts, in order."""
    return [part for event in events for part in event.content.tool_responses]


def file_tools(ran: list[tuple[str, str]]) -> list[BaseTool]:
    """``read_file`` and ``delete_file``, which note each run in ``ran``."""

    async def read_file(path: str) -> str:
        """Read a file."""
        ran.append(("read_file", path))
        return f"contents of {path}"

    async def delete_file(path: str) -> str:
        """Delete a file."""
        ran.append(("delete_file", path))
        return "deleted"

    return [tool(read_file), tool(delete_file)]


def spy(runner: Any) -> list[Any]:
    """Record every event ``runner.astream`` yields, in order, as orxhestra yields it."""
    yielded: list[Any] = []
    astream = runner.astream

    async def recording(**kwargs: Any) -> Any:
        async for event in astream(**kwargs):
            yielded.append(event)
            yield event

    runner.astream = recording
    return yielded


def shape(event: Any) -> tuple[Any, ...]:
    """What an event says, without its id and time (equal across two plays of a scenario)."""
    calls = tuple((p.tool_name, tuple(sorted(p.args.items()))) for p in event.tool_calls)
    results = tuple((r.tool_name, r.result, r.error) for r in event.content.tool_responses)
    return (event.type, event.partial, event.text, event.thinking, calls, results)
