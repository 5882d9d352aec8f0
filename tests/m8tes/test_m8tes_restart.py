"""Kill the process following a run, restart it on the same SqliteCheckpointStore: no event
is dispatched twice and no gate answered twice.

The emulator runs here (127.0.0.1); each follower is a child process
(``m8tes_restart_child.py``) that may ``os._exit`` at a chosen point. The emulator holds the
turn's end until the second follower is attached, so the run is still live when it comes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from agentflow.testing import Say, Scenario, Tool, Turn
from agentflow.testing.m8tes import M8tesEmulator

CHILD = Path(__file__).with_name("m8tes_restart_child.py")
DIED = 17
GATED = Scenario(
    [
        Turn(
            [
                Say("I will look at the build host first and then report what I found there."),
                Tool("bash", {"command": "ls /var/cache"}, permission="always_ask", result="a b"),
                Say("The cache holds two entries, a and b."),
            ]
        )
    ]
)


async def _child(cfg: dict[str, Any], mode: str) -> subprocess.CompletedProcess[bytes]:
    argument = json.dumps({**cfg, "mode": mode})
    return await anyio.run_process([sys.executable, str(CHILD), argument], check=False)


async def _kill_then_restart(tmp_path: Path, mode: str) -> dict[str, Any]:
    async with M8tesEmulator(GATED) as emu:
        emu.hold()
        cfg: dict[str, Any] = {  # JSON for the child; run_id is set once the run exists
            "base_url": emu.base_url,
            "api_key": emu.api_key,
            "db": str(tmp_path / "checkpoint.sqlite"),
            "log": str(tmp_path / "dispatched.txt"),
            "decisions": str(tmp_path / "decisions.txt"),
            "run_id": None,  # the first follower creates the run and follows its stream
        }
        with anyio.fail_after(60):
            first = await _child(cfg, mode)
            assert first.returncode == DIED, first.stderr.decode()
            run = emu.run(1)
            cfg["run_id"] = run.id
            (tmp_path / "dispatched.txt").write_text(
                (tmp_path / "dispatched.txt").read_text() + "--restart--\n"
            )
            async with anyio.create_task_group() as tg:
                done: list[subprocess.CompletedProcess[bytes]] = []

                async def second() -> None:
                    done.append(await _child(cfg, "normal"))

                tg.start_soon(second)
                await emu.wait_held(run.id)
                await emu.wait_for_streams(run.id)
                emu.release(run.id)
        (finished,) = done
        assert finished.returncode == 0, finished.stderr.decode()
        before, after = (tmp_path / "dispatched.txt").read_text().split("--restart--\n")
        return {
            "result": json.loads(finished.stdout),
            "before": before.split(),
            "after": after.split(),
            "frames": emu.frames(run.id),
            "approves": [r.body for r in emu.requests if r.path.endswith("/approve")],
            "decisions": (tmp_path / "decisions.txt").read_text().split(),
        }


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["die-in-handler", "die-on-parked"])
async def test_a_restart_dispatches_nothing_twice_and_answers_no_gate_twice(
    tmp_path: Path, mode: str
) -> None:
    got = await _kill_then_restart(tmp_path, mode)
    everything = [f"1:{i}" for i in range(len(got["frames"]))]
    assert got["before"] and got["after"]
    assert got["before"] + got["after"] == everything  # each frame once, in order
    assert len(got["approves"]) == 1 and got["approves"][0]["decision"] == "deny"
    assert len(got["decisions"]) == 1  # decided by one process only
    result = got["result"]
    assert result["stop_reason"] == "end_turn"
    assert result["text"] == "The cache holds two entries, a and b."


@pytest.mark.slow
async def test_a_stored_answer_is_posted_once_after_a_restart_without_deciding_again(
    tmp_path: Path,
) -> None:
    got = await _kill_then_restart(tmp_path, "die-before-approve")
    assert got["before"]
    everything = [f"1:{i}" for i in range(len(got["frames"]))]
    # The gate's frame was being handled when the process died: recorded as dispatched only
    # once handled, it is delivered once more; nothing else is.
    (again,) = set(got["before"]) & set(got["after"])
    assert got["frames"][int(again.split(":")[1])]["type"] == "permission_request"
    assert got["before"] + got["after"][1:] == everything
    assert len(got["approves"]) == 1 and got["decisions"] == ["deny"]  # posted as stored
    (call,) = got["result"]["tool_calls"]
    assert (call["outcome"], call["sent"]) == ("recovered", True)
    assert got["result"]["stop_reason"] == "end_turn"
