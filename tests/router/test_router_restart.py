"""Kill the process mid-turn, restart it with the same SqliteCheckpointStore: no tool runs twice.

The app runs in a child process (restart_child.py) against the emulator served by the test
on 127.0.0.1; the child kills itself with ``os._exit`` at a chosen point, then a second child
resumes with nothing to send.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from router_support import ids_of, replies, scenario, text_of

from agentflow.testing import CustomTool, Emulator, Say

CHILD = Path(__file__).with_name("restart_child.py")
DIED = 17


async def _child(cfg: dict[str, Any], **changes: Any) -> subprocess.CompletedProcess[bytes]:
    return await anyio.run_process(
        [sys.executable, str(CHILD), json.dumps({**cfg, **changes})], check=False
    )


async def _kill_then_restart(
    tmp_path: Path, mode: str, calls: int
) -> tuple[dict[str, Any], list[dict[str, Any]], list[str], int]:
    steps = [CustomTool("record", {"n": n}) for n in range(1, calls + 1)]
    async with Emulator(scenario(*steps, Say("finished"))) as emu:
        sid = emu.create_session()
        cfg = {
            "base_url": emu.base_url,
            "api_key": emu.api_key,
            "session": sid,
            "db": str(tmp_path / "checkpoint.sqlite"),
            "runs": str(tmp_path / "runs.txt"),
        }
        with anyio.fail_after(60):
            first = await _child(cfg, mode=mode, first=True)
            assert first.returncode == DIED, first.stderr.decode()
            posts_before = _posts(emu)
            second = await _child(cfg, mode="normal", first=False)
        assert second.returncode == 0, second.stderr.decode()
        history = emu.history(sid)
        posts_after = _posts(emu) - posts_before
    runs = (tmp_path / "runs.txt").read_text().split()
    return json.loads(second.stdout), history, runs, posts_after


def _posts(emu: Emulator) -> int:
    return sum(1 for r in emu.requests if r.method == "POST" and r.path.endswith("/events"))


@pytest.mark.slow
async def test_killed_after_posting_restart_runs_nothing_and_sends_nothing(
    tmp_path: Path,
) -> None:
    result, history, runs, posts = await _kill_then_restart(tmp_path, "die-after-post", 2)
    assert sorted(runs) == ["1", "2"]  # each tool ran once, in the first process
    assert posts == 0  # the restarted process posted nothing
    got = replies(history)
    assert [text_of(got[i]) for i in ids_of(history, "agent.custom_tool_use")] == [
        "ran 1",
        "ran 2",
    ]
    assert len([e for e in history if e["type"] == "user.custom_tool_result"]) == 2
    assert (result["stop_reason"], result["text"], result["tool_calls"]) == (
        "end_turn",
        "finished",
        [],
    )


@pytest.mark.slow
async def test_killed_before_posting_restart_posts_stored_results_without_running(
    tmp_path: Path,
) -> None:
    result, history, runs, posts = await _kill_then_restart(tmp_path, "die-before-post", 2)
    assert sorted(runs) == ["1", "2"]  # not run again by the restarted process
    assert posts == 1  # one batch with both stored results
    got = replies(history)
    assert [text_of(got[i]) for i in ids_of(history, "agent.custom_tool_use")] == [
        "ran 1",
        "ran 2",
    ]
    assert [(c["outcome"], c["name"], c["sent"]) for c in result["tool_calls"]] == [
        ("recovered", "record", True),
        ("recovered", "record", True),
    ]
    assert (result["stop_reason"], result["text"]) == ("end_turn", "finished")


@pytest.mark.slow
async def test_killed_while_the_tool_ran_restart_reports_an_error_instead_of_rerunning(
    tmp_path: Path,
) -> None:
    result, history, runs, posts = await _kill_then_restart(tmp_path, "die-in-tool", 1)
    assert runs == ["1"] and posts == 1
    (reply,) = replies(history).values()
    assert reply["is_error"] is True
    assert text_of(reply) == (
        "tool 'record' was started by an earlier run that stopped before it finished; "
        "it was not run again"
    )
    assert [c["outcome"] for c in result["tool_calls"]] == ["interrupted"]
    assert result["stop_reason"] == "end_turn"
