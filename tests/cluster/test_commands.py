"""The ``agentflow worker`` and ``agentflow webhooks`` commands: options checked up front, the
receiver served on loopback and stopped by a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta

import anyio
import httpx
import pytest
import redis.asyncio as aioredis
from test_webhooks import SECRET, payload, queued, signed

from agentflow.cli import main


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["worker", "--app", "x:app"], {}, "no Redis URL"),
        (
            ["worker", "--app", "x:app", "--redis", "redis://127.0.0.1:1/0", "-c", "0"],
            {},
            "positive",
        ),
        (["webhooks"], {}, "no Redis URL"),
        (
            ["webhooks", "--redis", "redis://127.0.0.1:1/0"],
            {},
            "$AGENTFLOW_WEBHOOK_SECRET is not set",
        ),
        (
            ["webhooks", "--redis", "redis://127.0.0.1:1/0", "--secret-env", "MY_SECRET"],
            {"MY_SECRET": "whsec_***"},
            "not a 'whsec_' base64 key",
        ),
    ],
    ids=["worker-no-redis", "worker-bad-concurrency", "no-redis", "no-secret", "bad-secret"],
)
def test_bad_options_are_refused_before_anything_starts(
    argv: list[str],
    env: dict[str, str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AGENTFLOW_REDIS_URL", "AGENTFLOW_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "***" not in err  # the secret is never echoed


def test_a_worker_without_a_key_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    argv = ["worker", "--app", "agentflow.cli.demo_app:app", "--redis", "redis://127.0.0.1:1/0"]
    assert main(argv) == 1
    assert "ANTHROPIC_API_KEY is not set" in capsys.readouterr().err


async def test_the_receiver_command_queues_signed_webhooks_and_stops_on_sigterm(
    redis_url: str, aredis: aioredis.Redis
) -> None:
    env = {**os.environ, "AGENTFLOW_REDIS_URL": redis_url, "HOOK_SECRET": SECRET}
    argv = [sys.executable, "-m", "agentflow", "webhooks", "--port", "0", "--secret-env"]
    proc = subprocess.Popen([*argv, "HOOK_SECRET", "--path", "/hooks"], env=env,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        with anyio.fail_after(20):
            line = await anyio.to_thread.run_sync(proc.stdout.readline)
            url = line.split("listening on ")[1].split()[0]
            assert url.startswith("http://127.0.0.1:") and url.endswith("/hooks")
            body = payload()
            async with httpx.AsyncClient(timeout=10) as client:
                good = await client.post(url, content=body, headers=signed(body))
                bad = await client.post(
                    url, content=body, headers=signed(body, "m2", age=timedelta(minutes=10))
                )
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
        if proc.stdout is not None:
            proc.stdout.close()
    assert (good.status_code, good.json()) == (200, {"status": "queued"})
    assert bad.status_code == 401  # ten minutes old
    assert [w["session"] for w in await queued(aredis)] == ["sesn_1"]
    assert code == -signal.SIGTERM  # a graceful shutdown, then uvicorn's own exit by signal
