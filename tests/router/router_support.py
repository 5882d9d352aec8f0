"""Helpers for the router's emulator tests: run an app for one turn against a scenario."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio

from agentflow import App, ManagedAgentsClient, RunResult, user_message
from agentflow.testing import Emulator, RequestRecord, Scenario, Step, Turn


def new_app(**options: Any) -> App:
    """An app that ignores entry-point plugins installed in the test environment."""
    app = App(**options)
    app.load_entrypoints = False
    return app


def scenario(*steps: Step, then: Sequence[Step] = ()) -> Scenario:
    """One turn of ``steps`` (plus an optional second turn)."""
    turns = [Turn(steps)]
    if then:
        turns.append(Turn(then))
    return Scenario(turns)


async def run_turn_logged(
    app: App, scen: Scenario, *, text: str = "go", timeout: float = 10, **options: Any
) -> tuple[RunResult, list[dict[str, Any]], list[RequestRecord]]:
    """Run one turn on a fresh emulated session: the result, the history and the requests."""
    async with Emulator(scen) as emu:
        sid = emu.create_session()
        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            with anyio.fail_after(timeout):
                result = await app.run(client, sid, send=[user_message(text)], **options)
        return result, emu.history(sid), emu.requests


async def run_turn(
    app: App, scen: Scenario, *, text: str = "go", timeout: float = 10, **options: Any
) -> tuple[RunResult, list[dict[str, Any]]]:
    """Run one turn on a fresh emulated session; returns the result and the stored history."""
    result, history, _ = await run_turn_logged(app, scen, text=text, timeout=timeout, **options)
    return result, history


def replies(history: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The stored reply events by the id they answer."""
    out: dict[str, dict[str, Any]] = {}
    for e in history:
        if e["type"] == "user.custom_tool_result":
            out[e["custom_tool_use_id"]] = e
        elif e["type"] == "user.tool_confirmation":
            out[e["tool_use_id"]] = e
    return out


def ids_of(history: list[dict[str, Any]], kind: str, name: str | None = None) -> list[str]:
    """Ids of the stored events of ``kind`` (and tool ``name``), in order."""
    return [e["id"] for e in history if e["type"] == kind and name in (None, e.get("name"))]


def text_of(reply: dict[str, Any]) -> str:
    """The text of a reply's single text block."""
    (block,) = reply["content"]
    assert block["type"] == "text"
    return str(block["text"])
