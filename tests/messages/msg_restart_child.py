"""A process that runs one Messages turn with a saved conversation and a SQLite checkpoint store,
and may die on purpose. Used by test_msg_restart.py.

The single argument is a JSON object: ``base_url``, ``api_key``, ``conversation`` (its file),
``db`` (checkpoint file), ``runs`` (a file the tool appends to each time it runs), ``first``
(send the user message) and ``mode``:

- ``die-before-request``: exit just before the request that carries the tool results;
- ``die-before-results``: exit after the tools ran and their results were recorded, before
  the results reach the conversation;
- ``die-in-tool``: exit while the tool runs;
- ``normal``: finish the turn and print the RunResult as JSON.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import anyio
import httpx

from agentflow import App, Backoff, SqliteCheckpointStore
from agentflow.messages import Conversation, MessagesChannel, MessagesClient

DIED = 17


def main() -> None:
    cfg = json.loads(sys.argv[1])
    mode = cfg["mode"]
    app = App(load_entrypoints=False)

    @app.tool
    def record(n: int) -> str:
        """Record that the tool ran."""
        with open(cfg["runs"], "a") as f:
            f.write(f"{n}\n")
        if mode == "die-in-tool":
            os._exit(DIED)
        return f"ran {n}"

    async def before_request(request: httpx.Request) -> None:
        if mode == "die-before-request" and b'"tool_result"' in request.content:
            os._exit(DIED)

    if mode == "die-before-results":

        async def answer(self: Any, replies: Any) -> None:
            os._exit(DIED)

        MessagesChannel.answer = answer  # type: ignore[method-assign]

    async def run() -> None:
        store = SqliteCheckpointStore(cfg["db"])
        conversation = Conversation.open(cfg["conversation"])
        http = httpx.AsyncClient(event_hooks={"request": [before_request]}, timeout=10)
        async with (
            http,
            MessagesClient(
                api_key=cfg["api_key"],
                base_url=cfg["base_url"],
                http_client=http,
                model="claude-emulated",
                max_tokens=256,
                backoff=Backoff(base=0.001, cap=0.01),
            ) as client,
        ):
            with anyio.fail_after(20):
                result = await app.run(
                    client, conversation, send=["go"] if cfg["first"] else [], checkpoint=store
                )
        store.close()
        print(result.model_dump_json())

    anyio.run(run)


if __name__ == "__main__":
    main()
