"""The example policy package, installed with pip, is found through the entry point and decides."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import anyio
import pytest
from router_support import ids_of, replies, run_turn, scenario

from agentflow import App
from agentflow.testing import Say, Tool

EXAMPLE = Path(__file__).parents[2] / "examples" / "policy_plugin"


@pytest.mark.slow
async def test_installed_example_plugin_decides_confirmations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
    command = [*pip, "--no-deps", "--no-build-isolation", "--target", str(target), str(EXAMPLE)]
    with anyio.fail_after(120):
        installed = await anyio.run_process(command, check=False)
    assert installed.returncode == 0, installed.stderr.decode()
    monkeypatch.syspath_prepend(str(target))  # importlib.metadata now sees its dist-info
    monkeypatch.delitem(sys.modules, "agentflow_policy_example", raising=False)
    try:
        found = importlib.metadata.entry_points(group="agentflow")
        assert [(ep.name, ep.value) for ep in found] == [
            ("read_only", "agentflow_policy_example:policy")
        ]

        app = App()  # loads entry-point plugins by default
        assert app.plugins.get_plugin("read_only") is not None
        scen = scenario(
            Tool("grep", {"pattern": "x"}, permission="always_ask"),
            Tool("bash", {"command": "rm -rf /"}, permission="always_ask"),
            Tool("unknown_tool", {}, permission="always_ask"),
            Say("ok"),
        )
        result, history = await run_turn(app, scen)
    finally:
        sys.modules.pop("agentflow_policy_example", None)

    grep_id, bash_id, other_id = ids_of(history, "agent.tool_use")
    got = replies(history)
    assert got[grep_id]["result"] == "allow"
    assert got[bash_id]["deny_message"] == "This environment is read-only: 'bash' is not allowed."
    assert got[other_id]["result"] == "deny"  # no opinion: the default decided
    policies = {r.id: r.policy for r in result.tool_calls}
    assert policies == {grep_id: "read_only", bash_id: "read_only", other_id: "default"}
