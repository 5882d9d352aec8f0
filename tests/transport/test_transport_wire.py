"""Wire-level framing the emulator never produces (it always sends ``event:`` lines, LF line
endings and small frames), served by a tiny in-process ASGI app through httpx's ASGI
transport. Everything else about streaming is tested against the emulator."""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agentflow import APIError, TransportError
from agentflow.transport import Backoff, ManagedAgentsClient

FAST = Backoff(base=0.001, cap=0.01)

STAMP = "2026-05-14T09:12:05.000Z"


def message(event_id: str, text: str) -> dict[str, Any]:
    return {"type": "agent.message", "id": event_id, "processed_at": STAMP,
            "content": [{"type": "text", "text": text}]}  # fmt: skip


def wire_body() -> bytes:
    e2 = json.dumps(message("e2", "two"), indent=1).replace("\n", "\r\ndata: ")
    deleted = {"type": "session.deleted", "id": "e9", "processed_at": STAMP}
    parts = [
        b"\xef\xbb\xbf: a comment after a byte order mark\r\n\r\n",
        # no event line: decoded by its JSON type
        b"data: " + json.dumps(message("e1", "one")).encode() + b"\r\n\r\n",
        b'event: ping\r\ndata: {"type":"ping"}\r\n\r\n',
        # one JSON document spread over several data lines, CRLF endings
        b"event: agent.message\r\ndata: " + e2.encode() + b"\r\n\r\n",
        # larger than the client's max_frame_bytes
        b"event: agent.message\r\ndata: "
        + json.dumps(message("big", "x" * 5000)).encode()
        + b"\r\n\r\n",
        # bare CR line endings
        b"event: agent.message\rdata: " + json.dumps(message("e3", "three")).encode() + b"\r\r",
        b"event: session.deleted\ndata: " + json.dumps(deleted).encode() + b"\n\n",
    ]
    return b"".join(parts)


def wire_events() -> list[dict[str, Any]]:
    """What the server stores for :func:`wire_body`, in order (pings are not stored)."""
    deleted = {"type": "session.deleted", "id": "e9", "processed_at": STAMP}
    return [message("e1", "one"), message("e2", "two"), message("big", "x" * 5000),
            message("e3", "three"), deleted]  # fmt: skip


def app(calls: dict[str, int]) -> Starlette:
    async def history(request: Request) -> Response:
        calls["history"] += 1
        # the reconcile after the first connection precedes the events; later ones see them
        stored = wire_events() if calls["stream"] > 1 else []
        return JSONResponse({"data": stored, "next_page": None})

    async def stream(request: Request) -> Response:
        calls["stream"] += 1
        if calls["stream"] == 1:
            return Response(wire_body(), media_type="text/event-stream")
        return Response(b": nothing new\n\n", media_type="text/event-stream")

    return Starlette(
        routes=[
            Route("/v1/sessions/{sid}/events", history),
            Route("/v1/sessions/{sid}/events/stream", stream),
        ]
    )


async def test_unusual_framing_is_decoded(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="agentflow.transport")
    calls = {"history": 0, "stream": 0}
    transport = httpx.ASGITransport(app=app(calls))
    async with httpx.AsyncClient(transport=transport) as http:
        client = ManagedAgentsClient("key-0123456789", "http://wire.test", http, backoff=FAST)
        with anyio.fail_after(10):
            async with client.events.stream("sesn_1", max_frame_bytes=1024) as stream:
                events = [e async for e in stream]
    # the oversized frame is dropped and logged; a reconnect reads it (and what followed it
    # on the dropped connection) from history, which has no size bound: nothing is lost
    assert [(e.id, e.text[:5]) for e in events] == [("e1", "one"), ("e2", "two"),
        ("big", "xxxxx"), ("e3", "three"), ("e9", "")]  # fmt: skip
    assert events[-1].type == "session.deleted"
    messages = [r.getMessage() for r in caplog.records]
    (dropped,) = [m for m in messages if "max_frame_bytes=1024" in m]
    assert "reconnecting to read its event from history" in dropped
    assert stream.reconnects == 1 and calls["stream"] == 2


async def test_a_frame_dropped_on_every_connection_ends_in_transport_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A server that sends an oversized message first thing on every connection (and never
    # stores it): reconnecting makes no progress, so each try counts as a failed attempt.
    caplog.set_level(logging.WARNING, logger="agentflow.transport")
    connections = [0]

    async def history(request: Request) -> Response:
        return JSONResponse({"data": [], "next_page": None})

    async def stream(request: Request) -> Response:
        connections[0] += 1
        big = json.dumps(message("big", "x" * 5000)).encode()
        return Response(b"event: agent.message\ndata: " + big + b"\n\n",
                        media_type="text/event-stream")  # fmt: skip

    bad = Starlette(
        routes=[
            Route("/v1/sessions/{sid}/events", history),
            Route("/v1/sessions/{sid}/events/stream", stream),
        ]
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bad)) as http:
        client = ManagedAgentsClient("key-0123456789", "http://wire.test", http, backoff=FAST)
        with anyio.fail_after(10), pytest.raises(TransportError, match="max_frame_bytes=1024"):
            async with client.events.stream("sesn_1", max_frame_bytes=1024, max_attempts=3) as s:
                async for _ in s:
                    pass
    assert connections[0] == 4  # the first connection and three attempts to resume


async def test_a_response_that_is_not_an_event_stream_is_an_error() -> None:
    connections = [0]

    async def not_sse(request: Request) -> Response:
        connections[0] += 1
        headers = {"request-id": "req_html"}
        return Response("<html>maintenance</html>", media_type="text/html", headers=headers)

    bad = Starlette(routes=[Route("/v1/sessions/{sid}/events/stream", not_sse)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bad)) as http:
        client = ManagedAgentsClient("key-0123456789", "http://wire.test", http, backoff=FAST)
        expected = (
            "Expected content-type 'text/event-stream' from "
            "GET /v1/sessions/sesn_1/events/stream, got 'text/html'"
        )
        with anyio.fail_after(10), pytest.raises(APIError, match=expected) as caught:
            async with client.events.stream("sesn_1"):
                pass
    assert caught.value.status == 200 and caught.value.request_id == "req_html"
    assert connections[0] == 1  # not a transient failure: no reconnect loop


async def test_a_garbled_history_page_is_retried_by_reconnecting() -> None:
    calls = {"history": 0, "stream": 0}

    async def history(request: Request) -> Response:
        calls["history"] += 1
        if calls["history"] == 1:
            return Response(b"<html>bad gateway</html>", media_type="application/json")
        return JSONResponse({"data": [message("h1", "stored")], "next_page": None})

    async def stream(request: Request) -> Response:
        calls["stream"] += 1
        deleted = {"type": "session.deleted", "id": "e9", "processed_at": STAMP}
        return Response(
            b"event: session.deleted\ndata: " + json.dumps(deleted).encode() + b"\n\n",
            media_type="text/event-stream",
        )

    flaky = Starlette(
        routes=[
            Route("/v1/sessions/{sid}/events", history),
            Route("/v1/sessions/{sid}/events/stream", stream),
        ]
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=flaky)) as http:
        client = ManagedAgentsClient("key-0123456789", "http://wire.test", http, backoff=FAST)
        with anyio.fail_after(10):
            async with client.events.stream("sesn_1") as s:
                ids = [e.id async for e in s]
    assert ids == ["h1", "e9"]
    assert calls == {"history": 2, "stream": 2}
