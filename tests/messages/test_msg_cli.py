"""`agentflow demo --dialect messages` and `agentflow emulator --dialect messages`, as run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from agentflow.cli import main
from agentflow.messages import parse_event

TIMEOUT = 60


def _env() -> dict[str, str]:
    # No key and no base URL: the demo must not need them.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _agentflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentflow", *args],
        capture_output=True, text=True, timeout=TIMEOUT, env=_env(), check=False,
    )  # fmt: skip


def test_the_demo_runs_the_same_app_over_the_messages_emulator() -> None:
    done = _agentflow("demo", "--dialect", "messages", "--delay", "0")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    lines = out.splitlines()
    assert "\x1b" not in out and "Traceback" not in done.stderr
    assert "agent    I'll read the build host's name first, then clear its cache." in lines
    assert sum(line.startswith("agent    ") for line in lines) == 3  # each message once
    assert 'tool     read {"file_path": "/etc/hostname"}  [run by the app]' in lines
    assert any(line.startswith("error    model_overloaded_error (retrying)") for line in lines)
    assert "status   turn ended (end_turn)" in lines
    summary = out.split("\nsummary\n", 1)[1]
    assert "read (custom): allowed -> ok: build-7" in summary
    assert "bash (custom): denied: Shell commands are not allowed in this demo." in summary
    assert "get_weather (custom): ok: sunny, 21 C" in summary
    assert "0 confirmations, 4 tool results" in summary
    assert "stop_reason=end_turn ok=True" in summary


def test_the_json_demo_prints_the_messages_events() -> None:
    done = _agentflow("demo", "--dialect", "messages", "--json", "--delay", "0")
    assert done.returncode == 0, done.stderr
    events = [parse_event(line) for line in done.stdout.splitlines()]
    types = [e.type for e in events]
    assert types[0] == "message_start" and types[-1] == "message_stop"
    assert types.count("message_start") == 4  # three responses, one asked for twice
    assert types.count("error") == 1
    text = "".join(e.text for e in events if e.kind == "message.delta")
    assert "It is sunny in Paris at 21 C" in text


def test_record_is_refused_for_the_messages_demo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["demo", "--dialect", "messages", "--record", str(tmp_path / "x.jsonl")])
    assert code == 1
    assert "records Managed Agents sessions only" in capsys.readouterr().err
    assert not (tmp_path / "x.jsonl").exists()


def test_the_emulator_command_serves_the_messages_api(tmp_path: Path) -> None:
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"turns": [{"steps": [{"say": "Hello from the CLI."}]}]}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentflow", "emulator", "--dialect", "messages",
         "--scenario", str(scenario), "--port", "0", "--api-key", "k-cli"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, line
        url = line.split("listening on ")[1].split()[0]
        body = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
        with httpx.Client(base_url=url, timeout=10) as client:
            headers = {"authorization": "Bearer k-cli", "anthropic-version": "2026-10-21"}
            ok = client.post("/v1/messages", json=body, headers=headers)
            wrong = client.post(
                "/v1/messages", json=body, headers={**headers, "authorization": "Bearer x"}
            )
        proc.send_signal(signal.SIGTERM)  # 0: stopped (Ctrl-C gives 130)
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert ok.status_code == 200 and ok.json()["content"][0]["text"] == "Hello from the CLI."
    assert wrong.status_code == 401
    assert code == 0


def test_an_unknown_emulator_dialect_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulator", "--dialect", "carrier-pigeon"]) == 2
    err = capsys.readouterr().err
    assert "unknown --dialect 'carrier-pigeon'" in err and "messages" in err
