"""``agentflow demo --dialect m8tes`` and ``agentflow emulator --dialect m8tes``, as a user
runs them (real processes, loopback only)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import anyio
import pytest

from agentflow.cli import main
from agentflow.m8tes import M8tesClient

TIMEOUT = 60


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "M8TES_"))}


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentflow", "demo", "--dialect", "m8tes", "--delay", "0", *args],
        capture_output=True, text=True, timeout=TIMEOUT, env=_env(), check=False,
    )  # fmt: skip


def test_the_m8tes_demo_shows_gates_decided_by_policies_and_the_run_ending() -> None:
    done = _demo("--plain")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("--       m8tes emulator on http://127.0.0.1:")
    assert "agent    I'll read the build host's name first, then clear its cache." in lines
    assert "confirm  read: allowed" in lines and "confirm  bash: denied" in lines
    assert any("Shell commands are not allowed in this demo." in line for line in lines)
    assert any(line.startswith("error    The model is overloaded") for line in lines)
    assert lines.index("status   done (end_turn)") > lines.index("confirm  bash: denied")
    assert "  replies sent  2 confirmations, 0 tool results" in lines
    assert "  run result    stop_reason=end_turn ok=True" in lines


def test_the_m8tes_demo_as_json_lines_is_the_run_frames_as_sent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--dialect", "m8tes", "--delay", "0", "--json"]) == 0
    frames = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert frames[0] == {"type": "metadata", "payload": {"run_id": 1}}
    assert frames[-1]["type"] == "done"
    assert any("toolCallId" in f and "toolName" in f for f in frames)  # as on the wire
    assert [f["type"] for f in frames].count("permission_request") == 2


def test_the_m8tes_demo_cannot_record(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--dialect", "m8tes", "--record", os.devnull]) != 0
    assert "--record records Managed Agents sessions only" in capsys.readouterr().err


def test_the_emulator_command_serves_the_m8tes_runs_api() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentflow", "emulator", "--dialect", "m8tes", "--port", "0",
         "--api-key", "m8_cli_key_0123456789"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**_env(), "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, line
        url = line.split("listening on ")[1].split()[0]
        assert url.endswith("/api/v2"), url

        async def use() -> list[str]:
            async with M8tesClient(api_key="m8_cli_key_0123456789", base_url=url) as client:
                with anyio.fail_after(10):
                    return [c async for c in client.runs.stream_text(message="hi")]

        chunks = anyio.run(use)
        proc.send_signal(signal.SIGTERM)  # 0: stopped (Ctrl-C gives 130)
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert chunks == ["OK"] and code == 0  # the empty scenario's default answer


@pytest.mark.parametrize("dialect", ["nope"])
def test_an_unknown_dialect_is_refused(dialect: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--dialect", dialect])
    assert "invalid choice" in capsys.readouterr().err
