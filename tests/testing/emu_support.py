"""Helpers for the emulator tests: a raw httpx client and a byte-level SSE frame reader."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from agentflow.testing import Emulator

BETA = "managed-agents-2026-04-01"


def headers(key: str = "test-key", beta: str | None = BETA) -> dict[str, str]:
    out = {"x-api-key": key}
    if beta is not None:
        out["anthropic-beta"] = beta
    return out


def raw_client(emu: Emulator, **kwargs: Any) -> httpx.AsyncClient:
    """An httpx client pointed at the emulator, with auth and beta headers set."""
    kwargs.setdefault("timeout", 10)
    return httpx.AsyncClient(base_url=emu.base_url + "/v1", headers=headers(emu.api_key), **kwargs)


def user_message(text: str = "hi") -> dict[str, Any]:
    return {"type": "user.message", "content": [{"type": "text", "text": text}]}


@dataclass
class Frame:
    """One SSE message as sent: ``event`` name, raw ``data`` text, or a comment."""

    event: str | None
    data: str
    comment: str | None = None

    def json(self) -> dict[str, Any]:
        return json.loads(self.data)  # type: ignore[no-any-return]


async def frames(response: httpx.Response) -> AsyncIterator[Frame]:
    """Split the raw body into SSE messages (blank-line separated), keeping comments."""
    buffer = ""
    async for chunk in response.aiter_text():
        buffer += chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            event = None
            data: list[str] = []
            comment = None
            for line in block.split("\n"):
                if line.startswith(":"):
                    comment = line[1:].strip()
                elif line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
            yield Frame(event, "\n".join(data), comment)


async def collect_until(
    response: httpx.Response, stop_type: str, *, keep_comments: bool = False
) -> list[Frame]:
    """Read frames until an event whose JSON type is ``stop_type`` (inclusive)."""
    out: list[Frame] = []
    async for frame in frames(response):
        if frame.comment is not None and not keep_comments:
            continue
        out.append(frame)
        if frame.event == stop_type:
            break
    return out


async def create_session(client: httpx.AsyncClient, **body: Any) -> str:
    response = await client.post(
        "/sessions", json={"agent": "agent_test", "environment_id": "env_test", **body}
    )
    response.raise_for_status()
    return response.json()["id"]  # type: ignore[no-any-return]


async def send(
    client: httpx.AsyncClient, session_id: str, *events: dict[str, Any]
) -> httpx.Response:
    return await client.post(f"/sessions/{session_id}/events", json={"events": list(events)})
