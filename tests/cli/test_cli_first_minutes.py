"""The first ten minutes: the commands as a new user types them, in real processes.

Each command runs as a subprocess (``python -m agentflow``) against an emulator on
127.0.0.1, with a timeout, so a command that hangs fails the test instead of the run.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from agentflow.cli import main
from agentflow.testing import Emulator, Say, Scenario, Turn

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 30


def agentflow(
    *args: str, env: dict[str, str] | None = None, timeout: float = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentflow", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(Scenario([Turn([Say("Hello from the emulator.")])])).run_in_thread() as e:
        yield e


def interrupt(proc: subprocess.Popen[str], what: str) -> tuple[str, str]:
    """Ctrl-C ``proc`` and return its output once it exits.

    A process that does not exit within ``TIMEOUT`` fails the test with its stderr, after
    SIGABRT (run it with ``PYTHONFAULTHANDLER=1`` to see where every thread was), and is
    killed if need be: it is never left running for the next test.
    """
    proc.send_signal(signal.SIGINT)
    try:
        return proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        try:
            _, err = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        pytest.fail(f"{what} did not exit within {TIMEOUT}s of SIGINT; stderr:\n{err}")


def env_for(emu: Emulator) -> dict[str, str]:
    return {"ANTHROPIC_API_KEY": emu.api_key, "ANTHROPIC_BASE_URL": emu.base_url}


def read_until(stream: IO[str] | None, marker: str, timeout: float = TIMEOUT) -> str:
    """The lines of ``stream`` up to the one holding ``marker``; fails after ``timeout``.

    A thread reads, so a process that never prints the marker fails the test instead of
    blocking it; the thread ends when the process is stopped (its pipe closes).
    """
    assert stream is not None
    lines: list[str] = []
    found = threading.Event()

    def read() -> None:
        for line in stream:
            lines.append(line)
            if marker in line:
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    assert found.wait(timeout), f"no {marker!r} within {timeout} s: {''.join(lines)!r}"
    return "".join(lines)


def no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr, done.stderr


def test_watch_until_idle_on_a_fresh_session_stops_after_the_empty_history(
    emu: Emulator,
) -> None:
    sid = emu.create_session()
    done = agentflow("watch", sid, "--until-idle", "--plain", env=env_for(emu))
    assert done.returncode == 0, done.stderr
    assert "idle and has no events yet" in done.stdout
    no_traceback(done)


def test_record_on_a_fresh_session_stops_after_the_empty_history(
    emu: Emulator, tmp_path: Path
) -> None:
    sid = emu.create_session()
    out = tmp_path / "empty.jsonl"
    done = agentflow("record", sid, "-o", str(out), env=env_for(emu))
    assert done.returncode == 0, done.stderr
    assert out.read_text() == ""
    assert f"recorded 0 events of {sid}" in done.stderr


def test_the_emulator_prints_its_address_key_and_an_example_that_works(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentflow", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},
        stdin=subprocess.DEVNULL,
    )
    try:
        text = read_until(proc.stdout, "agentflow send --session")
        url = re.search(r"listening on (http://127\.0\.0\.1:\d+)", text)
        key = re.search(r"key:\s+(\S+)", text)
        assert url and key, text
        assert f"export ANTHROPIC_BASE_URL={url[1]} ANTHROPIC_API_KEY={key[1]}" in text
        assert "agentflow send" in text and "agentflow watch" in text
        env = {"ANTHROPIC_BASE_URL": url[1], "ANTHROPIC_API_KEY": key[1]}
        # the example, as printed: create a session, send to it, watch it
        created = agentflow("send", env=env)
        assert created.returncode == 0, created.stderr
        sid = created.stdout.strip()
        assert sid.startswith("sesn_")
        sent = agentflow("send", "--session", sid, "Hello", env=env)
        assert sent.returncode == 0 and sent.stdout.strip() == sid, sent.stderr
        watched = agentflow("watch", sid, "--until-idle", "--json", env=env)
        assert watched.returncode == 0, watched.stderr
        types = [json.loads(line)["type"] for line in watched.stdout.splitlines()]
        assert types[0] == "user.message" and types[-1] == "session.status_idle"
        assert "agent.message" in types
    finally:
        out, err = interrupt(proc, "agentflow emulator")
    assert proc.returncode == 130
    assert "interrupted" in err and "error" not in err


def test_emulator_help_documents_the_scenario_format(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["emulator", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "scenario file" in out and "docs/scenarios.md" in out
    for step in ("say", "custom_tool", "tool (permission", "error (retry_status", "burst"):
        assert step in out
    assert (ROOT / "docs" / "scenarios.md").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["emulator", "--port", "99999"], "port must be 0-65535"),
        (["emulator", "--port", "http"], "not a port number"),
        (["emulator", "--api-key", ""], "the API key is empty"),
        (["emulator", "--api-key", "sk-test\n"], "whitespace or a control character"),
        (["watch", "sesn_1", "--web", "--port", "-1"], "port must be 0-65535"),
        (["demo", "--delay", "soon"], "not a number of seconds"),
        (["send", "--session", "sesn_1"], "give a MESSAGE"),
        (["events", "no.such_type"], "no managed_agents event type matches"),
    ],
)
def test_bad_arguments_exit_2_with_one_line_and_no_traceback(args: list[str], message: str) -> None:
    done = agentflow(*args, env={"ANTHROPIC_API_KEY": "sk-test-0123456789"})
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    no_traceback(done)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("command", [["watch", "sesn_1"], ["record", "sesn_1", "-o", "-"],
                                     ["send", "hi"]])  # fmt: skip
def test_a_connection_error_names_the_url_tried_and_exits_1(command: list[str]) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    env = {"ANTHROPIC_API_KEY": "sk-test-0123456789", "ANTHROPIC_BASE_URL": url}
    done = agentflow(*command, env=env)
    assert done.returncode == 1, done.stderr
    assert f"{url}/v1/sessions" in done.stderr
    assert done.stderr.count("error:") == 1
    no_traceback(done)


def test_ctrl_c_exits_130_without_the_word_error(emu: Emulator) -> None:
    sid = emu.create_session()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentflow", "watch", sid, "--plain"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env_for(emu), "PYTHONFAULTHANDLER": "1"},
        stdin=subprocess.DEVNULL,
    )
    try:
        seen = read_until(proc.stdout, "waiting for new ones")  # connected and waiting
        assert sid in seen
    finally:
        out, err = interrupt(proc, "agentflow watch")
    assert proc.returncode == 130
    assert "interrupted" in err and "error" not in err
    no_traceback(subprocess.CompletedProcess(proc.args, 130, out, err))


def test_replay_shows_a_recording_without_an_app(emu: Emulator, tmp_path: Path) -> None:
    sid = emu.create_session()
    emu.send(sid, [{"type": "user.message", "content": [{"type": "text", "text": "hi"}]}])
    recording = tmp_path / "rec.jsonl"
    assert agentflow("record", sid, "-o", str(recording), env=env_for(emu)).returncode == 0
    done = agentflow("replay", str(recording), "--plain")
    assert done.returncode == 0, done.stderr
    assert "Hello from the emulator." in done.stdout
    assert "would send" not in done.stdout  # no app: nothing runs, nothing is sent
