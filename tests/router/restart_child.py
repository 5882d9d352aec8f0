"""A process that runs one turn of an app with a SqliteCheckpointStore and may die on purpose.

Used by test_router_restart.py. The single argument is a JSON object: ``base_url``,
``api_key``, ``session``, ``db`` (checkpoint file), ``runs`` (a file the tool appends to each
time it runs), ``first`` (send the user message) and ``mode``:

- ``die-after-post``: exit right after the replies were posted (before recording that),
- ``die-before-post``: exit just before posting the replies,
- ``die-in-tool``: exit while the tool runs,
- ``normal``: finish the turn and print the RunResult as JSON.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import anyio

from agentflow import App, ManagedAgentsClient, SqliteCheckpointStore, user_message

DIED = 17


def main() -> None:
    cfg = json.loads(sys.argv[1])
    mode = cfg["mode"]
    app = App()
    app.load_entrypoints = False

    @app.tool
    def record(n: int) -> str:
        """Record that the tool ran."""
        with open(cfg["runs"], "a") as f:
            f.write(f"{n}\n")
        if mode == "die-in-tool":
            os._exit(DIED)
        return f"ran {n}"

    async def run() -> None:
        store = SqliteCheckpointStore(cfg["db"])
        async with ManagedAgentsClient(api_key=cfg["api_key"], base_url=cfg["base_url"]) as client:
            post = client.events.send

            async def send(session_id: str, events: Any, **kw: Any) -> Any:
                results = any(e["type"] == "user.custom_tool_result" for e in events)
                if results and mode == "die-before-post":
                    os._exit(DIED)
                echoes = await post(session_id, events, **kw)
                if results and mode == "die-after-post":
                    os._exit(DIED)
                return echoes

            client.events.send = send  # type: ignore[method-assign]
            outgoing = [user_message("go")] if cfg["first"] else []
            with anyio.fail_after(20):
                result = await app.run(client, cfg["session"], send=outgoing, checkpoint=store)
        store.close()
        print(result.model_dump_json())

    anyio.run(run)


if __name__ == "__main__":
    main()
