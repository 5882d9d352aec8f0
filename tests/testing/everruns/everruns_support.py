"""Support for the Everruns emulator tests: raw httpx clients and a byte-level SSE reader."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from agentflow.testing.everruns import EverrunsEmulator


def management(emu: EverrunsEmulator, key: str | None = None) -> httpx.AsyncClient:
    """A client on ``{base_url}/v1`` sending the token the way everruns-sdk does (no Bearer)."""
    return httpx.AsyncClient(
        base_url=emu.base_url + "/v1",
        headers={"Authorization": key or emu.api_key},
        timeout=10,
    )


def channel(emu: EverrunsEmulator, key: str | None = None) -> httpx.AsyncClient:
    """A client on the channel surface (``agent_url``) with ``Authorization: Bearer``."""
    return httpx.AsyncClient(
        base_url=emu.agent_url,
        headers={"Authorization": f"Bearer {key or emu.agent_key}"},
        timeout=10,
    )


def message(text: str = "hi") -> dict[str, Any]:
    """A ``POST .../messages`` body."""
    return {"message": {"role": "user", "content": [{"type": "text", "text": text}]}}


async def create_session(client: httpx.AsyncClient, **body: Any) -> str:
    response = await client.post("/sessions", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]  # type: ignore[no-any-return]


async def send(client: httpx.AsyncClient, session_id: str, text: str = "hi") -> httpx.Response:
    response = await client.post(f"/sessions/{session_id}/messages", json=message(text))
    assert response.status_code == 201, response.text
    return response


@dataclass
class SSEFrame:
    """One SSE message as sent: its ``id:``, ``event:``, ``retry:`` and ``data:`` lines, or a
    comment."""

    event: str | None
    data: str
    id: str | None = None
    retry: str | None = None
    comment: str | None = None
    raw: str = ""

    def json(self) -> Any:
        return json.loads(self.data)


def parse_block(block: str) -> SSEFrame:
    """Parse one blank-line-terminated SSE block."""
    frame = SSEFrame(None, "", raw=block + "\n\n")
    data: list[str] = []
    for line in block.split("\n"):
        if line.startswith(":"):
            frame.comment = line[1:].strip()
        elif line.startswith("event: "):
            frame.event = line[7:]
        elif line.startswith("id: "):
            frame.id = line[4:]
        elif line.startswith("retry: "):
            frame.retry = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
    frame.data = "\n".join(data)
    return frame


async def frames(response: httpx.Response) -> AsyncIterator[SSEFrame]:
    """Split the raw body into SSE messages (blank-line separated), keeping comments."""
    buffer = ""
    async for chunk in response.aiter_text():
        buffer += chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            yield parse_block(block)


async def read_until(
    source: httpx.Response | AsyncIterator[SSEFrame],
    event: str,
    *,
    count: int = 1,
    comments: bool = False,
) -> list[SSEFrame]:
    """Frames up to and including the ``count``-th ``event`` frame (comments dropped unless
    asked for). Pass ``frames(response)`` to read one response in several steps."""
    out: list[SSEFrame] = []
    seen = 0
    it = frames(source) if isinstance(source, httpx.Response) else source
    async for frame in it:
        if frame.comment is not None and not comments:
            continue
        out.append(frame)
        if frame.event == event:
            seen += 1
            if seen == count:
                break
    return out


def event_ids(got: list[SSEFrame]) -> list[str]:
    """The ``id:`` of every event frame (control frames have none)."""
    return [f.id for f in got if f.id is not None]
