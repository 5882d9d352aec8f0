"""A distinctive key, every error path, everything captured: the key is never in any of it.

Paths: a wrong key (401 whose body echoes the key), 4xx and 5xx bodies echoing it, history
events and live frames echoing it (invalid JSON, invalid fields, a bad ``type``), a stream
``event: error`` quoting it, a stream that runs out of attempts, a connection refused. What
is searched: every log record of every logger at DEBUG (message, arguments, formatted
traceback), and for every exception its ``str``, ``repr``, traceback, and the ``repr`` of
every attribute of it and of every exception in its chain.
"""

from __future__ import annotations

import json
import logging
import socket
import traceback
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio
import pytest
from transport_helpers import FAST

from agentflow import AgentflowError, APIError, DecodeError
from agentflow.events import user_message
from agentflow.testing import Emulator
from agentflow.testing._frames import Frame
from agentflow.transport import ManagedAgentsClient

KEY = "sk-ant-api03-LEAKCANARY-7f3e9b21c4d8a6e0"


class Everything(logging.Handler):
    """Formats every record it sees, traceback and arguments included."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))
        self.texts.append(repr(record.args))
        if record.exc_info and record.exc_info[1] is not None:
            self.texts.append(everything_about(record.exc_info[1]))


def chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def everything_about(exc: BaseException) -> str:
    parts = ["".join(traceback.format_exception(exc))]
    for link in chain(exc):
        parts += [str(link), repr(link), repr(link.args)]
        parts += [f"{name}={value!r}" for name, value in vars(link).items()]
    return "\n".join(parts)


@pytest.fixture
def captured() -> Iterator[Everything]:
    handler = Everything()
    root = logging.getLogger()
    names = ["agentflow", "agentflow.transport", "httpx", "httpcore", "uvicorn", "asyncio"]
    loggers = [root, *(logging.getLogger(n) for n in names)]
    old = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for lg, level in old:
            lg.setLevel(level)


def frame(data: str, etype: str = "agent.message") -> Frame:
    return Frame("raw", etype, text=f"event: {etype}\ndata: {data}\n\n")


async def test_the_key_never_leaks(captured: Everything) -> None:
    texts: list[str] = []
    errors: list[BaseException] = []

    async def expect_error(call: Callable[[], Awaitable[Any]]) -> None:
        with pytest.raises(AgentflowError) as info:
            await call()
        errors.append(info.value)

    async with Emulator(api_key=KEY) as emu:
        client = ManagedAgentsClient(KEY, emu.base_url, backoff=FAST, max_retries=0)
        texts += [repr(client), repr(client.http_client.headers)]
        async with client:
            sid = emu.create_session()
            # error bodies that echo the key, on every kind of status
            for status in (400, 401, 403, 404, 409, 429, 500, 503):
                emu.fail_next(status, message=f"rejected key {KEY} (status {status})")
                await expect_error(lambda: client.sessions.retrieve(sid))
            # a history event that echoes the key in its id and is invalid
            bad = {"type": "agent.message", "id": f"sevt_{KEY}", "content": f"not a list {KEY}"}
            emu.emit(sid, bad)
            texts += [repr(e) async for e in client.events.list(sid)]
            # live frames that echo it: invalid JSON, invalid fields, a type that is no string
            with anyio.fail_after(10):
                async with client.events.stream(sid, max_attempts=20) as stream:
                    session = emu.session(sid)

                    def poison() -> None:
                        for sub in list(session.subscribers):
                            sub.push(frame(f'{{"type": "agent.message", "id": "{KEY}", oops'))
                            sub.push(frame(json.dumps({**bad, "id": KEY})))
                            sub.push(frame(json.dumps({"type": [KEY], "id": KEY})))

                    emu.call(poison)
                    emu.send(sid, [user_message("hello")])
                    async for event in stream:
                        texts.append(repr(event))
                        if event.type == "user.message":
                            break
                    emu.stream_error(sid, "invalid_request_error", f"bad header {KEY}")

                    async def drain() -> None:
                        async for event in stream:
                            texts.append(repr(event))

                    await expect_error(drain)
            # a stream that cannot be resumed
            emu.fail_next(500, count=100, path=f"/v1/sessions/{sid}/events/stream",
                          message=f"upstream saw {KEY}")  # fmt: skip

            async def exhaust() -> None:
                async with client.events.stream(sid, max_attempts=2):
                    pass

            await expect_error(exhaust)
        # the wrong key is a secret too
        wrong = KEY[::-1]
        async with ManagedAgentsClient(wrong, emu.base_url, max_retries=0) as other:
            await expect_error(lambda: other.sessions.retrieve(sid))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with ManagedAgentsClient(KEY, f"http://127.0.0.1:{port}", backoff=FAST) as dead:
        await expect_error(lambda: dead.sessions.retrieve("sesn_x"))

    kinds = {type(e).__name__ for e in errors}
    assert {"AuthenticationError", "ServerError", "StreamError", "TransportError"} <= kinds
    echoed = [e for e in errors if isinstance(e, APIError) and e.body is not None]
    assert echoed and all("[redacted]" in json.dumps(e.body) for e in echoed[:8])
    everything = texts + [everything_about(e) for e in errors] + captured.texts
    assert any("undecodable" in t for t in captured.texts)  # the bad frames were logged
    assert any(t.startswith("httpcore") for t in captured.texts)  # DEBUG really was on
    for text in everything:
        assert KEY not in text
        assert KEY[::-1] not in text


def test_decode_errors_carry_no_key_once_scrubbed() -> None:
    from agentflow.managed_agents.events import parse_event
    from agentflow.wire.errors import Redactor

    with pytest.raises(DecodeError) as info:
        parse_event(json.dumps({"type": "agent.message", "id": KEY, "content": KEY}))
    exc = Redactor(KEY).scrub(info.value)
    assert KEY not in everything_about(exc)
    assert isinstance(exc.data, str) and "[redacted]" in exc.data


@pytest.mark.parametrize("bad", [f" {KEY}", f"{KEY}\n", f"{KEY} ", f"\t{KEY}", "sk-a\nb-0123"])
async def test_a_key_with_whitespace_is_refused_before_any_request(bad: str) -> None:
    async with Emulator() as emu:
        with pytest.raises(ValueError, match="whitespace or a control character") as info:
            ManagedAgentsClient(bad, emu.base_url)
        assert emu.requests == []
    assert bad.strip() not in everything_about(info.value)
