"""``agentflow demo --dialect everruns`` and ``agentflow emulator --dialect everruns``, run as a
user runs them: real processes, stdout piped, no key, no network."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import httpx

from agentflow.everruns.events import parse_event

TIMEOUT = 60


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "EVERRUNS_"))}
    return {**env, "PYTHONUNBUFFERED": "1"}


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentflow", "demo", "--dialect", "everruns", *args],
        capture_output=True, text=True, timeout=TIMEOUT, env=_env(), check=False,
    )  # fmt: skip


def test_the_everruns_demo_shows_tools_approvals_and_a_question() -> None:
    done = _demo("--delay", "0")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "confirm  read: allowed" in lines
    assert "confirm  bash: denied - Shell commands are not allowed in this demo." in lines
    assert "result   get_weather: sunny, 21 C" in lines
    assert "question Should I also email you the tracking link?" in lines
    assert lines.index("status   turn ended (end_turn)") > lines.index(
        "question Should I also email you the tracking link?"
    )
    summary = done.stdout.split("\nsummary\n", 1)[1]
    assert "get_weather (custom): ok: sunny, 21 C" in summary
    assert "bash (tool, ask): denied: Shell commands are not allowed in this demo." in summary
    assert "stop_reason=end_turn ok=True" in summary
    assert "Traceback" not in done.stderr


def test_the_json_everruns_demo_is_one_event_per_line_and_survives_an_early_close() -> None:
    done = _demo("--json", "--delay", "0")
    assert done.returncode == 0, done.stderr
    events = [parse_event(line) for line in done.stdout.splitlines()]
    types = [e.type for e in events]
    assert types[0] == "input.message" and types[-1] == "turn.completed"
    assert {"tool.call_requested", "tool.approval_resolved", "question.answered"} <= set(types)
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentflow", "demo", "--dialect", "everruns", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(),
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stderr is not None
        first = json.loads(proc.stdout.readline())
        proc.stdout.close()  # what `| head -n 1` does
        code = proc.wait(timeout=TIMEOUT)
        err = proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    assert first["type"] == "input.message" and code == 0
    assert "Traceback" not in err and "Exception in ASGI" not in err


def test_the_emulator_command_serves_both_everruns_surfaces() -> None:
    argv = [sys.executable, "-m", "agentflow", "emulator", "--dialect", "everruns",
            "--port", "0", "--api-key", "evr_pat_cli"]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env())  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split("listening on ")[1].split()[0]
        banner = [proc.stdout.readline() for _ in range(4)]  # key, export, then the surface
        assert "channel surface: " in banner[-1], banner
        agent_url = banner[-1].split("surface: ")[1].strip()
        with httpx.Client(timeout=5) as client:
            made = client.post(f"{url}/v1/sessions", headers={"authorization": "evr_pat_cli"},
                               json={"title": "cli"})  # fmt: skip
            seen = client.get(f"{agent_url}/sessions/{made.json()['id']}",
                              headers={"authorization": "Bearer evr_pat_cli"})  # fmt: skip
            wrong = client.get(f"{url}/v1/sessions", headers={"authorization": "nope"})
        proc.send_signal(signal.SIGTERM)  # 0: stopped (Ctrl-C gives 130)
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert url.endswith("/api") and agent_url.startswith(url + "/v1/channels/apichan_")
    assert (made.status_code, seen.status_code, wrong.status_code) == (201, 200, 401)
    assert code == 0
