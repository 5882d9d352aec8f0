"""The official anthropic SDK (2.10.0) drives the Messages emulator unchanged."""

from __future__ import annotations

from typing import Any

import anthropic
import anyio
import pytest
from anthropic import AsyncAnthropic
from msg_support import MODEL

from agentflow.testing import (
    CustomTool,
    Emulator,
    Error,
    McpTool,
    Say,
    Scenario,
    Stop,
    Think,
    Tool,
    Turn,
    Usage,
)
from agentflow.testing.messages import MessagesEmulator

WEATHER = Scenario(
    [
        Turn(
            [
                Say("Checking naïve café ☕ weather.", thinking=True),
                CustomTool("get_weather", {"city": "Paris", "note": 'say "hi" — ok'}),
                Tool("get_time", {"zone": "Europe/Paris"}),
                McpTool("maps", "distance", {"from": "Paris", "to": "Lyon"}),
                Say("Sunny and 21 °C."),
            ]
        ),
        Turn([Say("Anything else?")]),
    ]
)
TOOLS: list[Any] = [
    {"name": n, "description": n, "input_schema": {"type": "object"}}
    for n in ("get_weather", "get_time", "distance")
]


def _client(emu: MessagesEmulator, **kwargs: Any) -> AsyncAnthropic:
    return AsyncAnthropic(api_key=emu.api_key, base_url=emu.base_url, max_retries=0, **kwargs)


def _as_param(block: Any) -> dict[str, Any]:
    return block.model_dump(exclude_none=True)  # type: ignore[no-any-return]


async def test_emulator_with_the_messages_dialect_is_the_messages_emulator() -> None:
    emu = Emulator(WEATHER, dialect="messages")
    assert isinstance(emu, MessagesEmulator)
    assert emu.scenario is WEATHER


async def test_sdk_streams_text_then_parallel_tool_use_then_finishes_the_turn() -> None:
    async with MessagesEmulator(WEATHER, api_key="sk-required") as emu:
        client = _client(emu)
        messages: list[Any] = [{"role": "user", "content": "What is the weather?"}]
        try:
            with anyio.fail_after(10):
                async with client.messages.stream(
                    model=MODEL, max_tokens=512, messages=messages, tools=TOOLS
                ) as stream:
                    texts = [t async for t in stream.text_stream]
                    first = await stream.get_final_message()
                uses = [b for b in first.content if b.type == "tool_use"]
                messages.append(
                    {"role": "assistant", "content": [_as_param(b) for b in first.content]}
                )
                messages.append(
                    {
                        "role": "user",
                        "content": [
                            {"type": "tool_result", "tool_use_id": u.id, "content": "ok"}
                            for u in uses
                        ],
                    }
                )
                async with client.messages.stream(
                    model=MODEL, max_tokens=512, messages=messages, tools=TOOLS
                ) as stream:
                    second = await stream.get_final_message()
        finally:
            await client.close()
        records = emu.requests
    assert len(texts) > 1 and "".join(texts) == "Checking naïve café ☕ weather."
    assert [b.type for b in first.content] == [
        "thinking",
        "text",
        "tool_use",
        "tool_use",
        "tool_use",
    ]
    assert first.content[0].signature  # type: ignore[union-attr]
    assert first.stop_reason == "tool_use"
    assert [(u.name, u.input) for u in uses] == [
        ("get_weather", {"city": "Paris", "note": 'say "hi" — ok'}),
        ("get_time", {"zone": "Europe/Paris"}),
        ("distance", {"from": "Paris", "to": "Lyon"}),
    ]
    assert len({u.id for u in uses}) == 3 and all(u.id.startswith("toolu_") for u in uses)
    assert second.stop_reason == "end_turn"
    assert [b.text for b in second.content if b.type == "text"] == ["Sunny and 21 °C."]
    assert second.usage.output_tokens >= 1 and second.usage.input_tokens > 1
    # the SDK sends the key as a Bearer token, which the emulator accepts
    assert [r.status for r in records] == [200, 200]
    assert records[0].headers is not None and "authorization" not in records[0].headers
    assert records[1].position is not None and records[1].position.segment == 1


