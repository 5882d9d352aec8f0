"""Only delivered events prove a healthy connection: bytes alone never reset the retries."""

from __future__ import annotations

import anyio
import pytest
from transport_helpers import Draws, SleepRecorder, client_for

from agentflow import TransportError
from agentflow.testing import Emulator
from agentflow.testing._frames import Frame
from agentflow.transport import Backoff


async def cut_every_connection(emu: Emulator, sid: str) -> None:
    """Answer each new stream connection with keep-alive comments, then close it."""
    session = emu.session(sid)

    def cut() -> None:
        for sub in list(session.subscribers):
            sub.push(Frame("raw", "keepalive", text=": keepalive\n\n: still here\n\n"))
        session.close_streams()

    while True:
        await emu.wait_for_streams(sid)
        emu.call(cut)


async def test_keepalives_then_close_forever_exhaust_max_attempts() -> None:
    sleep = SleepRecorder()
    backoff = Backoff(base=0.01, cap=10.0)
    async with Emulator() as emu:
        sid = emu.create_session()
        async with client_for(emu, sleep=sleep, random=Draws(1.0), backoff=backoff) as client:
            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(cut_every_connection, emu, sid)
                    with pytest.raises(TransportError) as info:
                        async with client.events.stream(sid, max_attempts=4) as stream:
                            async for _ in stream:
                                pass
                    tg.cancel_scope.cancel()
    assert "could not be resumed after 4 attempts" in str(info.value)
    assert stream.reconnects == 4
    # the backoff grew with every attempt: it was never reset by the keep-alives
    assert sleep.delays == sorted(sleep.delays) and len(set(sleep.delays)) == 4
