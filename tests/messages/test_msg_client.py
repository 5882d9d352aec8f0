"""MessagesClient: the SDK's key, base URL and headers; options; secrets kept out of sight."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import httpx
import pytest
from loop_support import FAST, MODEL, new_app, scenario

from agentflow import AuthenticationError
from agentflow.messages import API_VERSION, Conversation, MessagesClient
from agentflow.testing import Say
from agentflow.testing.messages import MessagesEmulator

SECRET = "sk-ant-very-secret-key-0123456789"


async def _capture(emu: MessagesEmulator, **options: Any) -> tuple[list[httpx.Request], Any]:
    sent: list[httpx.Request] = []

    async def hook(request: httpx.Request) -> None:
        sent.append(request)

    http = httpx.AsyncClient(event_hooks={"request": [hook]}, timeout=10)
    async with http:
        client = MessagesClient(
            api_key=SECRET, base_url=emu.base_url, http_client=http, model=MODEL,
            max_tokens=64, backoff=FAST, **options,
        )  # fmt: skip
        with anyio.fail_after(10):
            result = await new_app().run(client, Conversation(), send=["hi"])
    return sent, result


async def test_requests_carry_the_sdk_headers_and_a_bearer_key() -> None:
    async with MessagesEmulator(scenario(Say("ok")), api_key=SECRET) as emu:
        sent, result = await _capture(emu, default_headers={"anthropic-beta": "some-beta"})
    (request,) = sent
    assert request.method == "POST" and request.url.path == "/v1/messages"
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    assert "x-api-key" not in request.headers
    assert request.headers["anthropic-version"] == API_VERSION == "2026-10-21"
    assert request.headers["accept"] == "application/json"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["anthropic-beta"] == "some-beta"
    assert request.headers["user-agent"].startswith("agentflow/")
    assert result.stop_reason == "end_turn"


async def test_key_and_base_url_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    async with MessagesEmulator(scenario(Say("from env")), api_key=SECRET) as emu:
        monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", emu.base_url)
        async with MessagesClient(model=MODEL, max_tokens=64) as client:
            assert client.base_url == emu.base_url
            with anyio.fail_after(10):
                result = await new_app().run(client, Conversation(), send=["hi"])
    assert result.text == "from env"


def test_defaults_and_argument_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    with pytest.raises(AuthenticationError, match="ANTHROPIC_API_KEY"):
        MessagesClient(model=MODEL, max_tokens=10)
    client = MessagesClient(api_key=SECRET, model=MODEL, max_tokens=10)
    assert client.base_url == "https://api.anthropic.com" and client.max_retries == 2
    with pytest.raises(ValueError, match="max_tokens"):
        MessagesClient(api_key=SECRET, model=MODEL, max_tokens=0)
    with pytest.raises(ValueError, match="model"):
        MessagesClient(api_key=SECRET, model="", max_tokens=5)
    with pytest.raises(ValueError, match="whitespace"):
        MessagesClient(api_key=SECRET + "\n", model=MODEL, max_tokens=5)


async def test_the_key_never_shows_in_reprs_errors_or_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with MessagesEmulator(scenario(Say("x")), api_key="sk-the-right-one-123") as emu:
        client = MessagesClient(api_key=SECRET, base_url=emu.base_url, model=MODEL, max_tokens=5)
        async with client:
            with anyio.fail_after(10), pytest.raises(AuthenticationError) as caught:
                await new_app().run(client, Conversation(), send=["hi"])
            channel = client.channel(Conversation(), checkpoint=new_app().actions.checkpoint)
            shown = [repr(client), repr(channel), str(caught.value), repr(caught.value)]
    assert caught.value.status == 401
    assert all(SECRET not in text for text in shown)
    assert SECRET not in caplog.text


async def test_run_options_override_request_parameters_and_typos_are_refused() -> None:
    app = new_app()
    extra_tool = {"type": "web_search_20250305", "name": "web_search", "max_uses": 1}
    async with MessagesEmulator(scenario(Say("a"), then=[Say("b")])) as emu:
        client = MessagesClient(
            api_key=SECRET, base_url=emu.base_url, model=MODEL, max_tokens=64,
            system="Be brief.", temperature=0.2, tools=[extra_tool],
            extra_body={"metadata": {"user_id": "u1"}},
        )  # fmt: skip
        conv = Conversation()
        async with client:
            with anyio.fail_after(10):
                await app.run(client, conv, send=["one"])
                await app.run(client, conv, send=["two"], model="claude-other", system=None)
            with pytest.raises(TypeError, match="unknown Messages option"):
                await app.run(client, conv, send=["three"], temprature=1)
            with pytest.raises(TypeError, match="follows a Conversation"):
                await app.run(client, "conv_123", send=["x"])
        first, second = (r.body for r in emu.requests)
    assert (first["model"], first["system"], first["temperature"]) == (MODEL, "Be brief.", 0.2)
    assert first["tools"] == [extra_tool] and first["metadata"] == {"user_id": "u1"}
    assert second["model"] == "claude-other" and "system" not in second


def test_an_extra_tool_named_like_an_app_tool_is_refused() -> None:
    client = MessagesClient(
        api_key=SECRET, model=MODEL, max_tokens=5, tools=[{"name": "f", "input_schema": {}}]
    )
    with pytest.raises(ValueError, match="both App tools"):
        client.request_body([], [{"name": "f", "input_schema": {}}])
