"""The pytest plugin's fixtures, the thread runner, and imports without the extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import anyio
import httpx
import pytest
from emu_support import headers, raw_client, user_message

from agentflow.testing import Emulator, Say, Scenario, Turn


async def _reply_text(emulator: Emulator) -> str:
    session_id = emulator.create_session()
    emulator.send(session_id, [user_message()])
    with anyio.fail_after(5):
        await emulator.wait_for_event(session_id, "session.status_idle")
    messages = [e for e in emulator.history(session_id) if e["type"] == "agent.message"]
    return str(messages[0]["content"][0]["text"])


async def test_the_default_fixture_serves_the_fallback_reply(emulator: Emulator) -> None:
    async with raw_client(emulator) as client:
        assert (await client.get("/sessions")).status_code == 200
    assert await _reply_text(emulator) == "OK"


@pytest.mark.emulator_scenario(Scenario([Turn([Say("from the marker")])]))
async def test_the_marker_picks_the_scenario(emulator: Emulator) -> None:
    assert await _reply_text(emulator) == "from the marker"


@pytest.mark.emulator_scenario({"turns": [{"steps": [{"say": "from json"}]}]})
async def test_the_marker_takes_the_json_form(emulator: Emulator) -> None:
    assert await _reply_text(emulator) == "from json"


class TestOverriddenFixtures:
    @pytest.fixture
    def emulator_scenario(self) -> Scenario:
        return Scenario.simple("from the override")

    @pytest.fixture
    def emulator_api_key(self) -> str:
        return "k-123"

    async def test_overrides_apply(self, emulator: Emulator) -> None:
        async with httpx.AsyncClient(base_url=emulator.base_url + "/v1") as client:
            wrong = await client.get("/sessions", headers=headers("nope"))
            right = await client.get("/sessions", headers=headers("k-123"))
        assert (wrong.status_code, right.status_code) == (401, 200)
        assert await _reply_text(emulator) == "from the override"


def test_run_in_thread_serves_synchronous_code() -> None:
    emulator = Emulator(Scenario.simple("threaded"))
    with (
        emulator.run_in_thread() as emu,
        httpx.Client(base_url=emu.base_url + "/v1", headers=headers(), timeout=5) as client,
    ):
        session_id = client.post("/sessions", json={"agent": "a", "environment_id": "e"}).json()[
            "id"
        ]
        # wait on the idle itself, read from the stream (each read bounded by the timeout)
        with client.stream("GET", f"/sessions/{session_id}/events/stream") as stream:
            client.post(f"/sessions/{session_id}/events", json={"events": [user_message()]})
            emu.emit(session_id, {"type": "agent.thread_context_compacted"})  # crosses threads
            for line in stream.iter_lines():
                if line == "event: session.status_idle":
                    break
        listed = client.get(f"/sessions/{session_id}/events").json()["data"]
    texts = [e["content"][0]["text"] for e in listed if e["type"] == "agent.message"]
    assert texts == ["threaded"]
    assert "agent.thread_context_compacted" in [e["type"] for e in listed]
    with pytest.raises(RuntimeError, match="not running"):
        _ = emulator.base_url


def test_the_plugin_and_scenarios_import_without_starlette_or_uvicorn() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["starlette"] = None
        sys.modules["uvicorn"] = None
        import agentflow.testing.pytest_plugin
        from agentflow.testing import Scenario, Say
        Scenario.simple("x")
        from agentflow.cli import build_parser, main
        args = build_parser().parse_args(["emulator", "--port", "0"])
        assert args.port == 0
        code = main(["emulator"])
        assert code == 1, code
        assert "starlette" not in [m for m in sys.modules if sys.modules[m] is not None]
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert "emulator extra" in result.stderr