async def test_sdk_non_streaming_create_returns_the_whole_message() -> None:
    async with MessagesEmulator(WEATHER) as emu:
        client = _client(emu)
        try:
            with anyio.fail_after(10):
                message = await client.messages.create(
                    model=MODEL, max_tokens=512, messages=[{"role": "user", "content": "q"}]
                )
        finally:
            await client.close()
    assert message.model == MODEL
    assert message.stop_reason == "tool_use"
    assert [b.type for b in message.content] == [
        "thinking",
        "text",
        "tool_use",
        "tool_use",
        "tool_use",
    ]
    assert message.content[2].input == {"city": "Paris", "note": 'say "hi" — ok'}  # type: ignore[union-attr]


async def test_sdk_sees_a_refusal_with_stop_details_and_cumulative_usage() -> None:
    scenario = Scenario(
        [Turn([Think(), Say("I can't help with that."), Usage(), Stop("refusal", "cyber", "No.")])]
    )
    async with MessagesEmulator(scenario) as emu:
        client = _client(emu)
        try:
            with anyio.fail_after(10):
                async with client.messages.stream(
                    model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "q"}]
                ) as stream:
                    deltas = [e async for e in stream if e.type == "message_delta"]
                    final = await stream.get_final_message()
        finally:
            await client.close()
    assert final.stop_reason == "refusal"
    assert final.stop_details is not None and final.stop_details.category == "cyber"
    assert final.stop_details.explanation == "No."
    # the Usage step adds a message_delta with the usage so far; totals are cumulative
    assert [d.delta.stop_reason for d in deltas] == [None, "refusal"]
    assert final.usage.output_tokens == deltas[-1].usage.output_tokens


async def test_sdk_raises_a_mid_stream_error_then_the_retry_succeeds() -> None:
    scenario = Scenario([Turn([Say("Partial."), Error("overloaded_error"), Say("Whole.")])])
    async with MessagesEmulator(scenario) as emu:
        client = _client(emu)
        request: Any = {
            "model": MODEL,
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "q"}],
        }
        try:
            with anyio.fail_after(10):
                seen: list[str] = []
                with pytest.raises(anthropic.APIStatusError) as info:
                    async with client.messages.stream(**request) as stream:
                        async for text in stream.text_stream:
                            seen.append(text)
                async with client.messages.stream(**request) as stream:
                    retried = await stream.get_final_text()
        finally:
            await client.close()
    # after HTTP 200 the SDK cannot pick OverloadedError: it matches on the type instead
    assert info.value.status_code == 200
    assert info.value.type == "overloaded_error"
    assert not isinstance(info.value, anthropic.OverloadedError)
    assert "".join(seen) == "Partial."
    assert retried == "Partial.Whole."


async def test_sdk_retries_a_529_before_the_stream_by_itself() -> None:
    scenario = Scenario(
        [Turn([Error("overloaded_error", extra={"status": 529, "retry_after": 0.001}), Say("Up.")])]
    )
    async with MessagesEmulator(scenario) as emu:
        client = AsyncAnthropic(api_key=emu.api_key, base_url=emu.base_url, max_retries=2)
        try:
            with anyio.fail_after(10):
                async with client.messages.stream(
                    model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "q"}]
                ) as stream:
                    text = await stream.get_final_text()
        finally:
            await client.close()
        statuses = [r.status for r in emu.requests]
        retry_counts = [r.headers["x-stainless-retry-count"] for r in emu.requests if r.headers]
    assert text == "Up."
    assert statuses == [529, 200]
    assert retry_counts == ["0", "1"]


async def test_sdk_rejects_a_wrong_key_with_authentication_error() -> None:
    async with MessagesEmulator(WEATHER, api_key="sk-right") as emu:
        client = AsyncAnthropic(api_key="sk-wrong", base_url=emu.base_url, max_retries=0)
        try:
            with anyio.fail_after(10), pytest.raises(anthropic.AuthenticationError) as info:
                await client.messages.create(
                    model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "q"}]
                )
        finally:
            await client.close()
    assert info.value.type == "authentication_error"
    assert "sk-wrong" not in str(info.value) and "sk-right" not in repr(emu.requests)


def test_sync_sdk_against_the_emulator_in_a_thread() -> None:
    with MessagesEmulator(Scenario.simple("Hello from a thread.")).run_in_thread() as emu:
        client = anthropic.Anthropic(api_key=emu.api_key, base_url=emu.base_url, max_retries=0)
        with client:
            with client.messages.stream(
                model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "q"}]
            ) as stream:
                text = stream.get_final_text()
            emu.fail_next(400, message="thread knob")
            with pytest.raises(anthropic.BadRequestError, match="thread knob"):
                client.messages.create(
                    model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "q"}]
                )
    assert text == "Hello from a thread."
