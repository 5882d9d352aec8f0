"""The emulator's signed session webhooks, end to end on loopback: emulator -> webhook_app ->
wake-up queue -> Worker -> the answer posted back to the emulator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

import anthropic
import anyio
import httpx
import pytest
import redis.asyncio as aioredis
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from test_webhooks import SECRET, Receiver, queued

from agentflow import ManagedAgentsClient, custom_tool_result, user_message
from agentflow.cli import main
from agentflow.cluster import Wake, Worker, webhook_app
from agentflow.testing import CustomTool, Emulator, Say, Scenario, Turn

HEADERS = {"x-api-key": "k", "anthropic-beta": "managed-agents-2026-04-01"}
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


async def test_the_emulator_command_delivers_signed_webhooks() -> None:
    got: list[dict[str, Any]] = []
    arrived = anyio.Event()

    async def record(request: Request) -> Response:
        body = await request.body()
        got.append(Webhook(SECRET).verify(body, dict(request.headers)))
        arrived.set()
        return Response(status_code=204)

    sink = Receiver(Starlette(routes=[Route("/", record, methods=["POST"])]))
    async with sink:
        argv = [sys.executable, "-m", "agentflow", "emulator", "--webhook-url", sink.base_url + "/"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "AGENTFLOW_WEBHOOK_SECRET": SECRET}
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
        try:
            assert proc.stdout is not None
            with anyio.fail_after(20):
                line = await anyio.to_thread.run_sync(proc.stdout.readline)
                url = line.split("listening on ")[1].split()[0]
                async with httpx.AsyncClient(base_url=url + "/v1", timeout=5) as client:
                    body: dict[str, Any] = {"agent": "a", "environment_id": "e"}
                    body["initial_events"] = [user_message("hi")]
                    created = await client.post("/sessions", headers=HEADERS, json=body)
                await arrived.wait()
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=10)
            if proc.stdout is not None:
                proc.stdout.close()
    assert created.status_code == 200
    assert got[0]["data"]["id"] == created.json()["id"]
    assert got[0]["data"]["type"] == "session.status_run_started"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--webhook-url", "http://example.com/hooks", "--webhook-secret", SECRET], "loopback"),
        (["--webhook-url", "http://127.0.0.1:9/hooks"], "both webhook_url and webhook_secret"),
    ],
)
def test_the_command_refuses_bad_webhook_options(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    monkeypatch.delenv("AGENTFLOW_WEBHOOK_SECRET", raising=False)
    assert main(["emulator", *argv]) == 2
    assert message in capsys.readouterr().err
