"""The emulator's signed session webhooks, end to end on loopback: emulator -> webhook_app ->
wake-up queue -> Worker -> the answer posted back to the emulator."""

from __future__ import annotations

from typing import Any

import anthropic
import anyio
import pytest
import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from test_webhooks import SECRET, Receiver, queued

from agentflow import ManagedAgentsClient, custom_tool_result, user_message
from agentflow.cluster import Wake, Worker, webhook_app
from agentflow.testing import CustomTool, Emulator, Say, Scenario, Turn

SCENARIO = Scenario(
    [Turn([Say("Checking."), CustomTool("get_weather", {"city": "Paris"}), Say("Sunny.")])]
)


async def test_webhooks_are_signed_thin_and_parse_with_the_sdk() -> None:
    got: list[tuple[bytes, dict[str, str]]] = []

    async def record(request: Request) -> Response:
        got.append((await request.body(), dict(request.headers)))
        return Response(status_code=204)

    sink = Receiver(Starlette(routes=[Route("/", record, methods=["POST"])]))
    async with (
        sink,
        Emulator(SCENARIO, webhook_url=sink.base_url + "/", webhook_secret=SECRET) as emu,
    ):
        session_id = emu.create_session()
        emu.send(session_id, [user_message("Weather?")])
        with anyio.fail_after(10):
            await emu.wait_for_event(session_id, "session.status_idle")
            deliveries = await emu.wait_for_webhooks(2)
    assert [(d.type, d.session_id, d.status) for d in deliveries] == [
        ("session.status_run_started", session_id, 204),
        ("session.requires_action", session_id, 204),
    ]
    sdk = anthropic.Anthropic(api_key="unused", webhook_key=SECRET)
    for (body, headers), delivery in zip(got, deliveries, strict=True):
        event = sdk.beta.webhooks.unwrap(body.decode(), headers=headers)  # verifies, then parses
        assert event.type == "event" and event.id == delivery.webhook_id
        assert headers["webhook-id"] == delivery.webhook_id
        assert (event.data.type, event.data.id) == (delivery.type, session_id)
        assert type(event.data).__name__.startswith("BetaWebhookSession")  # not an unknown shape


def test_a_webhook_url_must_be_loopback_and_signed() -> None:
    with pytest.raises(ValueError, match="loopback"):
        Emulator(webhook_url="http://example.com/hooks", webhook_secret=SECRET)
    with pytest.raises(ValueError, match="both"):
        Emulator(webhook_url="http://127.0.0.1:9/hooks")
    with pytest.raises(ValueError, match="whsec_"):
        Emulator(webhook_url="http://127.0.0.1:9/hooks", webhook_secret="whsec_")


async def test_webhooks_wake_a_worker_that_answers_the_session(
    redis_url: str, aredis: aioredis.Redis
) -> None:
    receiver = Receiver(webhook_app(secret=SECRET, redis=aredis))
    tokens: list[int] = []
    settled = anyio.Event()

    def outcome(wake: Wake, what: str) -> None:
        if wake.reason == "session.status_idled":  # the end_turn idle's wake-up was handled
            settled.set()

    async with (
        receiver,
        Emulator(
            SCENARIO,
            webhook_url=receiver.base_url + "/",
            webhook_secret=SECRET,
            webhook_duplicates=1.0,  # every delivery is redelivered once
        ) as emu,
    ):

        async def work(session_id: str, token: int) -> None:
            # The callback the run loop will become: read the session, answer what waits.
            tokens.append(token)
            async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
                for call_id in emu.pending(session_id):
                    await client.events.send(session_id, [custom_tool_result(call_id, "22 C")])

        worker = Worker(work, redis=redis_url, lease_ttl=2.0, block=0.1, on_outcome=outcome)
        session_id = emu.create_session()
        async with anyio.create_task_group() as tg:
            tg.start_soon(worker.run)
            emu.send(session_id, [user_message("Weather?")])
            with anyio.fail_after(15):
                idle: dict[str, Any] = await emu.wait_for_event(
                    session_id, "session.status_idle", count=2
                )
                await settled.wait()
            worker.stop()
        deliveries = emu.webhook_deliveries
    assert idle["stop_reason"]["type"] == "end_turn"
    assert all(d.status == 200 for d in deliveries)
    first, duplicate = deliveries[0], deliveries[1]
    assert duplicate.duplicate and duplicate.webhook_id == first.webhook_id
    custom = [e for e in emu.history(session_id) if e["type"] == "user.custom_tool_result"]
    assert len(custom) == 1  # one answer, though every webhook came twice
    assert await queued(aredis) == []  # every wake-up acknowledged
    assert worker.outcomes["done"] >= 1 and tokens == sorted(tokens)
