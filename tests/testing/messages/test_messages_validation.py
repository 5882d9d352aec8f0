"""Bad requests get the Messages API's 400 / 401 answers, naming what is wrong."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest
from msg_support import VERSION, assistant, body, raw_client, user

from agentflow.testing import CustomTool, Scenario, Turn
from agentflow.testing.messages import MessagesEmulator

USE_A = {"type": "tool_use", "id": "toolu_a", "name": "f", "input": {}}
USE_B = {"type": "tool_use", "id": "toolu_b", "name": "g", "input": {}}


def _result(tool_id: str) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": tool_id, "content": "ok"}


BAD_BODIES = [
    ({"max_tokens": 5, "messages": [user("x")]}, "model: Field required"),
    ({"model": "m", "messages": [user("x")]}, "max_tokens: Field required"),
    (body(max_tokens=0), "max_tokens: Field required"),
    (body(max_tokens=True), "max_tokens: Field required"),
    ({"model": "m", "max_tokens": 5}, "messages: Field required"),
    (body([]), "at least one message is required"),
    (body(stream="yes"), "stream: expected a boolean"),
    (body([{"role": "system", "content": "x"}]), "messages.0.role"),
    (body([{"role": "user", "content": 7}]), "messages.0.content"),
    (body([{"role": "user", "content": [{"text": "no type"}]}]), "messages.0.content.0"),
    (body([{"role": "user", "content": []}]), "messages.0: all messages must have non-empty"),
    (body([assistant([{"type": "text", "text": "x"}])]), "first message must use the 'user'"),
    (body([user("a"), user("b")]), "messages.1: roles must alternate"),
    (body([user("a"), assistant([_result("toolu_a")])]), "tool_result blocks are not allowed"),
    (
        body(
            [
                user("a"),
                assistant([USE_A, USE_B]),
                {"role": "user", "content": [_result("toolu_a")]},
            ]
        ),
        "tool_use ids were found without tool_result blocks immediately after: toolu_b",
    ),
    (
        body([user("a"), assistant([USE_A, USE_B]), user("forgot them")]),
        "without tool_result blocks immediately after: toolu_a, toolu_b",
    ),
    (body([user("a"), assistant([USE_A])]), "messages.2: tool_use ids were found"),
    (
        body(
            [
                user("a"),
                assistant([USE_A]),
                {"role": "user", "content": [_result("toolu_a"), _result("toolu_zz")]},
            ]
        ),
        "messages.2.content.1: unexpected tool_use_id found in tool_result blocks: toolu_zz",
    ),
    (body([{"role": "user", "content": [_result("toolu_a")]}]), "unexpected tool_use_id"),
    (body(tools="all"), "tools: expected a list"),
    (body(tools=[{"name": "f"}]), "tools.0.input_schema: Field required"),
    (
        body(tools=[{"name": "f", "input_schema": {}}, {"name": "f", "input_schema": {}}]),
        "tool names must be unique",
    ),
    (body(system=5), "system: expected a string"),
]


@pytest.mark.parametrize(("payload", "message"), BAD_BODIES, ids=[m[:40] for _, m in BAD_BODIES])
async def test_a_bad_body_is_a_400_naming_the_problem(
    payload: dict[str, Any], message: str
) -> None:
    async with MessagesEmulator() as emu, raw_client(emu) as client:
        with anyio.fail_after(10):
            response = await client.post("/v1/messages", json={**payload})
        record = emu.requests[-1]
    assert response.status_code == 400
    error = response.json()
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert message in error["error"]["message"]
    assert record.status == 400 and record.body == payload and record.position is None


async def test_a_body_that_is_not_json_is_a_400() -> None:
    async with MessagesEmulator() as emu, raw_client(emu) as client:
        bad = await client.post("/v1/messages", content=b"{nope")
        empty = await client.post("/v1/messages", content=b"")
        listed = await client.post("/v1/messages", json=[1])
    assert "not valid JSON" in bad.json()["error"]["message"]
    assert "body is empty" in empty.json()["error"]["message"]
    assert "must be a JSON object" in listed.json()["error"]["message"]
    assert {r.status_code for r in (bad, empty, listed)} == {400}


async def test_answering_every_tool_use_is_accepted() -> None:
    scenario = Scenario([Turn([CustomTool("f"), CustomTool("g")])])
    convo = [
        user("a"),
        assistant([USE_A, USE_B]),
        {"role": "user", "content": [_result("toolu_b"), _result("toolu_a")]},
    ]
    async with MessagesEmulator(scenario) as emu, raw_client(emu) as client:
        response = await client.post("/v1/messages", json=body(convo))
    assert response.status_code == 200
    assert response.json()["stop_reason"] == "end_turn"


@pytest.mark.parametrize(
    "auth",
    [
        {},
        {"x-api-key": "sk-wrong"},
        {"authorization": "Bearer sk-wrong"},
        {"authorization": "sk-1"},
    ],
    ids=["none", "wrong-x-api-key", "wrong-bearer", "not-bearer"],
)
async def test_a_missing_or_wrong_key_is_a_401(auth: dict[str, str]) -> None:
    async with (
        MessagesEmulator(api_key="sk-1") as emu,
        httpx.AsyncClient(
            base_url=emu.base_url, headers={"anthropic-version": VERSION, **auth}
        ) as client,
    ):
        response = await client.post("/v1/messages", json=body())
    assert response.status_code == 401
    assert response.json()["error"] == {
        "type": "authentication_error",
        "message": "invalid x-api-key",
    }
    assert "sk-wrong" not in repr(emu.requests)


@pytest.mark.parametrize(
    "auth", [{"x-api-key": "sk-1"}, {"authorization": "Bearer sk-1"}], ids=["x-api-key", "bearer"]
)
async def test_either_header_carries_the_key(auth: dict[str, str]) -> None:
    async with (
        MessagesEmulator(api_key="sk-1") as emu,
        httpx.AsyncClient(
            base_url=emu.base_url, headers={"anthropic-version": VERSION, **auth}
        ) as client,
    ):
        response = await client.post("/v1/messages", json=body())
    assert response.status_code == 200
    assert emu.requests[0].headers is not None
    assert not {"x-api-key", "authorization"} & set(emu.requests[0].headers)


async def test_the_anthropic_version_header_is_required() -> None:
    async with (
        MessagesEmulator() as emu,
        httpx.AsyncClient(base_url=emu.base_url, headers={"x-api-key": "k"}) as client,
    ):
        response = await client.post("/v1/messages", json=body())
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "anthropic-version: header is required"
