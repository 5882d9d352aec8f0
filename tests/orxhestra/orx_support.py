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
