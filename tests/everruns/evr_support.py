"""Support for the Everruns client tests: clients on an emulator, apps, a tiny SSE server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.abc

from agentflow import App, Backoff
from agentflow.everruns import EverrunsClient
from agentflow.testing.everruns import EverrunsEmulator

FIXTURE = Path(__file__).parents[1] / "fixtures" / "everruns_stream.sse"
FAST = Backoff(base=0.01, cap=0.05)
"""Short reconnect delays, so fault tests take seconds (the jitter is still full)."""


def client_for(emu: EverrunsEmulator, *, channel: bool = True, **options: Any) -> EverrunsClient:
    """A client on both surfaces of ``emu`` (only the management one with ``channel=False``)."""
    extra: dict[str, Any] = {}
    if channel:
        extra = {"agent_url": emu.agent_url, "agent_key": emu.agent_key}
    options.setdefault("backoff", FAST)
    return EverrunsClient(api_key=emu.api_key, base_url=emu.base_url, **extra, **options)


def fixture_events() -> list[dict[str, Any]]:
    """The events of the recorded stream (the ``connected`` frame left out)."""
    out = []
    for block in FIXTURE.read_text(encoding="utf-8").split("\n\n"):
        for line in block.split("\n"):
            if line.startswith("data: ") and '"sequence"' in line:
                out.append(json.loads(line[6:]))
    return out


def quiet_app() -> App:
    """An App that loads no installed policy plugins (tests decide the policies)."""
    app = App()
    app.load_entrypoints = False
    return app


def posts(emu: EverrunsEmulator, tail: str, status: int | None = 200) -> list[Any]:
    """Bodies of the POSTs to ``.../<tail>`` (with that status, or any when ``None``)."""
    return [
        r.body
        for r in emu.requests
        if r.method == "POST" and r.path.endswith(tail) and (status is None or r.status == status)
    ]


def turn_ids(emu: EverrunsEmulator, session_id: str) -> list[str]:
    """The ids of the session's stored events up to the end of its (first) turn: what a run
    dispatches (the ``session.idled`` that follows comes after the run ended)."""
    ids: list[str] = []
    for event in emu.history(session_id):
        ids.append(event["id"])
        if event["type"] in ("turn.completed", "turn.failed", "turn.cancelled"):
            break
    return ids


def streams(emu: EverrunsEmulator) -> list[str]:
    """The query string of every ``/sse`` request, in order."""
    return [r.query for r in emu.requests if r.path.endswith("/sse")]


Responder = Callable[[int, bytes], bytes]


@asynccontextmanager
async def tiny_sse_server(respond: Responder) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A loopback HTTP server answering every request with ``respond(n, head)`` (``n``
    counts requests from 0, ``head`` is the request's head) and closing the connection.
    Yields ``(base_url, requests)`` (each request's head)."""
    seen: list[bytes] = []

    async def serve(conn: anyio.abc.SocketStream) -> None:
        async with conn:
            head = b""
            with anyio.move_on_after(5):
                while b"\r\n\r\n" not in head:
                    chunk = await conn.receive(65536)
                    if not chunk:
                        return
                    head += chunk
            number = len(seen)
            seen.append(head)
            try:
                await conn.send(respond(number, head))
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                pass

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, serve)
        try:
            yield f"http://127.0.0.1:{port}/api", seen
        finally:
            tg.cancel_scope.cancel()


def sse_response(
    body: str,
    status: str = "200 OK",
    content_type: str = "text/event-stream",
    headers: tuple[str, ...] = (),
) -> bytes:
    """A whole HTTP/1.1 response that ends when the connection closes."""
    lines = [f"HTTP/1.1 {status}", f"content-type: {content_type}", "connection: close", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()
