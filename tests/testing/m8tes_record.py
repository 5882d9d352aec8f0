"""The recorded m8tes stream in ``tests/fixtures/m8tes_stream.sse``, and how it is made.

The fixture is the exact body of one streaming ``POST /runs/`` against the m8tes emulator
playing :data:`SCENARIO` (a few hundred frames: reasoning, text, tool calls with argument
fragments and results, an MCP call, a 300-delta burst, metrics, ``done`` and ``[DONE]``).
Benchmarks read it as a realistic m8tes wire sample. It is deterministic: ids come from
per-emulator counters and the emulated metrics derive from the scenario. After a deliberate
change to the emulator's frames, rewrite it with ``python tests/testing/m8tes_record.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import httpx

from agentflow.testing import Burst, McpTool, Say, Scenario, Stop, Tool, Turn, Usage
from agentflow.testing.m8tes import M8tesEmulator

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "m8tes_stream.sse"

OPENING = (
    "I'll start by reading the deployment manifest for the staging cluster, then compare the "
    "replica counts against last week's snapshot, and finally summarise anything that drifted "
    "so you can decide whether to roll back before the release window opens this afternoon."
)
SCENARIO = Scenario(
    [
        Turn(
            [
                Say(OPENING, thinking=True),
                Tool(
                    "read",
                    {"file_path": "/srv/deploy/staging/manifest.yaml", "encoding": "utf-8"},
                    result="replicas: {api: 4, worker: 6, scheduler: 1}",
                ),
                McpTool("metrics", "query", {"series": "replicas", "window": "7d"}, result="[]"),
                Burst(300, "line"),
                Usage(),
                Say("Nothing drifted: every service runs the replica count it had last week."),
                Stop("end_turn"),
            ]
        )
    ]
)


async def record() -> bytes:
    """The raw body of one streaming run of :data:`SCENARIO` on a fresh emulator."""
    async with M8tesEmulator(SCENARIO) as emu:
        headers = {"Authorization": f"Bearer {emu.api_key}"}
        async with httpx.AsyncClient(base_url=emu.base_url, headers=headers, timeout=10) as client:
            with anyio.fail_after(10):
                body = {"message": "Check staging for replica drift."}
                async with client.stream("POST", "/runs/", json=body) as response:
                    response.raise_for_status()
                    return await response.aread()


def main() -> int:
    """Rewrite the fixture file."""
    body = anyio.run(record)
    FIXTURE.write_bytes(body)
    frames = body.count(b"\n\n")
    print(f"wrote {FIXTURE.name}: {frames} frames, {len(body)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
