"""Shared helpers for the transport tests (imported by module name: tests have no packages)."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.lowlevel

from agentflow.events import Event
from agentflow.testing import Burst, Emulator, Faults, Scenario, Turn, Wait
from agentflow.transport import Backoff, ManagedAgentsClient

FAST = Backoff(base=0.01, cap=0.05)
"""Quick retries so fault-injection tests take a fraction of a second."""


def client_for(emu: Emulator, **kwargs: Any) -> ManagedAgentsClient:
    """A client pointed at the emulator with fast backoff (overridable)."""
    kwargs.setdefault("backoff", FAST)
    kwargs.setdefault("max_retries", 10)
    return ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url, **kwargs)


def paced(bursts: int = 20, size: int = 100, pause: float = 0.02, **faults: Any) -> Scenario:
    """One turn of ``bursts * size`` agent messages in bursts separated by short pauses, so
    events arrive live while the client reads (not all before it connects)."""
    steps: list[Any] = []
    for _ in range(bursts):
        steps += [Burst(size), Wait(pause)]
    return Scenario([Turn(steps)], faults=Faults(**faults))


def is_final(event: Event) -> bool:
    """End of a turn: an idle that is not requires_action, or termination."""
    return event.is_final_response()


async def history_ids(client: ManagedAgentsClient, session_id: str) -> list[str]:
    """Every stored event id, in history order, through ``events.list``."""
    return [e.id async for e in client.events.list(session_id) if e.id is not None]


class SleepRecorder:
    """An injectable ``sleep`` that records each delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await anyio.lowlevel.checkpoint()


class Draws:
    """An injectable ``random`` returning the given values in turn (then the last one)."""

    def __init__(self, *values: float) -> None:
        self.values = list(values)
        self.calls = 0

    def __call__(self) -> float:
        value = self.values[min(self.calls, len(self.values) - 1)]
        self.calls += 1
        return value
