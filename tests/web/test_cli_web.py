"""``agentflow demo --web`` and ``agentflow watch --web`` as a user runs them: real processes."""

from __future__ import annotations

import os
import re
import sys
from typing import Any
from urllib.parse import parse_qs, urlparse

import anyio
import httpx
from anyio.abc import Process
from web_support import read_until

from agentflow.testing import CustomTool, Say, Scenario, Turn
from agentflow.testing.managed_agents import Emulator

LIMIT = 60
URL = re.compile(r"web view: (http://127\.0\.0\.1:\d+/\?\S+)\n")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    return {**env, **extra}


async def _page_url(process: Process, out: list[str], then: str = "") -> str:
    """Read the command's output until it has printed the page's address (and ``then``)."""
    assert process.stdout is not None
    text = ""
    async for chunk in process.stdout:
        text += chunk.decode()
        found = URL.search(text)
        if found and then in text[found.end() :]:
            out.append(text)
            return found.group(1)
    raise AssertionError(f"no web view address in the output:\n{text}")


async def _rest(process: Process) -> tuple[str, str]:
    assert process.stdout is not None and process.stderr is not None
    out = b"".join([chunk async for chunk in process.stdout])
    err = b"".join([chunk async for chunk in process.stderr])
    await process.wait()
    return out.decode(), err.decode()


def _parts(url: str) -> tuple[str, str, str]:
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    return f"http://{parsed.netloc}", query["token"][0], query["session"][0]


async def _follow(url: str) -> tuple[httpx.Response, list[Any]]:
    base, token, session = _parts(url)
    async with httpx.AsyncClient(timeout=20) as http:
        page = await http.get(url)
        got = await read_until(http, f"{base}/sessions/{session}/events", token=token)
    return page, got


async def test_demo_web_starts_when_the_page_opens_and_streams_the_whole_demo_to_it() -> None:
    command = [sys.executable, "-m", "agentflow", "demo", "--web", "--plain", "--delay", "0"]
    with anyio.fail_after(LIMIT):
        async with await anyio.open_process(command, env=_env()) as process:
            head: list[str] = []
            url = await _page_url(process, head, then="(Ctrl-C to stop)\n")
            base, token, _ = _parts(url)
            async with httpx.AsyncClient(timeout=20) as http:
                # listing the sessions opens no page: the demo is still waiting for one
                before = (await http.get(f"{base}/sessions", params={"token": token})).json()
            page, got = await _follow(url)
            out, err = await _rest(process)
    assert process.returncode == 0, err
    assert "the demo starts when that page is open" in head[0]
    assert "agent    " not in head[0]  # nothing ran before the page was open
    assert [(s["last_id"], s["browsers"]) for s in before["sessions"]] == [(0, 0)]
    assert page.status_code == 200 and "<title>agentflow live</title>" in page.text
    assert "content-security-policy" in page.headers
    names = [m.event for m in got]
    assert names[-3:] == ["turn.completed", "run.result", "relay.end"]
    tools = {m.data["tool"]["name"]: m.data["tool"]["outcome"]
             for m in got if m.event in ("tool.completed", "tool.failed")}  # fmt: skip
    assert tools == {"read": "ok", "bash": "denied", "get_weather": "ok", "lookup_order": "ok"}
    verdicts = [m.data["approval"]["verdict"] for m in got if m.event == "approval.resolved"]
    assert verdicts == ["allow", "deny"]
    assert any(m.event == "error" for m in got) and names.count("message.completed") == 3
    assert all("input" not in m.data.get("tool", {}) for m in got)
    # the terminal view is the usual one, summary included
    assert "confirm  bash: denied - Shell commands are not allowed in this demo." in out
    assert "\nsummary\n" in out and "Traceback" not in err


async def test_watch_web_serves_a_real_sessions_history_and_stops_with_the_turn() -> None:
    scenario = Scenario([Turn([Say("Watching on the web.", stream=True),
                               CustomTool("get_weather", {"city": "Oslo"})])])  # fmt: skip
    with anyio.fail_after(LIMIT):
        async with Emulator(scenario) as emu:
            session = emu.create_session()
            hello = {"type": "user.message", "content": [{"type": "text", "text": "hi"}]}
            emu.send(session, [hello])
            await emu.wait_for_event(session, "session.status_idle")  # waits on get_weather
            emu.send(session, [{"type": "user.custom_tool_result",
                                "custom_tool_use_id": _call_id(emu, session),
                                "content": [{"type": "text", "text": "cold"}]}])  # fmt: skip
            await emu.wait_for_event(session, "session.status_idle", count=2)
            command = [sys.executable, "-m", "agentflow", "watch", session, "--until-idle",
                       "--web", "--plain", "--base-url", emu.base_url]  # fmt: skip
            env = _env(ANTHROPIC_API_KEY=emu.api_key)
            async with await anyio.open_process(command, env=env) as process:
                head: list[str] = []
                url = await _page_url(process, head)
                _, got = await _follow(url)
                out, err = await _rest(process)
    assert process.returncode == 0, err
    assert _parts(url)[2] == session
    names = [m.event for m in got]
    assert names[0] == "other" and got[0].data["type"] == "user.message"
    assert ["tool.started", "tool.requested", "tool.completed"] == [
        n for n in names if n.startswith("tool.")
    ]
    assert names[-2:] == ["turn.completed", "relay.end"]
    assert emu.api_key not in out + err
    assert "agent    Watching on the web." in out


def _call_id(emu: Emulator, session: str) -> str:
    return str(next(e["id"] for e in emu.history(session) if e["type"] == "agent.custom_tool_use"))
