"""Two runs on one session with one shared checkpoint store (against the emulator).

One run holds a session per store at a time: a second fails fast naming the holder, or waits
(``wait=True``) and then continues after the first; a call another live run claimed is left
to it, never answered "interrupted"; a dead or expired claim is; a run whose lease another
run took over ends with ``SessionBusyError``.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from router_support import new_app, replies, scenario, text_of

from agentflow import (
    App,
    ManagedAgentsClient,
    MemoryCheckpointStore,
    SessionBusyError,
    SqliteCheckpointStore,
    custom_tool_result,
    user_message,
)
from agentflow.core.checkpoint import Lease
from agentflow.core.lease import _MACHINE
from agentflow.testing import CustomTool, Emulator, Say

OWNER = re.compile(r"^.+:\d+:[0-9a-f]{8}\.\d+$")


class Watched(SqliteCheckpointStore):
    """A shared store that says when a run found the session held by another."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.contested = anyio.Event()

    def acquire_session(self, session_id: str, owner: str, lease: float) -> Lease | None:
        held = super().acquire_session(session_id, owner, lease)
        if held is not None:
            self.contested.set()
        return held


def _slow_app(started: anyio.Event, release: anyio.Event) -> App:
    app = new_app()

    @app.tool
    async def slow() -> str:
        """Slow."""
        started.set()
        await release.wait()
        return "done"

    return app


@asynccontextmanager
async def _session(*steps: Any, then: tuple[Any, ...] = ()) -> AsyncIterator[Any]:
    async with Emulator(scenario(*steps, then=then)) as emu:
        sid = emu.create_session()
        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            yield emu, sid, client


async def test_a_second_run_on_a_session_in_use_fails_fast_naming_the_holder(
    tmp_path: Path,
) -> None:
    store = Watched(tmp_path / "shared.db")
    started, release = anyio.Event(), anyio.Event()
    first = _slow_app(started, release)
    async with _session(CustomTool("slow"), Say("ok")) as (_emu, sid, client):
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                results: list[Any] = []

                async def run_first() -> None:
                    results.append(await first.run(client, sid, send=["go"], checkpoint=store))

                tg.start_soon(run_first)
                await started.wait()
                with pytest.raises(SessionBusyError) as caught:
                    await new_app().run(client, sid, checkpoint=store)
                release.set()
    busy = caught.value
    assert busy.session_id == sid and busy.owner is not None and OWNER.match(busy.owner)
    assert f":{os.getpid()}:" in busy.owner and busy.owner in str(busy)
    assert "wait=True" in str(busy) and busy.run_result is not None
    assert results[0].stop_reason == "end_turn" and results[0].text == "ok"


async def test_wait_true_waits_for_the_holder_then_continues_after_it(tmp_path: Path) -> None:
    store = Watched(tmp_path / "shared.db")
    started, release = anyio.Event(), anyio.Event()
    first = _slow_app(started, release)
    second_seen: list[str] = []
    second = new_app()

    @second.on("*")
    def saw(event: Any) -> None:
        second_seen.append(event.type)

    async with _session(CustomTool("slow"), Say("one"), then=(Say("two"),)) as (_, sid, client):
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                results: dict[str, Any] = {}

                async def run(name: str, app: App, **options: Any) -> None:
                    results[name] = await app.run(client, sid, checkpoint=store, **options)

                tg.start_soon(lambda: run("first", first, send=["go"]))
                await started.wait()
                tg.start_soon(lambda: run("second", second, send=["again"], wait=True))
                await store.contested.wait()  # the second run is waiting now
                release.set()
    assert (results["first"].text, results["second"].text) == ("one", "two")
    # the second run continued after what the first dispatched: nothing of it came again
    assert "agent.custom_tool_use" not in second_seen and "user.message" in second_seen


class Preclaimed(MemoryCheckpointStore):
    """Another run claims the first call just before this one tries (it wins the race)."""

    def __init__(self, owner: str, lease: float) -> None:
        super().__init__()
        self.other, self.lease = owner, lease
        self.raced = False

    def claim(
        self, session_id: str, call_id: str, *, owner: str | None = None, lease: float | None = None
    ) -> bool:
        if not self.raced:
            self.raced = True
            super().claim(session_id, call_id, owner=self.other, lease=self.lease)
            return False
        return super().claim(session_id, call_id, owner=owner, lease=lease)


