"""A worker process for the takeover tests: ``python worker_child.py URL MODE TTL``.

MODE ``crash``: the work reports ``started`` and waits forever (the test SIGKILLs it).
MODE ``zombie``: the work claims ``call_1``, reports ``claimed``, then blocks its whole event
loop (as a long GC pause or a stuck call would) until the test says ``proceed``; then it tries
to record the call's result and reports whether the write was refused.
"""

from __future__ import annotations

import sys

import anyio
import redis

from agentflow.cluster import FencedOutError, RedisCheckpointStore, Worker


async def main(url: str, mode: str, ttl: float) -> None:
    signals = redis.Redis.from_url(url, decode_responses=True)
    store = RedisCheckpointStore(url, owner="child")

    async def work(session_id: str, token: int) -> None:
        if mode == "crash":
            signals.rpush("started", f"{session_id} {token}")
            await anyio.sleep_forever()
        view = store.fenced(session_id, token)
        view.claim(session_id, "call_1")
        signals.rpush("claimed", f"{session_id} {token}")
        signals.blpop(["proceed"], timeout=30)  # blocks the loop: no heartbeat runs meanwhile
        try:
            view.record_result(session_id, "call_1", {"content": "from the zombie"})
        except FencedOutError as exc:
            signals.rpush("outcome", f"refused: {exc}")
            raise
        signals.rpush("outcome", "written")

    worker = Worker(work, redis=url, name=f"child-{mode}", lease_ttl=ttl, block=0.2)
    signals.rpush("ready", "1")
    await worker.run()


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], sys.argv[2], float(sys.argv[3]))
