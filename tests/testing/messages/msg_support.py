"""Helpers for the Messages emulator tests: raw requests, an SSE splitter, the stream fixture.

Run as a script to rewrite ``tests/fixtures/messages_stream.sse`` after a deliberate change
to the wire format: ``python tests/testing/messages/msg_support.py``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx

from agentflow.testing import Burst, CustomTool, McpTool, Say, Scenario, Think, Tool, Turn, Usage
from agentflow.testing.messages import MessagesEmulator

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "messages_stream.sse"
VERSION = "2023-06-01"
MODEL = "claude-emulated"


def headers(key: str) -> dict[str, str]:
    return {"x-api-key": key, "anthropic-version": VERSION}


def raw_client(emu: MessagesEmulator, **kwargs: Any) -> httpx.AsyncClient:
    """An httpx client for the emulator, with the key and ``anthropic-version`` set."""
    return httpx.AsyncClient(
        base_url=emu.base_url, headers=headers(emu.api_key), timeout=10, **kwargs
    )


def body(messages: Sequence[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    """A request body with one user message (or ``messages``)."""
    msgs = list(messages) if messages is not None else [user("hi")]
    return {"model": MODEL, "max_tokens": 256, "messages": msgs, **extra}


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def assistant(content: list[dict[str, Any]]) -> dict[str, Any]:
    return {"role": "assistant", "content": content}


def results(content: list[dict[str, Any]], text: str = "ok") -> dict[str, Any]:
    """The user message answering every ``tool_use`` block of ``content``."""
    blocks = [
        {"type": "tool_result", "tool_use_id": b["id"], "content": text}
        for b in content
        if b["type"] == "tool_use"
    ]
    return {"role": "user", "content": blocks}


@dataclass
class Frame:
    """One SSE message as sent: ``event`` name and raw ``data`` text."""

    event: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


def split(text: str) -> list[Frame]:
    """Split an SSE body into messages (blank-line separated)."""
    out = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        event = None
        data: list[str] = []
        for line in block.split("\n"):
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        out.append(Frame(event, "\n".join(data)))
    return out


async def stream(client: httpx.AsyncClient, payload: dict[str, Any]) -> list[Frame]:
    """POST a streamed request and read its whole body (which must end cleanly)."""
    async with client.stream("POST", "/v1/messages", json={**payload, "stream": True}) as r:
        assert r.status_code == 200, await r.aread()
        raw = (await r.aread()).decode()
    return split(raw)


def final_content(frames: list[Frame]) -> list[dict[str, Any]]:
    """Rebuild the content blocks of a stream (text / thinking / tool input joined)."""
    blocks: dict[int, dict[str, Any]] = {}
    partial: dict[int, str] = {}
    for f in frames:
        if f.event == "content_block_start":
            d = f.json()
            blocks[d["index"]] = dict(d["content_block"])
        elif f.event == "content_block_delta":
            d = f.json()
            block, delta = blocks[d["index"]], d["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] = delta["signature"]
            else:
                partial[d["index"]] = partial.get(d["index"], "") + delta["partial_json"]
    for index, text in partial.items():
        if text:  # an empty input streams as one empty fragment
            blocks[index]["input"] = json.loads(text)
    return [blocks[i] for i in sorted(blocks)]


FIXTURE_SCENARIO = Scenario(
    [
        Turn(
            [
                Think(),
                Say("Let me check the weather, the time and the forecast for you — one moment."),
                Burst(200, "token"),
                Usage(),
                CustomTool("get_weather", {"city": "São Paulo", "units": "metric"}),
                Tool("get_time", {"zone": "America/Sao_Paulo", "format": "24h"}),
                McpTool("forecast", "daily", {"days": [1, 2, 3], "detail": {"hourly": True}}),
                Say("Sunny, 14:05, and a dry week ahead."),
            ]
        )
    ]
)
"""One response with thinking, text, a 200-delta burst and three parallel tool calls."""


async def record_fixture() -> bytes:
    """The raw body of the fixture scenario's first response, from a fresh emulator."""
    async with MessagesEmulator(FIXTURE_SCENARIO) as emu, raw_client(emu) as client:
        payload = body([user("What is the weather in São Paulo?")], stream=True)
        async with client.stream("POST", "/v1/messages", json=payload) as response:
            assert response.status_code == 200
            return await response.aread()


if __name__ == "__main__":
    FIXTURE.write_bytes(anyio.run(record_fixture))
    print(f"wrote {FIXTURE}")
