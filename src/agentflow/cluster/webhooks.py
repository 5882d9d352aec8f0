"""The webhook receiver: signed Managed Agents session webhooks in, wake-ups out.

::

    app = webhook_app(secret="whsec_...", redis="redis://127.0.0.1:6379/0")
    # uvicorn module:app --host 0.0.0.0 --port 8080   (behind any load balancer)

Every POST is verified with the ``standardwebhooks`` package (``webhook-id``,
``webhook-timestamp``, ``webhook-signature``; the ``whsec_`` secret; ±5 minutes) before its
body is even parsed: a missing, bad or stale signature gets 401 and changes nothing. The
payload is thin (``{"type": "event", "id", "created_at", "data": {"type", "id": SESSION,
...}}``); the receiver switches on the ``data.type`` string. The types in ``wake_on``
queue a wake-up for the session (``WakeQueue.wake``: a ``webhook-id`` seen before is
dropped, a session already queued is coalesced). The types in ``note_on`` (the session
started working) only note the session in the :class:`~agentflow.cluster.index.SessionIndex`,
so the sweep wakes it if the webhook that should follow is lost. Any other type, known or
not, is acknowledged (200) and ignored, and logged. Answers are JSON ``{"status": ...}``:
``queued``, ``coalesced``, ``duplicate``, ``noted`` or ``ignored`` (200); 400 for a signed
but malformed payload; 413 for a body over ``max_body``; 503 when Redis is unreachable
(nothing was recorded, so the sender's retry is safe).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Collection
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ._redis import async_client
from .index import SessionIndex
from .queue import WakeQueue

__all__ = ["DEFAULT_NOTE_TYPES", "DEFAULT_WAKE_TYPES", "SESSION_WEBHOOK_TYPES", "webhook_app"]

logger = logging.getLogger("agentflow.cluster.webhooks")

SESSION_WEBHOOK_TYPES = frozenset(
    f"session.{name}"
    for name in (
        "created pending running idled requires_action archived deleted updated budget_reached "
        "outcome_evaluation_ended status_rescheduled status_run_started status_idled "
        "status_terminated thread_created thread_idled thread_terminated"
    ).split()
)
"""The session ``data.type`` values Managed Agents documents."""

DEFAULT_WAKE_TYPES = frozenset(
    f"session.{name}"
    for name in (
        "requires_action idled status_idled status_terminated thread_idled thread_terminated "
        "outcome_evaluation_ended budget_reached deleted"
    ).split()
)
"""The types that may leave the app something to do: the session waits, or ended."""

DEFAULT_NOTE_TYPES = frozenset(
    f"session.{name}" for name in "status_run_started status_rescheduled running".split()
)
"""The types that say the session is working: noted for the sweep, nothing queued."""


def _answer(status: str, code: int = 200) -> JSONResponse:
    return JSONResponse({"status": status}, status_code=code)


def _error(message: str, code: int) -> JSONResponse:
    return JSONResponse({"status": "rejected", "error": message}, status_code=code)


def webhook_app(
    *,
    secret: str,
    redis: str | aioredis.Redis,
    prefix: str = "agentflow",
    path: str = "/",
    wake_on: Collection[str] = DEFAULT_WAKE_TYPES,
    note_on: Collection[str] = DEFAULT_NOTE_TYPES,
    dedupe_ttl: float = 86_400.0,
    coalesce: float = 60.0,
    max_body: int = 1 << 20,
) -> Starlette:
    """The ASGI app receiving session webhooks at ``path`` (see the module doc).

    ``secret`` is the endpoint's ``whsec_`` signing secret (required: the app never accepts
    unsigned requests). ``redis`` is a URL (the app owns that client and closes it at
    shutdown) or a ``redis.asyncio.Redis`` client. ``app.state.queue`` is the
    :class:`WakeQueue` it writes to, ``app.state.index`` the session index it notes in.
    """
    if not secret:
        raise ValueError("webhook_app needs the endpoint's signing secret ('whsec_...')")
    try:
        verifier = Webhook(secret)
    except Exception as exc:  # bad base64, or empty once decoded; never echo the secret
        kind = type(exc).__name__
        raise ValueError(f"the webhook secret is not a 'whsec_' base64 key ({kind})") from None
    client = async_client(redis) if isinstance(redis, str) else redis
    queue = WakeQueue(client, prefix=prefix, dedupe_ttl=dedupe_ttl, coalesce=coalesce)
    index = SessionIndex(client, prefix=prefix)
    wake_types = frozenset(wake_on)
    note_types = frozenset(note_on) - wake_types

    async def receive(request: Request) -> JSONResponse:
        declared = request.headers.get("content-length", "0")
        if declared.isdigit() and int(declared) > max_body:
            return _error(f"body over {max_body} bytes", 413)
        body = await request.body()
        if len(body) > max_body:
            return _error(f"body over {max_body} bytes", 413)
        try:
            verifier.verify(body, dict(request.headers), json_parse=False)
        except (WebhookVerificationError, ValueError) as exc:
            # ValueError: standardwebhooks 1.1 raises it for a malformed signature header.
            reason = str(exc) if isinstance(exc, WebhookVerificationError) else "malformed"
            logger.warning("webhook refused: %s", reason)
            return _error(f"signature refused: {reason}", 401)
        webhook_id = request.headers["webhook-id"]
        payload = _parse(body)
        if isinstance(payload, str):
            return _error(payload, 400)
        dtype, session_id = payload
        noted = dtype in note_types
        if dtype not in wake_types and not noted:
            level = logging.DEBUG if dtype in SESSION_WEBHOOK_TYPES else logging.INFO
            logger.log(level, "webhook %s of type %r ignored", webhook_id, dtype)
            return _answer("ignored")
        if not session_id:
            return _error(f"a {dtype!r} webhook needs data.id (the session id)", 400)
        try:
            if noted:
                await index.note(session_id)
                return _answer("noted")
            status, _ = await queue.wake(session_id, dtype, webhook_id=webhook_id)
        except RedisError as exc:
            logger.error("webhook %s not queued: %s", webhook_id, type(exc).__name__)
            return _error("queue unavailable", 503)
        return _answer(status)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if isinstance(redis, str):
                await client.aclose()

    app = Starlette(routes=[Route(path, receive, methods=["POST"])], lifespan=lifespan)
    app.state.queue = queue
    app.state.index = index
    return app


def _parse(body: bytes) -> tuple[str, str] | str:
    """``(data.type, data.id)`` of a payload, or what is wrong with it."""
    try:
        payload: Any = json.loads(body)
    except ValueError:
        return "the body is not JSON"
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        return "expected a JSON object with a 'data' object"
    data = payload["data"]
    dtype = data.get("type")
    if not isinstance(dtype, str):
        return "data.type must be a string"
    session_id = data.get("id")
    return dtype, session_id if isinstance(session_id, str) else ""
