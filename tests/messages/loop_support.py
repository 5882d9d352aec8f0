"""Helpers for the Messages loop tests: a client for the emulator, one-turn runs, requests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio

from agentflow import App, Backoff, RunResult
from agentflow.messages import Conversation, MessagesClient
from agentflow.testing import Scenario, Step, Turn
from agentflow.testing.messages import MessagesEmulator, RecordedRequest

MODEL = "claude-emulated"
FAST = Backoff(base=0.001, cap=0.01, max_retry_after=0.05)
"""Retries in tests wait milliseconds (a server's retry-after is capped at 50 ms too)."""


def new_app() -> App:
    """An app that ignores entry-point plugins installed in the test environment."""
    return App(load_entrypoints=False)


def scenario(*steps: Step, then: Sequence[Step] = (), **faults: Any) -> Scenario:
    """One turn of ``steps`` (plus an optional second turn), with stream/HTTP ``faults``."""
    turns = [Turn(steps)]
    if then:
        turns.append(Turn(then))
    made = Scenario(turns)
    return made.with_faults(**faults) if faults else made


def client_for(emu: MessagesEmulator, **options: Any) -> MessagesClient:
    """A MessagesClient pointed at ``emu`` with fast retries."""
    options.setdefault("model", MODEL)
    options.setdefault("max_tokens", 512)
    options.setdefault("backoff", FAST)
    return MessagesClient(api_key=emu.api_key, base_url=emu.base_url, **options)


async def run_turn(
    app: App,
    scen: Scenario,
    *,
    send: Sequence[Any] = ("go",),
    conversation: Conversation | None = None,
    timeout: float = 10,
    client_options: dict[str, Any] | None = None,
    **run_options: Any,
) -> tuple[RunResult, Conversation, list[RecordedRequest]]:
    """Run one turn against a fresh emulator: the result, the conversation, the requests."""
    conv = conversation if conversation is not None else Conversation()
    async with MessagesEmulator(scen) as emu:
        async with client_for(emu, **(client_options or {})) as client:
            with anyio.fail_after(timeout):
                result = await app.run(client, conv, send=list(send), **run_options)
        return result, conv, emu.requests


def tool_results(request: RecordedRequest) -> list[dict[str, Any]]:
    """The tool_result blocks of a request's last message."""
    last = request.body["messages"][-1]
    return [b for b in last["content"] if b.get("type") == "tool_result"]


def result_text(block: dict[str, Any]) -> str:
    """The text of a tool_result block."""
    content = block["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content)
