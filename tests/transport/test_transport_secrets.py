"""The API key never shows in repr(client), in any log record at DEBUG, or in an exception."""

from __future__ import annotations

import logging
import socket
import traceback

import anyio
import pytest
from transport_helpers import FAST

from agentflow import AgentflowError
from agentflow.events import custom_tool_result, user_message
from agentflow.testing import Emulator, Faults, Say, Scenario, Turn
from agentflow.transport import ManagedAgentsClient

KEY = "sk-ant-api03-SECRET-do-not-leak-0123456789abcdef"


def collect_text(exc: BaseException) -> str:
    """Everything a user could see of an exception: str, repr, traceback, causes."""
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        parts += [str(cause), repr(cause)]
        cause = cause.__cause__ or cause.__context__
    return "\n".join(parts)


async def test_key_is_never_revealed(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx, httpcore
    texts: list[str] = []
    scenario = Scenario([Turn([Say("hi")] * 5)], faults=Faults(drop_every=2, malformed_every=3))
    async with Emulator(scenario, api_key=KEY) as emu:
        client = ManagedAgentsClient(KEY, emu.base_url, backoff=FAST, max_retries=1)
        texts.append(repr(client))
        texts.append(repr(client.http_client.headers))
        async with client:
            sid = (await client.sessions.create(agent="a", environment_id="e")).id
            # a normal run with reconnects and malformed frames (DEBUG logs all along)
            with anyio.fail_after(10):
                async with client.events.stream(sid, until=lambda e: e.is_final_response()) as s:
                    texts.append(repr(s))
                    await client.events.send(sid, [user_message("go")])
                    assert len([e async for e in s]) > 5
            # provoked errors: 404, 400, 429, 5xx, a server that echoes the key, a stream error
            provocations = [
                client.sessions.retrieve("sesn_missing"),
                client.events.send(sid, [custom_tool_result("nope", "x")]),
            ]
            for coro in provocations:
                with pytest.raises(AgentflowError) as info:
                    await coro
                texts.append(collect_text(info.value))
            emu.fail_next(429, count=2, path=f"/v1/sessions/{sid}")
            emu.fail_next(500, count=2, message=f"upstream rejected key {KEY}")
            for _ in range(2):
                with pytest.raises(AgentflowError) as info:
                    await client.sessions.retrieve(sid)
                texts.append(collect_text(info.value))
            assert "[redacted]" in texts[-1]
            emu.fail_next(500, count=100, path=f"/v1/sessions/{sid}/events/stream")
            with pytest.raises(AgentflowError) as info:
                async with client.events.stream(sid, max_attempts=2):
                    pass
            texts.append(collect_text(info.value))
            with anyio.fail_after(10), pytest.raises(AgentflowError) as info:
                async with client.events.stream(sid) as s:
                    emu.stream_error(sid, "invalid_request_error", f"bad header {KEY}")
                    async for _ in s:
                        pass
            texts.append(collect_text(info.value))
        # the wrong key is a secret too
        wrong = KEY[::-1]
        async with ManagedAgentsClient(wrong, emu.base_url) as other:
            with pytest.raises(AgentflowError) as info:
                await other.sessions.retrieve(sid)
            texts.append(collect_text(info.value))
    # connection failures
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with ManagedAgentsClient(KEY, f"http://127.0.0.1:{port}", backoff=FAST) as dead:
        with pytest.raises(AgentflowError) as info:
            await dead.sessions.retrieve("sesn_x")
        texts.append(collect_text(info.value))

    logged = [r.getMessage() for r in caplog.records]
    assert any(
        r.name == "agentflow.transport" and r.levelno == logging.DEBUG for r in caplog.records
    )
    assert any(r.name.startswith("httpcore") for r in caplog.records)  # DEBUG really was on
    for text in texts + logged:
        assert KEY not in text
        assert KEY[::-1] not in text
    assert len(texts) >= 9
