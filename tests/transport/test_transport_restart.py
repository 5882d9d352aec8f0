"""A consumer killed mid-stream resumes from its SqliteCheckpointStore: nothing twice, nothing lost.

The child process reads the stream with the store, appends each event id to a file as its
"side effect", and SIGKILLs itself while holding event K+1 (received, not yet handled). A
second child with the same store then reads to the end of the turn.
"""

from __future__ import annotations

import signal
import sys
import textwrap
from pathlib import Path

import anyio
import pytest
from transport_helpers import client_for, history_ids, paced

from agentflow.events import user_message
from agentflow.testing import Emulator

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import anyio
    from agentflow import ManagedAgentsClient, SqliteCheckpointStore

    base_url, key, sid, db, out, kill_after = sys.argv[1:7]

    async def main() -> None:
        with SqliteCheckpointStore(db) as store, open(out, "a") as sink:
            async with ManagedAgentsClient(key, base_url) as client:
                stream = client.events.stream(
                    sid, checkpoint=store, until=lambda e: e.is_final_response()
                )
                async with stream:
                    handled = 0
                    async for event in stream:
                        if handled == int(kill_after):
                            os.kill(os.getpid(), signal.SIGKILL)
                        sink.write(event.id + "\\n")
                        sink.flush()
                        handled += 1

    anyio.run(main)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [1, 170])
async def test_killed_consumer_resumes_exactly_where_it_stopped(
    tmp_path: Path, kill_after: int
) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    db, out = tmp_path / "checkpoint.db", tmp_path / "handled.txt"
    async with Emulator(paced(bursts=15, size=30, pause=0.1)) as emu:
        sid = emu.create_session()
        emu.send(sid, [user_message("go")])  # the turn runs while the children come and go

        async def child(kill: int) -> int:
            args = [emu.base_url, emu.api_key, sid, str(db), str(out), str(kill)]
            with anyio.fail_after(60):
                done = await anyio.run_process([sys.executable, str(script), *args], check=False)
            return done.returncode

        assert await child(kill_after) == -signal.SIGKILL
        first = out.read_text().split()
        assert len(first) == kill_after
        assert await child(-1) == 0
        async with client_for(emu) as client:
            stored = await history_ids(client, sid)
    handled = out.read_text().split()
    assert handled == stored  # each event once, in order, across the crash
    assert len(set(handled)) == len(handled)
