"""Worker(app=...): a wake-up is read and answered the way app.run answers, under the lease.

In process, on loopback: the Managed Agents emulator, a real redis-server, and (for the first
test) the signed-webhook receiver. The subprocess version with crashes is
test_scale_out.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
import redis.asyncio as aioredis
from test_webhooks import SECRET, Receiver

from agentflow import App, Context, ManagedAgentsClient, RunResult, user_message
from agentflow.cluster import (
    Leases,
    RedisCheckpointStore,
    SessionIndex,
    WakeQueue,
    Worker,
    webhook_app,
)
from agentflow.testing import CustomTool, Emulator, Say, Scenario, Turn

SCENARIO = Scenario(
    [
        Turn(
            [
                Say("Checking."),
                CustomTool("lookup", {"city": "Paris"}),
                CustomTool("charge", {"amount": 3}),
                Say("Done."),
            ]
        )
    ]
)


class Results:
    """``on_result`` for a worker: every read's result; ``wait(pred)`` waits on them."""

    def __init__(self) -> None:
        self.results: list[RunResult] = []
        self._changed = anyio.Event()

    def __call__(self, result: RunResult) -> None:
        self.results.append(result)
        self._changed.set()
        self._changed = anyio.Event()

    async def wait_for(self, session_id: str, stop_reason: str, timeout: float = 15) -> None:
        with anyio.fail_after(timeout):
            while not any(
                r.session_id == session_id and r.stop_reason == stop_reason for r in self.results
            ):
                await self._changed.wait()


def make_app(runs: list[tuple[str, str | None, int | None]]) -> App:
    app = App(load_entrypoints=False)

    @app.tool(idempotent=True)
    def lookup(city: str, ctx: Context) -> str:
        """Look a city up (safe to run again)."""
        runs.append(("lookup", ctx.call_id, ctx.fencing_token))
        return f"{city}: found"

    @app.tool
    def charge(amount: int, ctx: Context) -> str:
        """Charge an amount (must never run twice)."""
        runs.append(("charge", ctx.call_id, ctx.fencing_token))
        return f"charged {amount}"

    return app


def tool_ids(history: list[dict[str, Any]]) -> dict[str, str]:
    return {e["name"]: e["id"] for e in history if e["type"] == "agent.custom_tool_use"}


