"""Kill the process mid-run, restart it on the same SqliteCheckpointStore: the stream resumes
with ``since_id`` = the last dispatched event, and no tool runs twice.

The app runs in a child process (evr_restart_child.py) against an emulator this test serves
on 127.0.0.1; the child kills itself with ``os._exit`` at a chosen point, then a second child
resumes the session with nothing to send.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from evr_support import posts, turn_ids

from agentflow import SqliteCheckpointStore
from agentflow.testing import CustomTool, Say, Scenario, Step, Turn
from agentflow.testing.everruns import EverrunsEmulator

CHILD = Path(__file__).with_name("evr_restart_child.py")
DIED = 17
WORDS = "one two three four five six seven eight nine ten"


async def _child(cfg: dict[str, Any], **changes: Any) -> subprocess.CompletedProcess[bytes]:
    return await anyio.run_process(
        [sys.executable, str(CHILD), json.dumps({**cfg, **changes})], check=False
    )


async def _kill_then_restart(tmp_path: Path, mode: str, calls: int = 2) -> dict[str, Any]:
    steps: list[Step] = [Say(WORDS), *(CustomTool("record", {"n": n}) for n in range(1, calls + 1)),
                         Say(WORDS), Say("finished")]  # fmt: skip
    db = tmp_path / "checkpoint.sqlite"
    async with EverrunsEmulator(Scenario([Turn(steps)])) as emu:
        sid = emu.create_session()
        cfg = {"base_url": emu.base_url, "api_key": emu.api_key, "session": sid,
               "db": str(db), "runs": str(tmp_path / "runs.txt")}  # fmt: skip
        with anyio.fail_after(60):
            first = await _child(cfg, mode=mode, first=True)
            assert first.returncode == DIED, first.stderr.decode()
            before = len(emu.requests)
            store = SqliteCheckpointStore(str(db))
            position = store.position(sid)
            store.close()
            second = await _child(cfg, mode="normal", first=False)
        assert second.returncode == 0, second.stderr.decode()
        later = emu.requests[before:]
        out = {
            "result": json.loads(second.stdout),
            "history": emu.history(sid),
            "turn": turn_ids(emu, sid),
            "position": position,
            "resumed": [r.query for r in later if r.path.endswith("/sse")],
            "posts_after": sum(1 for r in later if r.path.endswith("/tool-results")),
            "posts": posts(emu, "/tool-results"),
            "runs": (tmp_path / "runs.txt").read_text().split()
            if (tmp_path / "runs.txt").exists() else [],
        }  # fmt: skip
    return out


def _results(history: list[dict[str, Any]]) -> list[tuple[bool, str]]:
    done = [e["data"] for e in history if e["type"] == "tool.completed"]
    return [(d["success"], d["result"][0]["text"] if d["success"] else d["error"]) for d in done]


@pytest.mark.slow
async def test_killed_mid_stream_the_restart_resumes_after_the_last_dispatched_event(
    tmp_path: Path,
) -> None:
    got = await _kill_then_restart(tmp_path, "die-mid-stream", calls=1)
    position = got["position"]
    assert position is not None
    ids = [e["id"] for e in got["history"]]
    second_delta = [e["id"] for e in got["history"] if e["type"] == "output.message.delta"][1]
    assert position.event_id == ids[ids.index(second_delta) - 1]  # the one before it
    assert got["resumed"][0] == f"since_id={position.event_id}"
    assert got["runs"] == ["1"] and len(got["posts"]) == 1
    assert got["result"]["stop_reason"] == "end_turn" and got["result"]["text"] == "finished"


@pytest.mark.slow
async def test_killed_after_posting_the_restart_runs_nothing_and_posts_nothing(
    tmp_path: Path,
) -> None:
    got = await _kill_then_restart(tmp_path, "die-after-post")
    assert sorted(got["runs"]) == ["1", "2"] and got["posts_after"] == 0
    assert _results(got["history"]) == [(True, "ran 1"), (True, "ran 2")]
    assert got["resumed"][0] == f"since_id={got['position'].event_id}"
    result = got["result"]
    assert (result["stop_reason"], result["text"], result["tool_calls"]) == (
        "end_turn", "finished", [],
    )  # fmt: skip


@pytest.mark.slow
async def test_killed_before_posting_the_restart_posts_the_stored_results_without_running(
    tmp_path: Path,
) -> None:
    got = await _kill_then_restart(tmp_path, "die-before-post")
    assert sorted(got["runs"]) == ["1", "2"] and got["posts_after"] == 1
    assert _results(got["history"]) == [(True, "ran 1"), (True, "ran 2")]
    calls = got["result"]["tool_calls"]
    assert [(c["outcome"], c["name"], c["sent"]) for c in calls] == [
        ("recovered", "record", True), ("recovered", "record", True),
    ]  # fmt: skip


@pytest.mark.slow
async def test_killed_while_the_tool_ran_the_restart_reports_an_error_instead_of_rerunning(
    tmp_path: Path,
) -> None:
    got = await _kill_then_restart(tmp_path, "die-in-tool", calls=1)
    assert got["runs"] == ["1"] and got["posts_after"] == 1
    ((success, text),) = _results(got["history"])
    assert not success and "was not run again" in text
    assert [c["outcome"] for c in got["result"]["tool_calls"]] == ["interrupted"]
    assert got["result"]["stop_reason"] == "end_turn"
