"""Kill the process after a tool ran and before the next request, restart it with the saved
conversation and the same SQLite checkpoint store: the tool never runs again.

The app runs in a child process (msg_restart_child.py) against the Messages emulator served
by the test on 127.0.0.1; the child kills itself with ``os._exit`` at a chosen point, then a
second child resumes with nothing to send.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from loop_support import result_text, scenario, tool_results

from agentflow.messages import Conversation
from agentflow.testing import CustomTool, Say
from agentflow.testing.messages import MessagesEmulator

CHILD = Path(__file__).with_name("msg_restart_child.py")
DIED = 17


async def _child(cfg: dict[str, Any], **changes: Any) -> subprocess.CompletedProcess[bytes]:
    return await anyio.run_process(
        [sys.executable, str(CHILD), json.dumps({**cfg, **changes})], check=False
    )


async def _kill_then_restart(
    tmp_path: Path, mode: str, calls: int
) -> tuple[dict[str, Any], list[Any], list[str], Conversation]:
    steps = [CustomTool("record", {"n": n}) for n in range(1, calls + 1)]
    async with MessagesEmulator(scenario(*steps, Say("finished"))) as emu:
        cfg = {
            "base_url": emu.base_url,
            "api_key": emu.api_key,
            "conversation": str(tmp_path / "conversation.json"),
            "db": str(tmp_path / "checkpoint.sqlite"),
            "runs": str(tmp_path / "runs.txt"),
        }
        with anyio.fail_after(60):
            first = await _child(cfg, mode=mode, first=True)
            assert first.returncode == DIED, first.stderr.decode()
            before = len(emu.requests)
            second = await _child(cfg, mode="normal", first=False)
        assert second.returncode == 0, second.stderr.decode()
        requests = emu.requests[before:]
    runs = (tmp_path / "runs.txt").read_text().split()
    saved = Conversation.load(tmp_path / "conversation.json")
    return json.loads(second.stdout), requests, runs, saved


@pytest.mark.slow
async def test_killed_before_the_next_request_restart_sends_it_and_runs_nothing(
    tmp_path: Path,
) -> None:
    result, requests, runs, saved = await _kill_then_restart(tmp_path, "die-before-request", 2)
    assert sorted(runs) == ["1", "2"]  # each tool ran once, in the first process
    (request,) = requests  # the restarted process made the one request left
    assert [result_text(b) for b in tool_results(request)] == ["ran 1", "ran 2"]
    assert (result["stop_reason"], result["text"], result["tool_calls"]) == (
        "end_turn",
        "finished",
        [],
    )
    assert [m["role"] for m in saved.messages] == ["user", "assistant", "user", "assistant"]


@pytest.mark.slow
async def test_killed_before_the_results_reached_the_conversation_restart_posts_stored_ones(
    tmp_path: Path,
) -> None:
    result, requests, runs, saved = await _kill_then_restart(tmp_path, "die-before-results", 2)
    assert sorted(runs) == ["1", "2"]  # not run again by the restarted process
    (request,) = requests
    assert [result_text(b) for b in tool_results(request)] == ["ran 1", "ran 2"]
    assert [(c["outcome"], c["name"], c["sent"]) for c in result["tool_calls"]] == [
        ("recovered", "record", True),
        ("recovered", "record", True),
    ]
    assert (result["stop_reason"], result["text"]) == ("end_turn", "finished")
    assert saved.text == "finished" and saved.stop_reason == "end_turn"


@pytest.mark.slow
async def test_killed_while_the_tool_ran_restart_reports_an_error_instead_of_rerunning(
    tmp_path: Path,
) -> None:
    result, requests, runs, _ = await _kill_then_restart(tmp_path, "die-in-tool", 1)
    assert runs == ["1"]
    (request,) = requests
    (block,) = tool_results(request)
    assert block["is_error"] is True
    assert result_text(block) == (
        "tool 'record' was started by an earlier run that stopped before it finished; "
        "it was not run again"
    )
    assert [c["outcome"] for c in result["tool_calls"]] == ["interrupted"]
    assert result["stop_reason"] == "end_turn"
