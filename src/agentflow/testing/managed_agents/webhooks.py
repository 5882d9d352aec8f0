"""Signed session webhooks from the emulator: thin payloads POSTed to a loopback URL.

When a session changes status the emulator POSTs
``{"type": "event", "id", "created_at", "data": {"type", "id": SESSION, "organization_id",
"workspace_id", "session_thread_id"?}}``, signed the Standard Webhooks way with the
``standardwebhooks`` package (imported only when a ``webhook_url`` is configured). Deliveries
go out one at a time in order, or ``concurrency`` at a time (then, as from real senders, not
necessarily in order); a connection error or a 5xx is retried (same ``webhook-id``, fresh
timestamp and signature) up to ``attempts`` times; a 4xx is final. ``duplicates`` (0..1)
redelivers that fraction of the successful ones once more, as real senders sometimes do.
"""

from __future__ import annotations

import collections
import ipaddress
import json
import logging
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx

from .._wire import Ids
from .session import EmulatedSession

__all__ = ["WebhookDelivery", "WebhookSender", "webhook_type"]

logger = logging.getLogger("agentflow.testing")

_DIRECT = {
    "session.status_running": "session.status_run_started",
    "session.status_rescheduled": "session.status_rescheduled",
    "session.status_terminated": "session.status_terminated",
    "session.deleted": "session.deleted",
    "session.updated": "session.updated",
    "session.thread_created": "session.thread_created",
    "session.thread_status_idle": "session.thread_idled",
    "session.thread_status_terminated": "session.thread_terminated",
    "span.outcome_evaluation_end": "session.outcome_evaluation_ended",
}


def webhook_type(event: dict[str, Any]) -> str | None:
    """The webhook ``data.type`` a stored event announces, or ``None``."""
    etype = event.get("type")
    if etype == "session.status_idle":
        reason = event.get("stop_reason") or {}
        return (
            "session.requires_action"
            if reason.get("type") == "requires_action"
            else ("session.status_idled")
        )
    return _DIRECT.get(etype) if isinstance(etype, str) else None


@dataclass(frozen=True)
class WebhookDelivery:
    """One POST the emulator made: the ``webhook-id``, ``data.type``, session, HTTP status
    (0 when the connection failed) and whether it was a deliberate duplicate."""

    webhook_id: str
    type: str
    session_id: str
    status: int
    duplicate: bool = False


def _loopback(url: str) -> str:
    host = urlsplit(url).hostname or ""
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok or urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"webhook_url must be an http(s) URL on a loopback address, got {url!r}")
    return url


class WebhookSender:
    """Queues and delivers the webhooks of one emulator (see the module doc)."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        duplicates: float = 0.0,
        seed: int = 0,
        attempts: int = 3,
        timeout: float = 5.0,
        concurrency: int = 1,
    ) -> None:
        try:
            from standardwebhooks import Webhook
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError(
                "webhook_url needs the standardwebhooks package: "
                'pip install "agentflow-events[cluster]"'
            ) from None
        if not 0.0 <= duplicates <= 1.0:
            raise ValueError(f"webhook_duplicates must be within 0..1, got {duplicates!r}")
        if concurrency < 1:
            raise ValueError(f"webhook_concurrency must be >= 1, got {concurrency!r}")
        self.concurrency = concurrency
        self.url = _loopback(url)
        try:
            self._signer = Webhook(secret)
        except Exception:  # never echo the secret
            raise ValueError("webhook_secret must be a 'whsec_' base64 key") from None
        self.duplicates = duplicates
        self.attempts = attempts
        self.timeout = timeout
        self.deliveries: list[WebhookDelivery] = []
        self.spawn: Callable[[Callable[[], Coroutine[Any, Any, None]]], object] | None = None
        self.notify: Callable[[], None] = lambda: None
        self._ids = Ids()
        self._rng = random.Random(seed)
        self._queue: collections.deque[dict[str, Any]] = collections.deque()
        self._waiting: list[anyio.Event] = []  # one per idle delivery loop
        self._running = False

    def observe(self, session: EmulatedSession, event: dict[str, Any]) -> None:
        """Engine hook: queue the webhook ``event`` announces, if any (never blocks)."""
        wtype = webhook_type(event)
        if wtype is None:
            return
        data: dict[str, Any] = {"type": wtype, "id": session.id}
        data |= {"organization_id": "org_emulated", "workspace_id": "wrkspc_emulated"}
        if wtype.startswith("session.thread_") and event.get("session_thread_id"):
            data["session_thread_id"] = event["session_thread_id"]
        created = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        payload = {"type": "event", "id": self._ids.new("wevt"), "created_at": created}
        self._queue.append(payload | {"data": data})
        if self._waiting:
            self._waiting.pop().set()
        if not self._running and self.spawn is not None:
            self._running = True
            self.spawn(self._deliver_all)

    def signed_headers(self, webhook_id: str, body: str) -> dict[str, str]:
        """The Standard Webhooks headers for ``body``, signed now."""
        now = datetime.now(timezone.utc)
        return {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self._signer.sign(webhook_id, now, body),
        }

    async def _deliver_all(self) -> None:
        client = httpx.AsyncClient(timeout=self.timeout)
        try:
            async with anyio.create_task_group() as tg:
                for _ in range(self.concurrency):
                    tg.start_soon(self._deliver_loop, client)
        finally:
            self._running = False
            with anyio.CancelScope(shield=True):
                await client.aclose()

    async def _deliver_loop(self, client: httpx.AsyncClient) -> None:
        while True:
            while self._queue:
                await self._deliver(client, self._queue.popleft(), duplicate=False)
            more = anyio.Event()
            self._waiting.append(more)
            await more.wait()

    async def _deliver(
        self, client: httpx.AsyncClient, payload: dict[str, Any], *, duplicate: bool
    ) -> None:
        body = json.dumps(payload, separators=(",", ":"))
        data = payload["data"]
        status = 0
        for attempt in range(self.attempts):
            try:
                response = await client.post(
                    self.url, content=body, headers=self.signed_headers(payload["id"], body)
                )
                status = response.status_code
            except httpx.HTTPError as exc:
                logger.warning("webhook %s not delivered: %s", payload["id"], type(exc).__name__)
                status = 0
            if 0 < status < 500:
                break
            if attempt + 1 < self.attempts:
                await anyio.sleep(0.05 * 2**attempt)  # the sender's backoff between attempts
        self.deliveries.append(
            WebhookDelivery(payload["id"], data["type"], data["id"], status, duplicate)
        )
        self.notify()
        if not duplicate and 200 <= status < 300 and self._rng.random() < self.duplicates:
            await self._deliver(client, payload, duplicate=True)
