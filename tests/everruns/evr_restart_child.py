"""A process that runs one Everruns turn of an app with a SqliteCheckpointStore, and may die.

Used by test_evr_restart.py. The single argument is a JSON object: ``base_url``, ``api_key``,
``session``, ``db`` (checkpoint file), ``runs`` (a file the tool appends to each time it
runs), ``first`` (send the user message) and ``mode``:

- ``die-after-post``: exit right after the tool results were accepted (before recording it);
- ``die-before-post``: exit just before posting the tool results;
- ``die-in-tool``: exit while the tool runs;
- ``die-mid-stream``: exit while a handler handles the second ``output.message.delta``;
- ``normal``: finish the turn and print the RunResult as JSON.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import anyio

from agentflow import App, Backoff, Event, SqliteCheckpointStore
from agentflow.everruns import EverrunsClient

DIED = 17


def main() -> None:
    cfg = json.loads(sys.argv[1])
    mode = cfg["mode"]
    app = App()
    app.load_entrypoints = False
    deltas: list[str] = []

    @app.tool
    def record(n: int) -> str:
        """Record that the tool ran."""
        with open(cfg["runs"], "a") as f:
            f.write(f"{n}\n")
        if mode == "die-in-tool":
            os._exit(DIED)
        return f"ran {n}"

    @app.on("output.message.delta")
    def delta(event: Event) -> None:
        deltas.append(event.text)
        if mode == "die-mid-stream" and len(deltas) == 2:
            os._exit(DIED)

    async def run() -> None:
        store = SqliteCheckpointStore(cfg["db"])
        client = EverrunsClient(
            api_key=cfg["api_key"], base_url=cfg["base_url"], backoff=Backoff(base=0.01, cap=0.05)
        )
        async with client:
            post = client.sessions.submit_tool_results

            async def submit(session_id: str, results: Any) -> Any:
                if mode == "die-before-post":
                    os._exit(DIED)
                accepted = await post(session_id, results)
                if mode == "die-after-post":
                    os._exit(DIED)
                return accepted

            client.sessions.submit_tool_results = submit  # type: ignore[method-assign]
            outgoing = ["go"] if cfg["first"] else []
            with anyio.fail_after(20):
                result = await app.run(client, cfg["session"], send=outgoing, checkpoint=store)
        store.close()
        print(result.model_dump_json())

    anyio.run(run)


if __name__ == "__main__":
    main()
