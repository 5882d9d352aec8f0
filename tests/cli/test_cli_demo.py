"""`agentflow demo` as a user runs it: a real process, stdout piped, no key, no network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict

import pytest

from agentflow.cli import main
from agentflow.events import EventDelta, parse_event

TIMEOUT = 60


def _env() -> dict[str, str]:
    # No key and no base URL: the demo must not need them.
    return {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentflow", "demo", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=_env(),
        check=False,
    )


def test_piped_demo_prints_plain_lines_showing_the_whole_product() -> None:
    done = _demo()
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "\x1b[" not in out and "\x1b" not in out
    lines = out.splitlines()
    # streamed text, each message once
    assert "agent    I'll read the build host's name first, then clear its cache." in lines
    assert sum(line.startswith("agent    ") for line in lines) == 3
    # an approved and a denied confirmation
    assert "confirm  read: allowed" in lines
    assert "confirm  bash: denied - Shell commands are not allowed in this demo." in lines
    # two custom tool results
    assert "result   get_weather: sunny, 21 C" in lines
    assert any(line.startswith("result   lookup_order: {") and "shipped" in line for line in lines)
    # the retrying error and the status changes around it
    assert any(line.startswith("error    model_overloaded_error (retrying)") for line in lines)
    assert "status   rescheduled: the server retries" in lines
    assert lines.index("status   idle (end_turn)") > lines.index("confirm  read: allowed")
    # the summary
    summary = out.split("\nsummary\n", 1)[1]
    for label in ("events", "first event", "by type", "tool calls", "handlers", "stopped"):
        assert f"  {label} " in summary, label
    assert "read (tool, ask): allowed -> ok: build-7" in summary
    assert "bash (tool, ask): denied: Shell commands are not allowed in this demo." in summary
    assert "get_weather (custom): ok: sunny, 21 C" in summary
    assert "session.error 1" in summary
    assert "Traceback" not in done.stderr


def test_json_demo_prints_one_event_per_line_including_streamed_deltas() -> None:
    done = _demo("--json", "--delay", "0")
    assert done.returncode == 0, done.stderr
    events = [parse_event(line) for line in done.stdout.splitlines()]
    types = [e.type for e in events]
    assert types[0] == "user.message" and types[-1] == "session.status_idle"
    assert types.count("user.tool_confirmation") == 2
    assert types.count("user.custom_tool_result") == 2
    streamed: dict[str, str] = defaultdict(str)
    for event in events:
        if isinstance(event, EventDelta):
            streamed[event.event_id] += event.text
    finals = {e.id: e.text for e in events if e.type == "agent.message"}
    assert streamed and all(streamed[i] == finals[i] for i in streamed)
    # log lines (ErrorEscalation's warning about the retrying error) go to stderr, not stdout
    assert "session.error 'model_overloaded_error'" in done.stderr


def test_json_demo_survives_a_reader_that_closes_early() -> None:
    # `agentflow demo --json | head -n 2`: the pipe closes while the demo is still running.
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentflow", "demo", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        first = [proc.stdout.readline(), proc.stdout.readline()]
        proc.stdout.close()  # what head does after its lines
        code = proc.wait(timeout=TIMEOUT)
        err = proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    assert [json.loads(line)["type"] for line in first] == [
        "user.message",
        "session.status_running",
    ]
    assert code == 0
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err


def test_shell_pipeline_into_head_exits_cleanly() -> None:
    script = (
        f'"{sys.executable}" -m agentflow demo --json | head -n 1; '
        'echo "status=${PIPESTATUS[0]}" >&2'
    )
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=TIMEOUT, env=_env()
    )
    assert json.loads(done.stdout)["type"] == "user.message"
    assert "status=0" in done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


@pytest.mark.parametrize(
    "command", ["demo", "watch", "record", "replay", "emulator", "send", "events"]
)
def test_every_command_has_help_with_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert f"agentflow {command} " in out.split("examples:", 1)[1]


def test_demo_without_the_emulator_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from agentflow.cli import demo

    monkeypatch.setattr(demo, "find_spec", lambda name: None if name == "uvicorn" else object())
    assert main(["demo"]) == 1
    err = capsys.readouterr().err
    assert "uvicorn missing" in err and "agentflow-events[demo]" in err


def test_demo_rejects_a_negative_delay(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:  # bad usage: argparse's exit status 2
        main(["demo", "--delay", "-1"])
    assert info.value.code == 2
    assert "--delay: must be >= 0" in capsys.readouterr().err