def results_by_call(history: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for e in history:
        if e["type"] == "user.custom_tool_result":
            out.setdefault(e["custom_tool_use_id"], []).append(e)
    return out


def text(result: dict[str, Any]) -> str:
    return "".join(block["text"] for block in result["content"])


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(SCENARIO) as emu:
        yield emu


async def test_webhooks_wake_an_app_worker_that_answers_exactly_once(
    redis_url: str, aredis: aioredis.Redis
) -> None:
    runs: list[tuple[str, str | None, int | None]] = []
    results = Results()
    receiver = Receiver(webhook_app(secret=SECRET, redis=aredis))
    async with (
        receiver,
        Emulator(
            SCENARIO,
            webhook_url=receiver.base_url + "/",
            webhook_secret=SECRET,
            webhook_duplicates=1.0,
        ) as emu,
        ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client,
    ):
        worker = Worker(
            app=make_app(runs),
            client=client,
            redis=redis_url,
            lease_ttl=2.0,
            block=0.1,
            on_result=results,
        )
        sessions = [emu.create_session() for _ in range(3)]
        async with anyio.create_task_group() as tg:
            tg.start_soon(worker.run)
            for sid in sessions:
                emu.send(sid, [user_message("Weather and pay?")])
            for sid in sessions:
                await results.wait_for(sid, "end_turn")
            worker.stop()
        histories = {sid: emu.history(sid) for sid in sessions}
    for history in histories.values():
        assert history[-1]["stop_reason"]["type"] == "end_turn"
        ids = tool_ids(history)
        replies = results_by_call(history)
        assert sorted(replies) == sorted(ids.values())
        assert all(len(r) == 1 for r in replies.values())  # one reply per call, no more
        assert text(replies[ids["charge"]][0]) == "charged 3"
    # Inside each tool: the tool-use id and the lease's token (the first lease of its session).
    all_ids = {(name, i) for h in histories.values() for name, i in tool_ids(h).items()}
    assert {(name, call_id) for name, call_id, _ in runs} == all_ids and len(runs) == 6
    assert {token for _, _, token in runs} == {1}
    assert await SessionIndex(aredis).sessions() == []  # every session left idle
    assert await WakeQueue(aredis).pending() == 0


async def test_calls_a_dead_worker_left_running_are_rerun_if_idempotent_else_interrupted(
    redis_url: str, aredis: aioredis.Redis, emulator: Emulator
) -> None:
    runs: list[tuple[str, str | None, int | None]] = []
    results = Results()
    store = RedisCheckpointStore(redis_url, owner="dead-worker")
    sid = emulator.create_session()
    emulator.send(sid, [user_message("go")])
    with anyio.fail_after(10):
        await emulator.wait_for_event(sid, "session.status_idle")  # requires_action
    ids = tool_ids(emulator.history(sid))
    # A worker took the lease (token 1), claimed both calls, then died before either finished.
    leases = Leases(aredis, ttl=0.3)
    lease = await leases.acquire(sid, "dead-worker")
    assert lease is not None and lease.token == 1
    view = store.fenced(sid, 1)
    assert view.claim(sid, ids["lookup"]) and view.claim(sid, ids["charge"])
    await leases.release(lease, force=True)  # as its lapsing would

    async with ManagedAgentsClient(api_key=emulator.api_key, base_url=emulator.base_url) as client:
        worker = Worker(
            app=make_app(runs),
            client=client,
            redis=redis_url,
            lease_ttl=2.0,
            block=0.1,
            on_result=results,
        )
        queue = WakeQueue(aredis)
        async with anyio.create_task_group() as tg:
            tg.start_soon(worker.run)
            await queue.wake(sid, "session.requires_action")
            await results.wait_for(sid, "caught_up")
            await queue.wake(sid, "session.status_idled")
            await results.wait_for(sid, "end_turn")
            worker.stop()
    replies = results_by_call(emulator.history(sid))
    assert runs == [("lookup", ids["lookup"], 2)]  # re-run under the new token; charge not
    assert text(replies[ids["lookup"]][0]) == "Paris: found"
    interrupted = replies[ids["charge"]][0]
    assert interrupted["is_error"] and "not run again" in text(interrupted)
    assert all(len(r) == 1 for r in replies.values())
    assert store.claim_info(sid, ids["charge"]) == ("sent", 2, worker.name)
    assert store.claim_info(sid, ids["lookup"]) == ("sent", 2, worker.name)
    store.close()


async def test_the_sweep_wakes_a_session_whose_webhook_was_lost(
    redis_url: str, aredis: aioredis.Redis, emulator: Emulator
) -> None:
    runs: list[tuple[str, str | None, int | None]] = []
    results = Results()
    sid = emulator.create_session()
    emulator.send(sid, [user_message("go")])
    with anyio.fail_after(10):
        await emulator.wait_for_event(sid, "session.status_idle")
    async with ManagedAgentsClient(api_key=emulator.api_key, base_url=emulator.base_url) as client:
        worker = Worker(
            app=make_app(runs),
            client=client,
            redis=redis_url,
            lease_ttl=2.0,
            block=0.1,
            sweep_interval=0.2,
            on_result=results,
        )
        async with anyio.create_task_group() as tg:
            tg.start_soon(worker.run)
            # The only webhook that arrives: the pause. The end of the turn's is lost.
            await WakeQueue(aredis).wake(sid, "session.requires_action")
            await results.wait_for(sid, "caught_up")
            await results.wait_for(sid, "end_turn")  # read anyway, after a sweep
            worker.stop()
    assert [r.stop_reason for r in results.results] == ["caught_up", "end_turn"]
    assert len(runs) == 2 and await SessionIndex(aredis).sessions() == []


async def test_a_deleted_session_is_dropped_and_its_wake_up_done(
    redis_url: str, aredis: aioredis.Redis, emulator: Emulator
) -> None:
    sid = emulator.create_session()
    emulator.delete(sid)
    outcomes: list[str] = []
    done = anyio.Event()

    def outcome(wake: Any, what: str) -> None:
        outcomes.append(what)
        done.set()

    async with ManagedAgentsClient(api_key=emulator.api_key, base_url=emulator.base_url) as client:
        worker = Worker(
            app=make_app([]), client=client, redis=redis_url, block=0.1, on_outcome=outcome
        )
        async with anyio.create_task_group() as tg:
            tg.start_soon(worker.run)
            await WakeQueue(aredis).wake(sid, "session.deleted")
            with anyio.fail_after(10):
                await done.wait()
            worker.stop()
    assert outcomes == ["done"]
    assert await SessionIndex(aredis).sessions() == []
    assert await WakeQueue(aredis).pending() == 0


def test_a_worker_needs_work_or_an_app_with_its_client() -> None:
    with pytest.raises(ValueError, match="either work"):
        Worker(redis="redis://127.0.0.1:1/0")
    with pytest.raises(ValueError, match="client"):
        Worker(app=make_app([]), redis="redis://127.0.0.1:1/0")
