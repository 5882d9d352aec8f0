"""Bad input on the wire: each case has its documented outcome, and nothing after it is lost.

- a frame whose data is not valid JSON, and a known event type with invalid fields: logged
  (type/id/field, never the data) and dropped; the stream reconnects and reads history, so
  every stored event that can be decoded arrives once, in order (the invalid one is skipped
  there too);
- a frame over the stream's ``max_frame_bytes``: logged, then its event is recovered from
  history (which has no size bound): nothing is lost;
- a non-JSON body (on a 200 page and on a 5xx error): a typed agentflow error that says what
  was expected, and the client keeps working;
- an SSE endpoint answering with another content type: ``APIError`` naming the type;
- a stream cut in the middle of a frame: the partial frame is dropped, the stream
  reconnects and the event is recovered from history, exactly once.

The first three use the emulator's fault knobs. The emulator always sends well-formed HTTP,
so the last three run a tiny Starlette app on 127.0.0.1 inside the test instead.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agentflow import APIError, DecodeError, ManagedAgentsClient, ServerError
from agentflow.events import Event, user_message
from agentflow.testing import Burst, Emit, Emulator, Faults, Say, Scenario, Turn
from agentflow.transport import Backoff

FAST = Backoff(base=0.01, cap=0.05)
TRANSPORT_LOGGER = "agentflow.transport"


def client_for(base_url: str, api_key: str = "test-key", **options: Any) -> ManagedAgentsClient:
    options.setdefault("backoff", FAST)
    return ManagedAgentsClient(api_key=api_key, base_url=base_url, **options)


def is_final(event: Event) -> bool:
    return event.is_final_response()


async def stream_turn(
    emu: Emulator, client: ManagedAgentsClient, **options: Any
) -> tuple[list[str], list[str]]:
    """Run one turn on a new session; the ids the stream delivered and those in history."""
    sid = emu.create_session()
    got: list[str] = []
    with anyio.fail_after(20):
        async with client.events.stream(sid, until=is_final, **options) as stream:
            await client.events.send(sid, [user_message("go")])
            async for event in stream:
                got.append(str(event.id))
    return got, [str(e["id"]) for e in emu.history(sid)]


def warnings_from(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == logger and r.levelno == logging.WARNING
    ]


# -- frames the emulator can damage -----------------------------------------------------


async def test_malformed_json_frames_are_logged_and_nothing_is_lost_or_repeated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=TRANSPORT_LOGGER)
    scenario = Scenario([Turn([Burst(60, "secret-payload")])], faults=Faults(malformed_every=7))
    async with Emulator(scenario) as emu, client_for(emu.base_url, emu.api_key) as client:
        got, stored = await stream_turn(emu, client)
    # each broken frame is an extra copy of a real event: the stream drops it, reconnects and
    # reads history; every event arrives once, in order
    assert got == stored
    skipped = [m for m in warnings_from(caplog, TRANSPORT_LOGGER) if "undecodable frame" in m]
    assert skipped  # (how many depends on timing: faults count frames per connection)
    assert all("invalid JSON" in m for m in skipped)
    assert not any("secret-payload" in m for m in skipped)  # the data is never logged


async def test_a_known_type_with_invalid_fields_is_logged_and_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=TRANSPORT_LOGGER)
    bad = {"type": "agent.custom_tool_use", "id": "evt_bad", "name": 42, "input": "nope"}
    scenario = Scenario([Turn([Say("before"), Emit(bad), Say("after")])])
    async with Emulator(scenario) as emu, client_for(emu.base_url, emu.api_key) as client:
        got, stored = await stream_turn(emu, client)
        sid = next(iter(emu.sessions))
        listed = [e.id async for e in client.events.list(sid)]
    assert "evt_bad" in stored
    assert got == [i for i in stored if i != "evt_bad"]  # everything else, in order
    assert listed == got  # history reads skip it the same way
    messages = warnings_from(caplog, TRANSPORT_LOGGER)
    stream_skips = [m for m in messages if "undecodable frame" in m]
    assert len(stream_skips) == 1
    assert "'agent.custom_tool_use'" in stream_skips[0]
    assert "evt_bad" in stream_skips[0]
    assert "'name'" in stream_skips[0]
    assert any("undecodable history event" in m and "evt_bad" in m for m in messages)


async def test_a_frame_over_the_size_bound_is_logged_then_recovered_from_history(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=TRANSPORT_LOGGER)
    scenario = Scenario([Turn([Say("small"), Say("x" * 20_000), Say("after"), Burst(20)])])
    async with Emulator(scenario) as emu, client_for(emu.base_url, emu.api_key) as client:
        got, stored = await stream_turn(emu, client, max_frame_bytes=4096)
        history = emu.history(next(iter(emu.sessions)))
    (big,) = [e["id"] for e in history if len(json.dumps(e)) > 4096]
    assert big in got
    assert got == stored  # nothing lost, nothing repeated, in history order
    (dropped,) = [m for m in warnings_from(caplog, TRANSPORT_LOGGER) if "max_frame_bytes" in m]
    assert "max_frame_bytes=4096" in dropped
    assert "from history" in dropped


# -- a tiny raw server for what the emulator cannot send ------------------------------------


@asynccontextmanager
async def serve(routes: list[Route]) -> AsyncIterator[str]:
    """Serve a Starlette app on 127.0.0.1 for the duration of the block; yields its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    config = uvicorn.Config(
        Starlette(routes=routes),
        log_level="critical",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(server._serve, [sock])  # _serve: no signal handlers in a test
            with anyio.fail_after(10):
                while not server.started:
                    await anyio.sleep(0.01)
            try:
                yield f"http://127.0.0.1:{sock.getsockname()[1]}"
            finally:
                server.should_exit = True  # _serve returns and the task group ends
    finally:
        sock.close()


def event(i: int) -> dict[str, Any]:
    return {
        "type": "agent.message",
        "id": f"evt_{i}",
        "processed_at": f"2026-01-01T00:00:{i:02d}.000Z",
        "content": [{"type": "text", "text": f"message {i}"}],
    }


def good_page(request: Request) -> Response:
    return JSONResponse({"data": [event(1)], "next_page": None})


async def test_a_non_json_page_raises_decode_error_and_the_client_keeps_working() -> None:
    def not_json(request: Request) -> Response:
        return Response("<html>gateway says hi</html>", media_type="text/html")

    routes = [
        Route("/v1/sessions/bad/events", not_json),
        Route("/v1/sessions/good/events", good_page),
    ]
    async with serve(routes) as url, client_for(url) as client:
        with anyio.fail_after(10):
            with pytest.raises(DecodeError, match="Expected a JSON page of events"):
                [e async for e in client.events.list("bad")]
            assert [e.id async for e in client.events.list("good")] == ["evt_1"]


async def test_a_non_json_error_body_becomes_a_typed_error_with_the_text() -> None:
    calls = [0]

    def bad_gateway(request: Request) -> Response:
        calls[0] += 1
        return Response("<html>502 Bad Gateway</html>", status_code=502, media_type="text/html")

    routes = [
        Route("/v1/sessions/bad/events", bad_gateway),
        Route("/v1/sessions/good/events", good_page),
    ]
    async with serve(routes) as url, client_for(url, max_retries=2) as client:
        with anyio.fail_after(10):
            with pytest.raises(ServerError) as caught:
                [e async for e in client.events.list("bad")]
            assert [e.id async for e in client.events.list("good")] == ["evt_1"]
    assert caught.value.status == 502
    assert "502 Bad Gateway" in caught.value.message
    assert calls[0] == 3  # retried twice, as a 5xx should be


async def test_a_stream_with_another_content_type_raises_api_error() -> None:
    def json_instead(request: Request) -> Response:
        return JSONResponse({"data": []})

    routes = [
        Route("/v1/sessions/bad/events/stream", json_instead),
        Route("/v1/sessions/good/events", good_page),
    ]
    async with serve(routes) as url, client_for(url) as client:
        with anyio.fail_after(10):
            with pytest.raises(APIError, match="text/event-stream.*application/json"):
                async with client.events.stream("bad"):
                    pass
            assert [e.id async for e in client.events.list("good")] == ["evt_1"]


class _Truncating:
    """An SSE endpoint whose first connection ends in the middle of a frame."""

    def __init__(self, history: list[dict[str, Any]], listed: anyio.Event) -> None:
        self.history = history
        self.listed = listed
        self.connections = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.connections += 1
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if self.connections == 1:
            await self.listed.wait()  # the client reconciled before these were "emitted"
            self.history += [event(1), event(2)]
            first = f"event: agent.message\ndata: {json.dumps(event(1))}\n\n"
            second = f"event: agent.message\ndata: {json.dumps(event(2))}\n\n"
            body = (first + second[: len(second) // 2]).encode()
            await send({"type": "http.response.body", "body": body, "more_body": True})
            return  # ends the connection without finishing the response: a truncated stream
        self.history.append(event(3))
        frame = f"event: agent.message\ndata: {json.dumps(event(3))}\n\n".encode()
        await send({"type": "http.response.body", "body": frame, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def test_a_stream_cut_mid_frame_recovers_the_event_from_history() -> None:
    history: list[dict[str, Any]] = []
    listed = anyio.Event()

    def list_events(request: Request) -> Response:
        listed.set()
        return JSONResponse({"data": list(history), "next_page": None})

    endpoint = _Truncating(history, listed)
    routes = [
        Route("/v1/sessions/s1/events", list_events),
        Route("/v1/sessions/s1/events/stream", endpoint),
    ]
    last: Callable[[Event], bool] = lambda e: e.id == "evt_3"  # noqa: E731
    got: list[str] = []
    async with serve(routes) as url, client_for(url) as client:
        with anyio.fail_after(10):
            async with client.events.stream("s1", until=last) as stream:
                async for ev in stream:
                    got.append(str(ev.id))
    assert got == ["evt_1", "evt_2", "evt_3"]  # the cut event came back from history, once
    assert endpoint.connections == 2
    assert stream.reconnects == 1


async def test_a_non_json_session_body_raises_decode_error_and_the_client_keeps_working() -> None:
    # A 200 whose body is not a Session (a proxy's page): the emulator never sends one.
    def html(request: Request) -> Response:
        headers = {"request-id": "req_proxy"}
        return Response("<html>proxy login</html>", media_type="text/html", headers=headers)

    routes = [
        Route("/v1/sessions/bad", html),
        Route("/v1/sessions/bad/events/stream", html),
        Route("/v1/sessions/good/events", good_page),
    ]
    async with serve(routes) as url, client_for(url) as client:
        with anyio.fail_after(10):
            with pytest.raises(DecodeError) as caught:
                await client.sessions.retrieve("bad")
            with pytest.raises(APIError, match="text/event-stream.*'text/html'") as stream_err:
                async with client.events.stream("bad"):
                    pass
            assert [e.id async for e in client.events.list("good")] == ["evt_1"]
    message = str(caught.value)
    assert message.startswith("Expected a Session object from GET /v1/sessions/bad, got ")
    assert "b'<html>proxy login</html>'" in message and "req_proxy" in message
    assert stream_err.value.request_id == "req_proxy"
