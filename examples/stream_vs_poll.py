"""One session read two ways at once, by streaming and by polling, and compared.

``client.events.stream`` holds a server-sent-events connection and gets each event as it
happens; ``client.events.poll`` reads the stored history every ``interval`` seconds, for
programs that cannot keep a connection open. Both deliver every stored event exactly once,
in history order, so the two sequences must be identical; the stream just sees them sooner.

    python examples/stream_vs_poll.py                     # against a local emulator
    python examples/stream_vs_poll.py --agent agent_... --environment env_...  # real API
"""

from __future__ import annotations

import time
from typing import Any

import anyio
from _session import open_session

from agentflow import Event, user_message
from agentflow.testing import Say, Scenario, Tool, Turn

SCENARIO = Scenario(
    [
        Turn(
            [
                Say("Reading the file.", thinking=True),
                Tool("read", {"file_path": "notes.txt"}, result="buy milk"),
                Say("The note says: buy milk."),
            ]
        )
    ],
    step_delay=0.02,  # spread the events out a little, as a real agent would
)


def turn_over(event: Event) -> bool:
    return event.is_final_response()


async def collect(
    source: Any, into: list[tuple[str, float]], sent: dict[str, float], ready: anyio.Event
) -> None:
    """Record (event id, seconds since the message was sent) for each event."""
    async with source:  # a stream is connected once this block is entered
        ready.set()
        async for event in source:
            into.append((str(event.id), time.perf_counter() - sent["at"]))


async def main() -> None:
    streamed: list[tuple[str, float]] = []
    polled: list[tuple[str, float]] = []
    sent = {"at": time.perf_counter()}
    async with open_session(SCENARIO, __doc__ or "") as (client, session_id):
        stream = client.events.stream(session_id, until=turn_over)
        poller = client.events.poll(session_id, interval=0.2, until=turn_over)
        async with anyio.create_task_group() as tg:
            ready = [anyio.Event(), anyio.Event()]
            tg.start_soon(collect, stream, streamed, sent, ready[0])
            tg.start_soon(collect, poller, polled, sent, ready[1])
            for attached in ready:  # both listen before the turn starts
                await attached.wait()
            sent["at"] = time.perf_counter()
            await client.events.send(session_id, [user_message("What does notes.txt say?")])

    same = [i for i, _ in streamed] == [i for i, _ in polled]
    for label, events in (("stream", streamed), ("poll", polled)):
        first, last = events[0][1], events[-1][1]
        print(f"{label + ':':8}{len(events)} events, first after {first:.2f} s, last {last:.2f} s")
    print(f"same events in the same order: {same}")


if __name__ == "__main__":
    anyio.run(main)
