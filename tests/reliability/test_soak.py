"""Soak: a 10,000-event turn with custom tool calls, through every fault at once.

Real emulator on loopback, real client, ``app.run`` with ``@app.tool``. The turn is 20 rounds
of a 500-event burst followed by a custom tool call (each call blocks the turn on a
``requires_action`` idle until its result arrives). Faults on the emulator: dropped
connections, duplicated frames, malformed frames, stalls, and 5xx/429 answers to a share of
all requests (stream connects, history reads, sends). Two variants:

- ``drops``: the emulator cuts every connection after 397 events; each also pauses (stalls)
  briefly after 150, shorter than ``stale_after``, which must not cost a reconnect;
- ``stale``: each connection goes silent after 400 events for longer than ``stale_after``
  (the stale-connection detector must reconnect), and the test also cuts connections at
  random moments (``emu.drop_streams``).

Either way every stored event reaches the handlers exactly once and in history order (the
same ids as ``events.list``), and every tool runs exactly once.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import anyio
import pytest

from agentflow import App, ManagedAgentsClient, user_message
from agentflow.testing import Burst, CustomTool, Emulator, Faults, Say, Scenario, Turn
from agentflow.transport import Backoff

ROUNDS = 20
BURST = 500

COMMON: dict[str, Any] = {
    "duplicate_every": 53,
    "malformed_every": 71,
    "http_error_rate": 0.05,
    "http_error_statuses": (500, 503, 429),
    "retry_after_seconds": 0.0,
    "keepalive_seconds": 0.05,
    "seed": 11,
}
VARIANTS: dict[str, tuple[dict[str, Any], float, bool]] = {
    # faults, stale_after, drop streams from the test
    "drops": ({"drop_every": 397, "stall_after": 150, "stall_seconds": 0.05}, 2.0, False),
    "stale": ({"stall_after": 400, "stall_seconds": 5.0}, 0.3, True),
}


def soak_scenario(faults: dict[str, Any]) -> Scenario:
    steps: list[Any] = []
    for k in range(ROUNDS):
        steps += [Burst(BURST, f"round {k}"), CustomTool("tally", {"k": k})]
    steps.append(Say("soaked"))
    return Scenario([Turn(steps)], faults=Faults(**COMMON, **faults))


async def drop_now_and_then(emu: Emulator, sid: str, stop: anyio.Event) -> None:
    rng = random.Random(5)
    while not stop.is_set():
        with anyio.move_on_after(rng.uniform(0.05, 0.25)):
            await stop.wait()
        emu.drop_streams(sid)


async def stored_ids(client: ManagedAgentsClient, sid: str) -> list[str]:
    return [str(e.id) async for e in client.events.list(sid, limit=1000)]


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(VARIANTS))
async def test_ten_thousand_events_exactly_once_and_every_tool_once(variant: str) -> None:
    faults, stale_after, test_drops = VARIANTS[variant]
    app = App()
    app.load_entrypoints = False
    seen: list[str] = []
    runs: Counter[int] = Counter()

    @app.on("*")
    def record(event: Any) -> None:
        seen.append(event.id)

    @app.tool
    async def tally(k: int) -> str:
        """Count one call of round ``k``."""
        runs[k] += 1
        return f"tallied {k}"

    async with Emulator(soak_scenario(faults)) as emu:
        sid = emu.create_session()
        client = ManagedAgentsClient(
            api_key=emu.api_key,
            base_url=emu.base_url,
            max_retries=10,
            backoff=Backoff(base=0.01, cap=0.1),
        )
        async with client, anyio.create_task_group() as tg:
            stop = anyio.Event()
            if test_drops:
                tg.start_soon(drop_now_and_then, emu, sid, stop)
            with anyio.fail_after(120):
                result = await app.run(
                    client,
                    sid,
                    send=[user_message("soak")],
                    stale_after=stale_after,
                    max_attempts=100,
                    backoff=Backoff(base=0.01, cap=0.1),
                )
                stop.set()
                history = await stored_ids(client, sid)

        reconnects = sum(
            1 for r in emu.requests if r.path.endswith("/events/stream") and r.status == 200
        )

    assert result.stop_reason == "end_turn"
    assert result.text == "soaked"
    assert result.unanswered == []
    assert len(history) >= 10_000
    assert seen == history  # every stored event once, in history order, nothing else
    assert runs == dict.fromkeys(range(ROUNDS), 1)  # every tool ran exactly once
    assert [c.outcome for c in result.tool_calls] == ["ok"] * ROUNDS
    assert reconnects > 10  # the connection really was lost, again and again
