"""Helpers for the web view tests: sessions run by an App with a relay, and SSE readers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import aconnect_sse

from agentflow import App, ManagedAgentsClient
from agentflow.cli._web import WebServer
from agentflow.testing import Emulator, Scenario
from agentflow.web import Relay

AGENT = {"type": "agent", "id": "agent_web", "name": "web-test-agent"}


@dataclass
class Msg:
    """One relayed SSE message."""

    id: int | None
    event: str
    data: dict[str, Any]


@asynccontextmanager
async def serving(relay: Relay, **app_options: Any) -> AsyncIterator[WebServer]:
    """The relay and its page on loopback (``app_options`` go to ``relay_app``)."""
    async with WebServer(relay, **app_options) as server:
        yield server


@asynccontextmanager
async def emulated(scenario: Scenario) -> AsyncIterator[tuple[Emulator, ManagedAgentsClient, str]]:
    """An emulator, a client for it and a new session."""
    async with Emulator(scenario) as emu:
        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            session = await client.sessions.create(agent=AGENT, environment_id="env_web")
            yield emu, client, session.id


def quiet_app() -> App:
    """An App that loads no installed policies (the tests set their own)."""
    app = App(name="web-test")
    app.load_entrypoints = False
    return app


def events_url(server: WebServer, session_id: str) -> str:
    return f"{server.base_url}/sessions/{session_id}/events"


async def read_until(
    client: httpx.AsyncClient,
    url: str,
    *,
    token: str,
    stop: str = "relay.end",
    last_id: int | None = None,
    limit: int | None = None,
) -> list[Msg]:
    """Read messages until one named ``stop`` (or ``limit`` messages); then disconnect."""
    headers = {"authorization": f"Bearer {token}"}
    if last_id is not None:
        headers["last-event-id"] = str(last_id)
    out: list[Msg] = []
    async with aconnect_sse(client, "GET", url, headers=headers) as source:
        source.response.raise_for_status()
        async for sse in source.aiter_sse():
            if not sse.data:  # the opening ``retry:`` line
                continue
            out.append(Msg(int(sse.id) if sse.id else None, sse.event, json.loads(sse.data)))
            if sse.event == stop or (limit is not None and len(out) >= limit):
                break
    return out


def dechunk(raw: bytes) -> tuple[bytes, bytes]:
    """Split a raw HTTP/1.1 response into (headers, body), undoing chunked encoding.

    A body cut off mid-chunk keeps only the complete chunks: what a client can rely on.
    """
    head, _, rest = raw.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" not in head.lower():
        return head, rest
    body = b""
    while rest:
        size_line, sep, rest = rest.partition(b"\r\n")
        if not sep:
            break
        size = int(size_line.split(b";")[0], 16)
        if size == 0 or len(rest) < size + 2:
            break
        body += rest[:size]
        rest = rest[size + 2 :]
    return head, body


def parse_sse(body: bytes) -> list[Msg]:
    """The complete SSE messages in ``body`` (comments and ``retry:`` lines skipped)."""
    out: list[Msg] = []
    for block in body.decode(errors="replace").split("\n\n")[:-1]:
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if line and not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
        if "data" in fields:
            seq = int(fields["id"]) if "id" in fields else None
            out.append(Msg(seq, fields.get("event", "message"), json.loads(fields["data"])))
    return out
