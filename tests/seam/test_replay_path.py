"""``agentflow replay`` takes the path ``app.run`` takes: the app's tools and policies answer
the recorded pauses, the pause reaches the handlers first, and the replies are printed."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from agentflow import ManagedAgentsClient
from agentflow.cli import main
from agentflow.testing import CustomTool, Emulator, Say, Scenario, Tool, Turn

APP_MODULE = """
from agentflow import Allow, App, Deny

app = App(load_entrypoints=False)
order = []

@app.tool
def lookup(key: str) -> str:
    "Look a key up."
    order.append(f"tool {key}")
    return f"value of {key}"

@app.confirm("read")
def allow_read(event):
    order.append(f"policy {event.tool_name}")
    return Allow()

@app.confirm("bash")
def deny_bash(event):
    order.append(f"policy {event.tool_name}")
    return Deny("no shell")

@app.on("session.status_idle")
def idle(event):
    order.append(f"idle {event.stop_reason.type}")
"""


async def _record(path: Path) -> None:
    scenario = Scenario(
        [Turn([CustomTool("lookup", {"key": "k"}),
               Tool("read", {"p": "/x"}, permission="always_ask"),
               Tool("bash", {"c": "ls"}, permission="always_ask"), Say("Done.")])]
    )  # fmt: skip
    from replay_path_app import app  # type: ignore[import-not-found]

    async with Emulator(scenario) as emu:
        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            session = await client.sessions.create(agent="a", environment_id="e")
            with anyio.fail_after(20):
                await app.run(client, session.id, send=["Go"])
        history = emu.history(session.id)
    path.write_text("".join(json.dumps(e) + "\n" for e in history))


def test_replay_runs_the_apps_tools_and_policies_like_a_live_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "replay_path_app.py").write_text(APP_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    recording = tmp_path / "session.jsonl"
    anyio.run(_record, recording)
    import replay_path_app

    live = list(replay_path_app.order)
    replay_path_app.order.clear()
    code = main(["replay", str(recording), "--app", "replay_path_app:app", "--plain"])
    out = capsys.readouterr().out
    assert code == 0
    replayed = list(replay_path_app.order)
    # the same handlers and policies, in the same order as the live run; the client tool starts
    # early (when its call is announced), so it runs beside the handlers, once in each run
    assert [s for s in replayed if s != "tool k"] == [s for s in live if s != "tool k"]
    assert live.count("tool k") == 1 and replayed.count("tool k") == 1
    assert {"policy read", "policy bash"} <= set(live)
    assert live.index("idle requires_action") < live.index("policy read")  # the pause first
    assert out.count("router   would send") == 3
    assert out.count("[same as recorded]") == 3
    assert '"deny_message":"no shell"' in out
