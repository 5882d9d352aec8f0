"""Helpers for the m8tes emulator tests: a raw httpx client and a data-only SSE reader."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from agentflow.testing.m8tes import M8tesEmulator


def raw_client(emu: M8tesEmulator, key: str | None = None) -> httpx.AsyncClient:
    """An httpx client on the emulator's ``/api/v2`` base URL with a bearer key."""
    return httpx.AsyncClient(
        base_url=emu.base_url,
        headers={"Authorization": f"Bearer {key or emu.api_key}"},
        timeout=10,
    )


async def messages(response: httpx.Response) -> AsyncIterator[str]:
    """Each SSE message of the body as sent (blank-line separated, lines kept)."""
    buffer = ""
    async for chunk in response.aiter_text():
        buffer += chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            yield block


async def payloads(response: httpx.Response) -> AsyncIterator[str]:
    """The ``data:`` payload of each message (the wire sends no other field)."""
    async for block in messages(response):
        assert block.startswith("data: ") and "\n" not in block, f"not data-only: {block!r}"
        yield block[6:]


async def read_all(response: httpx.Response) -> list[str]:
    """Every payload until the body ends."""
    return [p async for p in payloads(response)]


def decoded(items: list[str]) -> list[Any]:
    """JSON frames decoded; ``[DONE]`` (and anything that is not JSON) kept as text."""
    out: list[Any] = []
    for item in items:
        try:
            out.append(json.loads(item))
        except ValueError:
            out.append(item)
    return out


def types(frames: list[Any]) -> list[str]:
    """The ``type`` of each frame (``[DONE]`` as itself)."""
    return [f["type"] if isinstance(f, dict) else f for f in frames]


async def create(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    """A non-streaming ``POST /runs/``; returns the run."""
    response = await client.post("/runs/", json={"message": "hi", "stream": False, **body})
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]
