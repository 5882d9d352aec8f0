"""``agentflow demo --dialect messages --web``: the Messages demo on the live page."""

from __future__ import annotations

import sys

import anyio
from test_cli_web import LIMIT, _env, _follow, _page_url, _rest


async def test_the_messages_demo_streams_to_the_page_too() -> None:
    command = [sys.executable, "-m", "agentflow", "demo", "--dialect", "messages", "--web",
               "--plain", "--delay", "0"]  # fmt: skip
    with anyio.fail_after(LIMIT):
        async with await anyio.open_process(command, env=_env()) as process:
            head: list[str] = []
            url = await _page_url(process, head, then="(Ctrl-C to stop)\n")
            page, got = await _follow(url)
            out, err = await _rest(process)
    assert process.returncode == 0, err
    assert "agent    " not in head[0]  # nothing ran before the page was open
    assert page.status_code == 200
    names = [m.event for m in got]
    assert names[-3:] == ["turn.completed", "run.result", "relay.end"]
    assert names.count("message.completed") == 3 and "error" in names
    assert names.count("tool.requested") == 2
    assert "stop_reason=end_turn ok=True" in out and "Traceback" not in err
