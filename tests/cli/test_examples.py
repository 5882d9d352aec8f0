"""Every example in examples/ runs against the emulator (a subprocess, as a user runs it)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agentflow.testing import DEFAULT_API_KEY, Emulator, Scenario

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TIMEOUT = 60


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANTHROPIC_", "EVERRUNS_", "M8TES_"))
    }
    env.update(extra)
    return env


def _start(name: str, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(EXAMPLES / name), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=_env(**env),
    )


def _finish(proc: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "Traceback" not in err, err
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _run(name: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return _finish(_start(name, *args, **env))


PLAIN_RUNS = (
    "logging_handler.py",
    "web_search_monitor.py",
    "confirm_bash.py",
    "custom_tools.py",
    "stream_vs_poll.py",
    "everruns_support.py",
    "orxhestra_agent.py",
    "order_status.py",
    "telemetry.py",
    "m8tes_triage.py",
)


@pytest.fixture(scope="module")
def runs() -> dict[str, subprocess.CompletedProcess[str]]:
    """Each example run once with no options (emulator mode), all started at once."""
    procs = {name: _start(name) for name in PLAIN_RUNS}
    try:
        return {name: _finish(proc) for name, proc in procs.items()}
    finally:
        for proc in procs.values():
            if proc.poll() is None:  # pragma: no cover - only after a failure above
                proc.kill()
                proc.communicate()


def test_logging_handler_logs_every_event_with_processed_at(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    done = runs["logging_handler.py"]
    assert done.returncode == 0
    rows = [line.split() for line in done.stderr.splitlines() if line.startswith("20")]
    types = [row[1] for row in rows]
    assert types[0] == "user.message" and types[-1] == "session.status_idle"
    for expected in ("agent.thinking", "agent.tool_use", "agent.tool_result", "agent.message"):
        assert expected in types
    assert "session.checkpoint_saved" in types  # an unknown type is logged, not dropped
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
    assert all(stamp.match(row[0]) for row in rows)
    assert ["tool=read"] == [row[3] for row in rows if len(row) > 3]
    assert f"turn ended: end_turn after {len(rows)} events" in done.stderr


def test_web_search_monitor_reports_only_web_search(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    done = runs["web_search_monitor.py"]
    assert done.returncode == 0
    reported = [line for line in done.stdout.splitlines() if line.startswith("web_search #")]
    assert len(reported) == 2
    assert "'agentflow python events'" in reported[0]
    assert "'claude managed agents sse'" in reported[1]
    assert "bash" not in done.stdout.split("4 tool calls", 1)[0]
    assert "4 tool calls in the turn; only web_search was reported" in done.stdout


def test_confirm_bash_allows_a_safe_command_and_denies_a_dangerous_one(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    done = runs["confirm_bash.py"]
    assert done.returncode == 0
    out = done.stdout
    assert "bash 'git status': allowed (decided by shell-policy)" in out
    assert "bash 'rm -rf build': denied (decided by shell-policy)" in out
    assert out.count("  echo: ") == 2  # the server echoed both confirmations
    assert "-> deny ('rm -rf build' is not on the list of read-only commands.)" in out
    assert "turn ended: end_turn" in out


def test_custom_tools_run_validate_and_report_errors(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    done = runs["custom_tools.py"]
    assert done.returncode == 0
    out = done.stdout
    assert '  get_weather: {"city": {' in out and '"enum": ["C", "F"]' in out
    assert 'get_weather {"city": "Paris"} -> ok: Sunny in Paris, 21 C' in out
    assert '"to_currency": "USD"} -> ok: {"amount":108.0,"currency":"USD","rate":1.08}' in out
    assert '"to_currency": "JPY"} -> error: ValueError: no rate for EUR -> JPY' in out
    assert '{"amount": "lots", "from_currency": "EUR"} -> invalid_input:' in out
    assert "to_currency: Field required" in out
    assert "turn ended: end_turn" in out


def test_stream_and_poll_see_the_same_events_in_the_same_order(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    done = runs["stream_vs_poll.py"]
    assert done.returncode == 0
    counts = re.findall(r"^(stream|poll):\s+(\d+) events", done.stdout, re.MULTILINE)
    assert [name for name, _ in counts] == ["stream", "poll"]
    assert counts[0][1] == counts[1][1] and int(counts[0][1]) > 5
    assert "same events in the same order: True" in done.stdout


def test_everruns_support_runs_client_tools_approvals_and_a_question(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    done = runs["everruns_support.py"]
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "result   refund: refunded 10.00 on A-1042" in out
    assert "result   refund: refunds over 50 need a human; 400.00 asked" in out
    assert "approval allow" in out
    assert "approval deny not sending mail to 'all@lists.example.org'" in out
    assert "question How should we send the receipt?" in out
    assert "ask_user" not in out.split("turn ended", 1)[0]  # questions shown as questions
    assert "turn ended: end_turn" in out
    outcomes = [line.split() for line in out.split("turn ended: end_turn\n", 1)[1].splitlines()]
    assert sorted(map(tuple, outcomes)) == [
        ("confirmation", "send_email", "allowed"),
        ("confirmation", "send_email", "denied"),
        ("custom", "lookup_order", "ok"),
        ("custom", "refund", "denied"),
        ("custom", "refund", "ok"),
        ("question", "ask_user", "answered"),
    ]


def test_orxhestra_agent_is_gated_answered_and_given_the_apps_tool(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    done = runs["orxhestra_agent.py"]
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert (
        lines[0]
        == "gated: ['list_files', 'delete_file']; questions answered by @app.on_question: 1"
    )
    assert "asked:  Which files should I clean up? -> the logs" in lines
    assert "result: human_input: the logs" in lines
    assert "agent:  I'll look at the folder first." in lines
    assert "result: list_files: app.log, error.log, notes.txt" in lines
    assert "result: disk_usage: /var/app: 1.2 GB" in lines  # the App's tool, run by the App
    # The denied tool never ran (it would have raised): the agent got the deny message.
    assert "result: delete_file: Deleting '/var/app/app.log' needs a person's approval." in lines
    assert "answer: The logs take 1.2 GB; deleting them needs your approval." in lines
    assert lines[-5].startswith("turn ended: end_turn; ")
    assert lines[-4:] == [
        "  human_input (question): answered, decided by ask",
        "  list_files (confirmation): allowed, decided by listing_is_fine",
        "  disk_usage (custom): ok",
        "  delete_file (confirmation): denied, decided by keep_the_files",
    ]


def test_order_status_shows_each_tool_as_soon_as_it_is_named_and_runs_two_at_once(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    done = runs["order_status.py"]
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "you: Where are my orders? My email is ana@example.com."
    search = lines.index("  [Searching order database…]")
    assert lines[search - 1] == "Let me look up your orders."  # streamed text, then the tool
    assert lines.count("  [Checking shipping status…]") == 2
    batch = "  [running 2 tool call(s) at once: get_shipping_status, get_shipping_status]"
    assert lines.index(batch) > lines.index("  [Checking shipping status…]")
    assert any(line.startswith("Your espresso machine (A-1042) is in transit") for line in lines)
    assert "stop: end_turn" in lines
    assert re.search(r"^time to first token: \d+\.\d{3} s$", done.stdout, re.MULTILINE)
    assert re.search(r"^tokens: [1-9]\d* in, [1-9]\d* out$", done.stdout, re.MULTILINE)
    assert "  get_shipping_status {'order_id': 'A-1043'} -> ok in " in done.stdout


def test_order_status_talks_to_the_messages_api_named_by_the_environment(tmp_path: Path) -> None:
    from agentflow.testing.messages import MessagesEmulator

    scenario = Scenario.simple("Your order A-1042 arrives Friday.")
    conversation = tmp_path / "chat.json"
    with MessagesEmulator(scenario, api_key="sk-test-key").run_in_thread() as emu:
        done = _run(
            "order_status.py", "--api", "--model", "claude-x", "--conversation",
            str(conversation), "Where is A-1042?",
            ANTHROPIC_API_KEY="sk-test-key", ANTHROPIC_BASE_URL=emu.base_url,
        )  # fmt: skip
        requests = emu.requests
    assert done.returncode == 0, done.stderr
    assert "Your order A-1042 arrives Friday." in done.stdout
    assert [r.body["model"] for r in requests] == ["claude-x"]
    assert "sk-test-key" not in done.stdout + done.stderr
    assert "Your order A-1042 arrives Friday." in conversation.read_text("utf-8")
    no_key = _run("order_status.py", "--api")
    assert no_key.returncode == 2 and "set ANTHROPIC_API_KEY" in no_key.stderr


def _json_documents(text: str) -> list[dict[str, Any]]:
    """The JSON documents the console exporters printed one after the other."""
    decoder, docs, pos = json.JSONDecoder(), [], 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        doc, pos = decoder.raw_decode(text, pos)
        docs.append(doc)
    return docs


def test_telemetry_prints_nested_spans_and_metrics(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    done = runs["telemetry.py"]
    assert done.returncode == 0, done.stderr
    assert "turn ended: end_turn" in done.stderr
    docs = _json_documents(done.stdout)
    spans = {d["name"]: d for d in docs if "context" in d}
    assert set(spans) == {
        "agentflow.run",
        "execute_tool get_weather",
        "execute_tool get_forecast",
        "weather lookup",
        "agentflow.policy",
        "agentflow.reply.post",
    }
    run_id = spans["agentflow.run"]["context"]["span_id"]
    assert spans["agentflow.run"]["parent_id"] is None
    for name in ("execute_tool get_weather", "execute_tool get_forecast", "agentflow.policy"):
        assert spans[name]["parent_id"] == run_id, name
    weather = spans["execute_tool get_weather"]
    assert spans["weather lookup"]["parent_id"] == weather["context"]["span_id"]
    assert weather["attributes"]["gen_ai.tool.call.id"].startswith("sevt_")
    forecast = spans["execute_tool get_forecast"]
    assert forecast["status"]["status_code"] == "ERROR"
    assert [e["name"] for e in forecast["events"]] == ["exception"]
    assert spans["agentflow.policy"]["attributes"]["agentflow.policy.verdict"] == "allow"
    assert spans["agentflow.reply.post"]["attributes"]["agentflow.reply.sent"] == 3
    (exported,) = [d for d in docs if "resource_metrics" in d]
    names = {
        m["name"]
        for r in exported["resource_metrics"]
        for s in r["scope_metrics"]
        for m in s["metrics"]
    }
    assert {"agentflow.events", "agentflow.tool.duration", "agentflow.replies.sent"} <= names
    assert DEFAULT_API_KEY not in done.stdout + done.stderr
    assert "Paris" not in json.dumps(weather["attributes"])  # tool input: not unless asked


def test_m8tes_triage_answers_gates_by_policy_and_the_question_by_its_handler(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    done = runs["m8tes_triage.py"]
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert out[0] == "agent: I'll triage the three new tickets."
    assert "question answered: billing" in out
    assert "slack_post {'channel': '#billing', 'text': '1042: refund request'}: allowed" in out
    assert (
        "slack_post {'channel': '#general', 'text': 'Triage done'}: denied "
        "(Post in #billing or #support, not in #general.)"
    ) in out
    assert any(line.startswith("zendesk_close {'ticket': 1041}: denied (Closing") for line in out)
    assert sum(line.startswith("  gate perm_") for line in out) == 4  # a question too
    assert out[-1].startswith("turn ended: end_turn after ")


def test_the_emulator_fixture_example_passes_under_pytest() -> None:
    done = subprocess.run(
        # (hypothesis is not used there; its plugin only slows the start down)
        [sys.executable, "-m", "pytest", str(EXAMPLES / "test_with_emulator.py"), "-q",
         "-p", "no:cacheprovider", "-p", "no:hypothesispytest"],
        capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT, env=_env(), check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_an_example_talks_to_the_api_named_by_the_environment() -> None:
    # --session with ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL: the real-API path, pointed at a
    # server we control.
    with Emulator(
        Scenario.simple("Hello from the API."), api_key="sk-test-key"
    ).run_in_thread() as emu:
        session_id = emu.create_session()
        done = _run(
            "logging_handler.py", "--session", session_id,
            ANTHROPIC_API_KEY="sk-test-key", ANTHROPIC_BASE_URL=emu.base_url,
        )  # fmt: skip
        history = emu.history(session_id)
    assert done.returncode == 0, done.stderr
    assert history[0]["content"][0]["text"] == "What is in README.md?"
    assert "agent.message" in done.stderr and "turn ended: end_turn" in done.stderr
    assert "sk-test-key" not in done.stdout + done.stderr


def test_the_real_api_path_needs_a_key_and_complete_options() -> None:
    no_key = _start("web_search_monitor.py", "--session", "sesn_x")
    no_env = _start("web_search_monitor.py", "--agent", "agent_x", ANTHROPIC_API_KEY="k")
    done = _finish(no_key)
    assert done.returncode == 2
    assert "set ANTHROPIC_API_KEY to use the real API" in done.stderr
    done = _finish(no_env)
    assert done.returncode == 2 and "--agent needs --environment" in done.stderr
