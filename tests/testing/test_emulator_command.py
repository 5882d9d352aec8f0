"""``agentflow emulator``: serves in the foreground, prints its URL, stops on SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from emu_support import headers, user_message

from agentflow.cli import main

SCENARIO = Path(__file__).parent.parent / "fixtures" / "scenarios" / "weather.json"


def test_the_command_serves_a_scenario_until_interrupted() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agentflow",
            "emulator",
            "--scenario",
            str(SCENARIO),
            "--port",
            "0",
            "--api-key",
            "k-cli",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, line
        url = line.split("listening on ")[1].split()[0]
        with httpx.Client(base_url=url + "/v1", timeout=5) as client:
            wrong = client.get("/sessions", headers=headers("other"))
            created = client.post(
                "/sessions",
                headers=headers("k-cli"),
                json={"agent": "a", "environment_id": "e", "initial_events": [user_message()]},
            )
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert wrong.status_code == 401
    assert created.status_code == 200
    assert code == 130  # Ctrl-C: the exit status every command gives it


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["emulator", "--host", "0.0.0.0"], "loopback"),
        (["emulator", "--scenario", "/nonexistent/scenario.json"], "cannot load scenario"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_a_malformed_scenario_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"turns": [{"steps": [{"dance": true}]}]}')
    assert main(["emulator", "--scenario", str(bad)]) == 2
    assert "no known step key" in capsys.readouterr().err
