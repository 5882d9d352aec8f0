"""``send`` on an existing run is a reply: its turn is followed on the reply's stream, and a
re-attach during that turn finds where the reply's frames stand in the run's history."""

from __future__ import annotations

import anyio
import pytest
from m8tes_app import Recorder, client_for

from agentflow import Allow, ConflictError, MemoryCheckpointStore
from agentflow.m8tes.track import Progress
from agentflow.testing import Error, Say, Scenario, Tool, Turn
from agentflow.testing.m8tes import M8tesEmulator

SCENARIO = Scenario(
    [
        # A retried error: after its done, the platform retracts it (error_cleared), a frame
        # the first run never reads since its turn ended at done.
        Turn([Error("overloaded_error", "retrying"), Say("Recovered and done.")]),
        Turn(
            [
                Say("Checking the cache now."),
                Tool("bash", {"command": "ls /var/cache"}, permission="always_ask", result="a b"),
                Say("The cache holds two entries, a and b."),
            ]
        ),
    ]
)


def saved(store: MemoryCheckpointStore, session: str) -> Progress:
    """The progress ``store`` holds for ``session``, which must have been saved."""
    position = store.position(session)
    assert position is not None, f"no position saved for {session}"
    return Progress.from_cursor(position.cursor)


async def test_a_reply_turn_with_a_gate_is_placed_exactly_after_its_re_attach() -> None:
    rec = Recorder()
    store = MemoryCheckpointStore()

    @rec.app.confirm("bash")
    def fine() -> Allow:
        return Allow()

    async with M8tesEmulator(SCENARIO) as emu, client_for(emu) as client:
        with anyio.fail_after(15):
            run = await client.runs.create(message="start")
            first = await rec.app.run(client, run.id, checkpoint=store)
            taken = saved(store, "1").count
            second = await rec.app.run(client, run.id, send=["check the cache"], checkpoint=store)
        frames = emu.frames(run.id)
        paths = [r.path for r in emu.requests]
    types = [f["type"] for f in frames]
    unseen = types.index("done") + 1
    assert types[unseen] == "error_cleared" and taken == unseen  # one frame went by unseen
    assert (first.text, second.text) == ("Recovered and done.",
                                         "The cache holds two entries, a and b.")  # fmt: skip
    assert paths.count("/api/v2/runs/1/reply") == 1 and paths.count("/api/v2/runs/1/stream") == 1
    # Every frame once, in order, except the one after the first turn's end.
    assert rec.frames(1) == frames[:unseen] + frames[unseen + 1 :]
    ids = rec.ids
    assert len(set(ids)) == len(ids)
    assert ids[-1] == f"1:{len(frames) - 1}"  # placed exactly once the replay was read
    position = saved(store, "1")
    assert (position.count, position.provisional) == (len(frames), False)
    assert [c.outcome for c in second.tool_calls] == ["allowed"]


async def test_a_reply_to_a_run_still_working_is_refused_clearly() -> None:
    rec = Recorder()
    async with M8tesEmulator(SCENARIO) as emu, client_for(emu) as client:
        with anyio.fail_after(15):
            await client.runs.create(message="start", stream=False)
            await client.runs.poll(1, interval=0.01)
            await client.runs.reply(1, message="check", stream=False)
            await emu.wait_for_status(1, "awaiting_approval")
            with pytest.raises(ConflictError, match="follow the run to the end") as refused:
                await rec.app.run(client, 1, send=["one more thing"])
            with pytest.raises(ValueError, match="one message"):
                await rec.app.run(client, 1, send=["a", "b"])
    assert refused.value.type == "run_active"
    assert [r.path for r in emu.requests].count("/api/v2/runs/1/reply") == 1  # ours only
