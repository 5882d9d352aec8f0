"""The app the scale-out test's worker processes run (``agentflow worker --app scale_app:app``).

Two custom tools; every run RPUSHes ``"NAME CALL_ID TOKEN PID"`` to the Redis list ``runs``
(``$AGENTFLOW_REDIS_URL``), so the test can count how often each call ran:

- ``lookup`` is fast and ``idempotent=True`` (safe to run again after a takeover);
- ``charge`` is slow (``$SCALE_SLOW_SECONDS``) and must never run twice.

A test holds one ``charge`` call in a given worker with ``SET hold:PID MODE``: that worker's
next ``charge`` RPUSHes ``"PID SESSION CALL_ID"`` to ``held`` and waits for an RPUSH to
``release:CALL_ID``. MODE ``async`` awaits it (the worker's heartbeats go on renewing its
leases until the test kills it); ``sync`` blocks the worker's whole event loop, as a long
pause would: nothing renews, and once released the first thing the worker does is this call's
checkpoint write.
"""

from __future__ import annotations

import os

import anyio
import redis
import redis.asyncio as aioredis

from agentflow import App, Context

URL = os.environ["AGENTFLOW_REDIS_URL"]
SLOW = float(os.environ.get("SCALE_SLOW_SECONDS", "0.2"))

app = App(load_entrypoints=False)
_redis = redis.Redis.from_url(URL, decode_responses=True)


def _record(name: str, ctx: Context) -> None:
    _redis.rpush("runs", f"{name} {ctx.call_id} {ctx.fencing_token} {os.getpid()}")


@app.tool(idempotent=True)
def lookup(city: str, ctx: Context) -> str:
    """Look up the weather in a city (read-only: safe to run again)."""
    _record("lookup", ctx)
    return f"{city}: 21 C"


@app.tool
async def charge(amount: int, ctx: Context) -> str:
    """Charge the customer (never twice)."""
    _record("charge", ctx)
    pid = os.getpid()
    mode = _redis.getdel(f"hold:{pid}")
    if mode is None:
        await anyio.sleep(SLOW)  # the tool's own work
        return f"charged {amount}"
    _redis.rpush("held", f"{pid} {ctx.session_id} {ctx.call_id}")
    release = [f"release:{ctx.call_id}"]
    if mode == "sync":
        while not _redis.blpop(release, timeout=1):  # blocks the event loop: a paused worker
            pass
    else:
        client = aioredis.Redis.from_url(URL)
        try:
            while not await client.blpop(release, timeout=1):
                pass
        finally:
            await client.aclose()
    return f"charged {amount}"
