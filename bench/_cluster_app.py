"""The app ``bench/cluster.py`` runs in its worker processes (``--app _cluster_app:app``).

Two fast custom tools per session. ``SET hold:PID 1`` in Redis (``$AGENTFLOW_REDIS_URL``)
makes that worker's next ``charge`` call RPUSH ``"PID SESSION CALL_ID"`` to ``held`` and
wait until the process is killed: the takeover measurement kills a worker mid-tool.
"""

from __future__ import annotations

import os

import anyio
import redis

from agentflow import App, Context

app = App(load_entrypoints=False)
_redis = redis.Redis.from_url(os.environ["AGENTFLOW_REDIS_URL"], decode_responses=True)


@app.tool(idempotent=True)
def lookup(city: str) -> str:
    """Look up the weather in a city."""
    return f"{city}: 21 C"


@app.tool
async def charge(amount: int, ctx: Context) -> str:
    """Charge the customer."""
    if _redis.getdel(f"hold:{os.getpid()}") is not None:
        _redis.rpush("held", f"{os.getpid()} {ctx.session_id} {ctx.call_id}")
        await anyio.sleep_forever()  # the benchmark kills this worker now
    return f"charged {amount}"
