"""webhook_app served by uvicorn on 127.0.0.1, with a real redis-server behind it."""

from __future__ import annotations

import base64
import json
import logging
import secrets
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from standardwebhooks import Webhook
from support import stream_fields

from agentflow.cluster import SessionIndex, webhook_app
from agentflow.testing import LocalServer
from agentflow.testing.redis_server import RedisServer


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


SECRET = new_secret()


class Receiver(LocalServer):
    """The webhook app on a loopback port."""

    def __init__(self, app: Any) -> None:
        super().__init__()
        self.app = app

    def build_app(self) -> Any:
        return self.app


@pytest.fixture
async def receiver(aredis: aioredis.Redis) -> AsyncIterator[Receiver]:
    async with Receiver(webhook_app(secret=SECRET, redis=aredis, path="/hooks")) as server:
        yield server


def payload(dtype: str = "session.requires_action", session: str = "sesn_1") -> str:
    data = {"type": dtype, "id": session, "organization_id": "org_1", "workspace_id": "wrk_1"}
    created = "2026-04-01T00:00:00Z"
    return json.dumps({"type": "event", "id": "wevt_1", "created_at": created, "data": data})


def signed(
    body: str, msg_id: str = "msg_1", *, secret: str = SECRET, age: timedelta = timedelta()
) -> dict[str, str]:
    when = datetime.now(timezone.utc) - age
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, when, body),
    }


async def post(server: Receiver, body: str, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(server.base_url + "/hooks", content=body, headers=headers)


async def queued(aredis: aioredis.Redis) -> list[dict[str, str]]:
    return await stream_fields(aredis, "agentflow:{wake}:stream")


async def test_a_signed_webhook_queues_one_wake_up(
    receiver: Receiver, aredis: aioredis.Redis
) -> None:
    body = payload()
    response = await post(receiver, body, signed(body))
    assert (response.status_code, response.json()) == (200, {"status": "queued"})
    assert await queued(aredis) == [
        {"session": "sesn_1", "reason": "session.requires_action", "webhook_id": "msg_1"}
    ]


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (lambda b: signed(b, secret=new_secret()), "No matching signature"),
        (lambda b: signed(b, age=timedelta(minutes=10)), "too old"),
        (lambda b: signed(b, age=timedelta(minutes=-10)), "too new"),
        (lambda b: {"content-type": "application/json"}, "Missing required headers"),
        (lambda b: signed(b) | {"webhook-signature": "garbage"}, "malformed"),
        (lambda b: signed(b) | {"webhook-id": "msg_other"}, "No matching signature"),
    ],
    ids=["wrong-secret", "10-minutes-old", "from-the-future", "unsigned", "garbled", "re-labelled"],
)
async def test_a_bad_or_stale_signature_is_refused_and_queues_nothing(
    receiver: Receiver, aredis: aioredis.Redis, headers: Any, reason: str
) -> None:
    body = payload()
    response = await post(receiver, body, headers(body))
    assert response.status_code == 401
    assert reason in response.json()["error"]
    assert await queued(aredis) == []
    assert await aredis.keys("agentflow:{wake}:*") == []  # not even the redelivery marker


async def test_a_tampered_body_is_refused(receiver: Receiver, aredis: aioredis.Redis) -> None:
    headers = signed(payload(session="sesn_1"))
    response = await post(receiver, payload(session="sesn_other"), headers)
    assert response.status_code == 401
    assert await queued(aredis) == []


async def test_a_redelivery_is_dropped(receiver: Receiver, aredis: aioredis.Redis) -> None:
    body = payload()
    first = await post(receiver, body, signed(body, "msg_7"))
    again = await post(receiver, body, signed(body, "msg_7"))  # re-signed, same webhook-id
    assert first.json() == {"status": "queued"} and again.json() == {"status": "duplicate"}
    assert again.status_code == 200  # acknowledged, so the sender stops retrying
    assert len(await queued(aredis)) == 1


async def test_unknown_types_are_acknowledged_and_ignored(
    receiver: Receiver, aredis: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="agentflow.cluster.webhooks")
    for n, dtype in enumerate(["session.teleported", "agent.created", "session.archived"]):
        body = payload(dtype)
        response = await post(receiver, body, signed(body, f"msg_{n}"))
        assert (response.status_code, response.json()) == (200, {"status": "ignored"})
    assert await queued(aredis) == []
    assert await SessionIndex(aredis).sessions() == []
    logged = [r.getMessage() for r in caplog.records if r.name == "agentflow.cluster.webhooks"]
    assert any("'session.teleported' ignored" in m for m in logged)
    assert any("'agent.created' ignored" in m for m in logged)


async def test_a_session_that_starts_working_is_noted_for_the_sweep(
    receiver: Receiver, aredis: aioredis.Redis
) -> None:
    body = payload("session.status_run_started", session="sesn_busy")
    response = await post(receiver, body, signed(body))
    assert (response.status_code, response.json()) == (200, {"status": "noted"})
    assert await queued(aredis) == []  # nothing to do yet: the next webhook wakes a worker
    assert await SessionIndex(aredis).sessions() == ["sesn_busy"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "'data' object"),
        (json.dumps({"type": "event", "data": {"id": "sesn_1"}}), "data.type"),
        (json.dumps({"type": "event", "data": {"type": "session.status_idled"}}), "data.id"),
    ],
)
async def test_a_signed_but_malformed_payload_gets_400(
    receiver: Receiver, aredis: aioredis.Redis, body: str, error: str
) -> None:
    response = await post(receiver, body, signed(body))
    assert response.status_code == 400 and error in response.json()["error"]
    assert await queued(aredis) == []


async def test_only_post_is_served(receiver: Receiver) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(receiver.base_url + "/hooks")).status_code == 405


async def test_redis_down_answers_503_so_the_sender_retries(
    redis_server: RedisServer, receiver: Receiver
) -> None:
    redis_server.stop()
    body = payload()
    response = await post(receiver, body, signed(body))
    assert response.status_code == 503


def test_a_bad_secret_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="signing secret"):
        webhook_app(secret="", redis="redis://127.0.0.1:1/0")
    with pytest.raises(ValueError, match="whsec_") as info:
        webhook_app(secret="whsec_***not-base64***", redis="redis://127.0.0.1:1/0")
    assert "not-base64" not in str(info.value)
