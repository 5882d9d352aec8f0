"""Telemetry in fresh processes: without OpenTelemetry nothing loads it and a run works; with
it, only an observer on a configured provider makes spans (the global providers)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

CHILD = Path(__file__).with_name("otel_child.py")
RUN = {"stop_reason": "end_turn", "outcomes": ["ok", "error", "allowed"], "sent": True}


MODES = ("blocked", "unused", "global")


@pytest.fixture(scope="module")
def children() -> dict[str, dict[str, Any]]:
    """What each mode of the child reported; the three run at once."""
    procs = {
        mode: subprocess.Popen(
            [sys.executable, str(CHILD), mode],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mode in MODES
    }
    out: dict[str, dict[str, Any]] = {}
    try:
        for mode, proc in procs.items():
            stdout, stderr = proc.communicate(timeout=60)
            assert proc.returncode == 0, f"{mode}: {stderr}"
            out[mode] = json.loads(stdout.strip().splitlines()[-1])
    finally:
        for proc in procs.values():
            if proc.poll() is None:  # pragma: no cover - only after a failure above
                proc.kill()
                proc.communicate()
    return out


@pytest.mark.parametrize("mode", ["blocked", "unused"])
def test_a_run_without_telemetry_loads_no_opentelemetry(
    children: dict[str, dict[str, Any]], mode: str
) -> None:
    # acceptance 2: "blocked" is the extra being absent (the dev environment has the API,
    # which the anthropic SDK needs); "unused" is an app without observers.
    out = children[mode]
    assert out["after_import"] == []
    assert out["run"] == RUN
    assert out["after_run"] == []
    if mode == "blocked":
        assert "pip install 'agentflow-events[otel]'" in out["telemetry_import_error"]
    else:
        assert "telemetry_import_error" not in out


def test_the_observer_follows_the_global_providers(children: dict[str, dict[str, Any]]) -> None:
    out = children["global"]
    assert out["tracer_before"] is False  # the default no-op provider: the observer steps aside
    assert out["run_before"] == RUN and out["run_after"] == RUN
    assert out["spans"] == [
        "agentflow.policy",
        "agentflow.reply.post",
        "agentflow.run",
        "execute_tool explode",
        "execute_tool lookup",
    ]  # only the second run's: none while no provider was configured
    assert {
        "agentflow.events",
        "agentflow.tool.duration",
        "agentflow.replies.sent",
        "agentflow.policy.verdicts",
    } <= set(out["metrics"])