class _Left(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.left = anyio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "left unanswered" in record.getMessage():
            self.left.set()


async def test_a_call_claimed_by_a_live_other_run_is_left_to_it_never_interrupted() -> None:
    live = f"{_MACHINE}:{os.getppid()}:0badcafe.1"  # another process of this machine, alive
    app, store, watcher = new_app(), Preclaimed(live, 60), _Left()
    ran: list[str] = []

    @app.tool
    def slow() -> str:
        """Slow."""
        ran.append("slow")
        return "from this run"

    logging.getLogger("agentflow.router").addHandler(watcher)
    try:
        async with _session(CustomTool("slow"), Say("ok")) as (emu, sid, client):
            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:
                    results: list[Any] = []

                    async def run() -> None:
                        results.append(await app.run(client, sid, send=["go"], checkpoint=store))

                    tg.start_soon(run)
                    await watcher.left.wait()  # this run left the call; its holder answers
                    (call_id,) = emu.pending(sid)
                    emu.send(sid, [custom_tool_result(call_id, "from the other run")])
            history = emu.history(sid)
    finally:
        logging.getLogger("agentflow.router").removeHandler(watcher)
    assert ran == [] and text_of(replies(history)[call_id]) == "from the other run"
    (record,) = results[0].tool_calls
    assert (record.outcome, record.sent) == ("unanswered", False)
    assert record.error == f"the call is being handled by run {live}"
    assert results[0].stop_reason == "end_turn"


def _dead_owner() -> str:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    return f"{_MACHINE}:{int(done.stdout)}:0badcafe.1"


@pytest.mark.parametrize(
    ("owner", "lease"),
    [(None, 60.0), ("elsewhere:1:0badcafe.1", 0.0)],
    ids=["dead-process", "expired-lease-elsewhere"],
)
async def test_a_claim_of_a_dead_or_expired_run_is_answered_interrupted(
    owner: str | None, lease: float
) -> None:
    app, store = new_app(), Preclaimed(owner or _dead_owner(), lease)
    ran: list[str] = []

    @app.tool
    def slow() -> str:
        """Slow."""
        ran.append("slow")
        return "again"

    async with _session(CustomTool("slow"), Say("ok")) as (emu, sid, client):
        with anyio.fail_after(10):
            result = await app.run(client, sid, send=[user_message("go")], checkpoint=store)
        (reply,) = replies(emu.history(sid)).values()
    assert ran == [] and reply["is_error"] is True
    assert text_of(reply).startswith("tool 'slow' was started by an earlier run")
    assert result.tool_calls[0].outcome == "interrupted"


async def test_a_run_whose_lease_was_taken_over_ends_with_session_busy() -> None:
    now = [1000.0]
    store = MemoryCheckpointStore(clock=lambda: now[0])
    app = new_app(session_lease=0.3)
    started = anyio.Event()

    @app.tool
    async def stuck() -> str:
        """Stuck (as if its process stalled)."""
        started.set()
        await anyio.sleep_forever()
        return "never"

    async with _session(CustomTool("stuck"), Say("ok")) as (_emu, sid, client):
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                caught: list[BaseException] = []

                async def run() -> None:
                    try:
                        await app.run(client, sid, send=["go"], checkpoint=store)
                    except SessionBusyError as exc:
                        caught.append(exc)

                tg.start_soon(run)
                await started.wait()
                now[0] += 100  # the run's lease ran out; another run takes the session
                assert store.acquire_session(sid, "thief", 60) is None
    (busy,) = caught
    assert isinstance(busy, SessionBusyError) and busy.owner == "thief"
    assert "was taken over by thief" in str(busy)


class Legacy(MemoryCheckpointStore):
    """A store written before claims took an owner."""

    def claim(self, session_id: str, call_id: str) -> bool:  # type: ignore[override]
        return super().claim(session_id, call_id)


async def test_a_store_written_before_owners_still_runs_tools() -> None:
    app, store = new_app(), Legacy()

    @app.tool
    def double(x: int) -> int:
        """Double."""
        return 2 * x

    async with _session(CustomTool("double", {"x": 2}), Say("ok")) as (emu, sid, client):
        with anyio.fail_after(10):
            result = await app.run(client, sid, send=["go"], checkpoint=store)
        (reply,) = replies(emu.history(sid)).values()
    assert text_of(reply) == "4" and result.stop_reason == "end_turn"


class Renewals(MemoryCheckpointStore):
    """A store that counts lease takes and renewals and says when ``wanted`` were made."""

    def __init__(self, wanted: int) -> None:
        self.time = 1000.0
        super().__init__(clock=lambda: self.time)
        self.count = 0
        self.wanted = wanted
        self.reached = anyio.Event()

    def acquire_session(self, session_id: str, owner: str, lease: float) -> Lease | None:
        held = super().acquire_session(session_id, owner, lease)
        self.count += 1
        if self.count >= self.wanted:
            self.reached.set()
        return held


async def test_an_idle_run_renews_its_lease_from_a_timer_until_released() -> None:
    from agentflow.core.lease import SessionLease, new_owner

    store = Renewals(wanted=4)  # the take, then three renewals
    lease = SessionLease(store, "sesn_1", owner=new_owner(), ttl=0.09)
    assert await lease.acquire() is False
    with anyio.CancelScope() as body:
        assert lease.schedule(body)  # asyncio: timers, no task of its own
        with anyio.fail_after(5):
            await store.reached.wait()
    assert lease.lost is None and not body.cancel_called
    lease.release()
    made = store.count
    # Three renewal periods on the loop's one timer queue: a renewal still scheduled after
    # the release would have come due (and re-taken the session) before this wakes up.
    await anyio.sleep(0.09)
    assert store.count == made
    assert store.acquire_session("sesn_1", "next-run", 1.0) is None  # it is free


async def test_a_lease_kept_by_a_task_renews_and_stops_the_run_when_taken_over() -> None:
    """``keep``: the renewals of event loops without timers to borrow (trio)."""
    from agentflow.core.lease import SessionLease, new_owner

    store = Renewals(wanted=3)
    lease = SessionLease(store, "sesn_1", owner=new_owner(), ttl=0.09)
    await lease.acquire()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            with anyio.CancelScope() as body:
                tg.start_soon(lease.keep, body)
                await store.reached.wait()
                assert lease.lost is None
                store.time += 100  # the lease ran out: another run takes the session
                assert store.acquire_session("sesn_1", "thief", 60) is None
                await anyio.sleep_forever()  # until the next renewal cancels the body
    assert body.cancel_called
    assert isinstance(lease.lost, SessionBusyError) and lease.lost.owner == "thief"
    lease.release()
