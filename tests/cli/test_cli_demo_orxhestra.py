"""``agentflow demo --dialect orxhestra``: the demo app over an orxhestra agent in process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

TIMEOUT = 60


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    return subprocess.run(
        [sys.executable, "-m", "agentflow", "demo", "--dialect", "orxhestra", *args],
        capture_output=True, text=True, timeout=TIMEOUT, env=env, check=False,
    )  # fmt: skip


def test_the_demo_gates_the_agents_tools_and_runs_the_apps() -> None:
    done = _demo("--delay", "0")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert "agent    I'll read the build host's name first, then clear its cache." in lines
    assert 'tool     bash {"command": "rm -rf /var/cache/build"}' in lines
    assert "result   read: build-7" in lines
    assert "result   bash: error: Shell commands are not allowed in this demo." in lines
    assert "result   get_weather: sunny, 21 C" in lines
    assert lines.index("result   get_weather: sunny, 21 C") > lines.index("result   read: build-7")
    summary = done.stdout.split("\nsummary\n", 1)[1]
    assert "read (tool): allowed -> ok: build-7" in summary
    assert "bash (tool): denied: Shell commands are not allowed in this demo." in summary
    assert "get_weather (app tool): ok: sunny, 21 C" in summary
    assert "agent ran    read /etc/hostname\n" in summary  # bash never ran
    assert "stop_reason=end_turn ok=True" in summary


def test_the_json_demo_prints_each_orxhestra_event_as_orxhestra_dumps_it() -> None:
    done = _demo("--json", "--delay", "0")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert {e["type"] for e in events} == {"agent_message", "tool_response"}
    final = events[-1]
    assert final["partial"] is False and final["content"]["parts"][0]["text"].startswith(
        "It is sunny in Paris"
    )
    assert sum(e["type"] == "tool_response" for e in events) == 4


def test_options_the_orxhestra_demo_lacks_are_refused() -> None:
    done = _demo("--web")
    assert done.returncode == 2
    assert "--web is not available with --dialect orxhestra" in done.stderr


def test_without_the_extra_the_demo_names_it() -> None:
    code = (
        "import sys; sys.modules['orxhestra'] = None\n"  # as if it were not installed
        "from agentflow.cli import main\n"
        "sys.exit(main(['demo', '--dialect', 'orxhestra']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert done.returncode == 1
    assert "needs the 'orxhestra' extra" in done.stderr
    assert "pip install 'agentflow-events[orxhestra]'" in done.stderr
