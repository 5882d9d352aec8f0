"""Nothing lost when the live stream lies (skips, swaps, late commits), and order restored.

The emulator's ``disorder`` knob makes the live stream skip or swap stored events, or makes
an event reach history after later ones while keeping its earlier ``processed_at``. The
stream and the poller must still deliver every stored event exactly once; a skipped event
comes before the idle that ends its turn; once the stream has shown it reorders, live
events are delivered in history order.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from transport_helpers import client_for, history_ids, is_final

from agentflow.events import Event
from agentflow.testing import Emulator


def message(n: int, at: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "agent.message", "content": [{"type": "text", "text": str(n)}]}
    if at is not None:
        event["processed_at"] = at
    return event


IDLE = {"type": "session.status_idle", "stop_reason": {"type": "end_turn"}}


class Consumer:
    """Reads a stream in a task; tests wait on how many events it has, never on time."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.got: list[Event] = []
        self._changed = anyio.Event()

    async def run(self) -> None:
        async for event in self.source:
            self.got.append(event)
            self._changed.set()
            self._changed = anyio.Event()

    async def wait_for(self, count: int) -> None:
        while len(self.got) < count:
            await self._changed.wait()

    @property
    def ids(self) -> list[str | None]:
        return [e.id for e in self.got]


async def test_an_event_the_live_stream_skipped_is_delivered_in_its_place() -> None:
    async with Emulator() as emu, client_for(emu) as client:
        sid = emu.create_session()
        emu.disorder(sid, skip_live={2})  # stored, never sent live
        with anyio.fail_after(10):
            async with client.events.stream(sid, until=is_final) as stream:
                consumer = Consumer(stream)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(consumer.run)
                    for n in (1, 2, 3):  # distinct stamps, as a real server gives
                        emu.emit(sid, message(n, f"2030-01-01T00:00:0{n}.000Z"))
                    emu.emit(sid, {**IDLE, "processed_at": "2030-01-01T00:00:04.000Z"})
        stored = await history_ids(client, sid)
    e1, e2, e3, idle = stored
    assert consumer.ids == [e1, e3, e2, idle]  # e2 from history, before the turn's end


async def test_a_skipped_event_older_than_the_newest_seen_survives_a_reconnect() -> None:
    async with Emulator() as emu, client_for(emu) as client:
        sid = emu.create_session()
        emu.disorder(sid, skip_live={2})
        with anyio.fail_after(10):
            async with client.events.stream(sid, until=is_final) as stream:
                consumer = Consumer(stream)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(consumer.run)
                    for n in (1, 2, 3):  # distinct stamps, as a real server gives
                        emu.emit(sid, message(n, f"2030-01-01T00:00:0{n}.000Z"))
                    await consumer.wait_for(2)  # the live stream delivered e1, e3
                    emu.drop_streams(sid)
                    await emu.wait_for_streams(sid)  # reconnected and reconciled
                    emu.emit(sid, {**IDLE, "processed_at": "2030-01-01T00:00:04.000Z"})
        stored = await history_ids(client, sid)
    e1, e2, e3, idle = stored
    assert consumer.ids == [e1, e3, e2, idle]  # the reconcile looked behind e3


async def test_once_a_stream_reorders_live_events_are_delivered_in_history_order() -> None:
    async with Emulator() as emu, client_for(emu) as client:
        sid = emu.create_session()
        emu.disorder(sid, swap_live={2, 5})  # e2 after e3, e5 after e6
        with anyio.fail_after(10):
            async with client.events.stream(sid, until=is_final) as stream:
                consumer = Consumer(stream)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(consumer.run)
                    for n in range(1, 7):  # distinct stamps: the order can be seen
                        emu.emit(sid, message(n, f"2030-01-01T00:00:0{n}.000Z"))
                    emu.emit(sid, {**IDLE, "processed_at": "2030-01-01T00:00:07.000Z"})
        stored = await history_ids(client, sid)
    assert sorted(consumer.ids, key=str) == sorted(stored, key=str) and len(stored) == 7
    # e2 arrived behind e3: too late for its place, but it proves the stream reorders, so
    # the later swap (e6 sent before e5) is put right by history
    assert consumer.ids[:3] == [stored[0], stored[2], stored[1]]
    assert consumer.ids[3:] == stored[3:]


@pytest.mark.parametrize("source", ["stream", "poll"])
async def test_an_event_that_reaches_history_late_is_not_skipped(source: str) -> None:
    """e2 is committed after e4 with its earlier processed_at: a reader that already moved
    past e3 must still go back for it."""
    times = [f"2030-01-01T00:00:0{n}.000Z" for n in range(1, 6)]
    async with Emulator() as emu, client_for(emu) as client:
        sid = emu.create_session()
        emu.disorder(sid, late={2})  # lands once e3 and e4 did
        with anyio.fail_after(10):
            if source == "stream":
                events: Any = client.events.stream(sid, until=is_final)
            else:
                events = client.events.poll(sid, interval=0.01, until=is_final)
            async with events:
                consumer = Consumer(events)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(consumer.run)
                    emu.emit(sid, message(1, times[0]))
                    emu.emit(sid, message(2, times[1]))  # held back
                    emu.emit(sid, message(3, times[2]))
                    await consumer.wait_for(2)  # e1 and e3 were delivered
                    emu.emit(sid, message(4, times[3]))  # e4, then e2 behind e3, land
                    await consumer.wait_for(4)
                    emu.emit(sid, {**IDLE, "processed_at": times[4]})
        stored = await history_ids(client, sid)
    assert sorted(consumer.ids, key=str) == sorted(stored, key=str)
    assert len(consumer.ids) == len(set(consumer.ids)) == 5
    assert consumer.ids[:2] == [stored[0], stored[2]]  # e1, e3 as they came
