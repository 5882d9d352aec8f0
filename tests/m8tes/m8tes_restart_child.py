"""A process that follows one m8tes run with a SqliteCheckpointStore and may die on purpose.

Used by test_m8tes_restart.py. The single argument is a JSON object: ``base_url``,
``api_key``, ``run_id`` (``null``: create the run, and follow it on its own stream),
``db`` (checkpoint file), ``log`` (each dispatched event's id is
appended there, one line each, as its handler runs), ``decisions`` (the policy appends a
line each time it decides) and ``mode``:

- ``die-in-handler``: exit in a handler of the 4th text delta (before it is logged);
- ``die-on-parked``: exit in a handler of ``awaiting_approval`` (the gate is answered);
- ``die-before-approve``: exit just before posting the gate's answer (it is recorded);
- ``normal``: follow the run to the end of its turn and print the RunResult as JSON.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import anyio

from agentflow import App, Deny, SqliteCheckpointStore
from agentflow.core.events import Event
from agentflow.m8tes import M8tesClient

DIED = 17


def main() -> None:
    cfg = json.loads(sys.argv[1])
    mode = cfg["mode"]
    app = App()
    app.load_entrypoints = False
    deltas = [0]

    @app.on("*")
    def maybe_die(event: Event) -> None:  # registered first: runs before the log
        if event.kind == "message.delta":
            deltas[0] += 1
            if mode == "die-in-handler" and deltas[0] == 4:
                os._exit(DIED)
        if mode == "die-on-parked" and event.type == "awaiting_approval":
            os._exit(DIED)

    @app.on("*")
    def log(event: Event) -> None:
        with open(cfg["log"], "a") as f:
            f.write(f"{event.id}\n")

    @app.confirm("bash")
    def staging_only() -> Deny:
        with open(cfg["decisions"], "a") as f:
            f.write("deny\n")
        return Deny("Use the staging host instead.")

    async def run() -> None:
        store = SqliteCheckpointStore(cfg["db"])
        async with M8tesClient(api_key=cfg["api_key"], base_url=cfg["base_url"]) as client:
            approve = client.runs.approve

            async def guarded(*args: Any, **kwargs: Any) -> Any:
                if mode == "die-before-approve":
                    os._exit(DIED)
                return await approve(*args, **kwargs)

            client.runs.approve = guarded  # type: ignore[method-assign]
            with anyio.fail_after(20):
                run_id = cfg["run_id"]
                if run_id is None:
                    run_id = (await client.runs.create(message="check the host")).id
                result = await app.run(client, run_id, checkpoint=store)
        store.close()
        print(result.model_dump_json())

    anyio.run(run)


if __name__ == "__main__":
    main()
