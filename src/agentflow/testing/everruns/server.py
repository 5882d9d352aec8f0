"""The Everruns emulator's HTTP layer (Starlette): two surfaces, auth, faults, request log.

Routes live under ``/api/v1`` (so ``base_url`` is ``http://127.0.0.1:PORT/api``):

- the management surface, ``/api/v1/sessions...``: ``Authorization: <token>`` (the
  everruns-sdk ``Everruns`` client sends the token without ``Bearer``), optional ``X-Org-Id``;
- the channel (agent-key) surface, ``/api/v1/channels/{channel_id}/sessions...``:
  ``Authorization: Bearer <agent key>`` (``AgentClient``), optional ``End-User`` and
  ``Idempotency-Key``.

Both styles are accepted on both surfaces; the log records which one came (never the key).
A required key (``api_key`` / ``agent_key``) must match exactly, else 401. POSTs with an
``Idempotency-Key`` are answered once: a retry with the same body gets the first response
again (``Idempotent-Replay: true``), a different body gets 422 ``idempotency_key_reuse``.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..managed_agents.server import FailRule
from .engine import Engine
from .wire import EverrunsError, invalid

__all__ = ["ERROR_CODES", "Controls", "EverrunsRequest", "wrap"]

ERROR_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    422: "unprocessable",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
}


@dataclass(frozen=True)
class EverrunsRequest:
    """One answered request. ``body`` is the parsed JSON (or text, or None when empty);
    ``auth`` is ``"raw"``, ``"bearer"`` or None; credentials themselves are never kept."""

    method: str
    path: str
    status: int
    query: str
    body: Any
    surface: str
    auth: str | None
    end_user: str | None = None
    idempotency_key: str | None = None
    org_id: str | None = None


def fail_error(rule: FailRule) -> EverrunsError:
    """The Everruns-shaped error an injected failure answers with."""
    code = rule.error_type or ERROR_CODES.get(rule.status, "internal_error")
    message = rule.message or f"Emulated {code}."
    return EverrunsError(rule.status, code, message, headers=rule.headers)


class Controls:
    """Per-emulator HTTP settings and knobs: keys, injected failures, idempotency, log."""

    def __init__(
        self, engine: Engine, api_key: str | None, agent_key: str | None, channel_id: str
    ) -> None:
        self.engine = engine
        self.api_key = api_key
        self.agent_key = agent_key
        self.channel_id = channel_id
        self.requests: list[EverrunsRequest] = []
        self.fail_rules: list[FailRule] = []
        self.rng = random.Random(engine.scenario.faults.seed)
        self.idempotent: dict[tuple[str, str], tuple[bytes, int, Any]] = {}
        self.request_ids = 0

    def gate(self, request: Request, surface: str) -> None:
        """Injected failures, random HTTP faults, then auth (in that order)."""
        method, path = request.method, request.url.path
        for rule in self.fail_rules:
            if rule.remaining > 0 and rule.matches(method, path):
                rule.remaining -= 1
                raise fail_error(rule)
        faults = self.engine.scenario.faults
        if faults.http_error_rate and self.rng.random() < faults.http_error_rate:
            status = self.rng.choice(faults.http_error_statuses)
            headers = {}
            if status == 429:
                headers = {
                    "retry-after": str(math.ceil(faults.retry_after_seconds)),
                    "retry-after-ms": str(int(faults.retry_after_seconds * 1000)),
                }
            raise fail_error(FailRule(status, 1, headers=headers))
        style, key = credential(request)
        required = self.agent_key if surface == "channel" else self.api_key
        if not key or (required is not None and key != required):
            what = "agent key" if surface == "channel" else "personal access token"
            raise EverrunsError(401, "unauthorized", f"missing or invalid {what}")
        channel = request.path_params.get("channel_id")
        if channel is not None and channel != self.channel_id:
            raise EverrunsError(404, "not_found", f"channel {channel!r} not found")


def credential(request: Request) -> tuple[str | None, str]:
    """The ``Authorization`` style (``"raw"``, ``"bearer"`` or None) and the credential."""
    header = request.headers.get("authorization", "").strip()
    if not header:
        return None, ""
    if header[:7].lower() == "bearer ":
        return "bearer", header[7:].strip()
    return "raw", header


Handler = Callable[[Request, dict[str, Any]], Awaitable[Any]]


def _parse(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def wrap(controls: Controls, fn: Handler) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint: gate, JSON body, idempotency, the handler, error envelope, log line."""

    async def handle(request: Request) -> Response:
        controls.request_ids += 1
        surface = "channel" if "channel_id" in request.path_params else "management"
        raw = await request.body()
        parsed = _parse(raw)
        headers = request.headers
        idem = headers.get("idempotency-key") if request.method == "POST" else None
        style = credential(request)[0]
        response: Response
        try:
            controls.gate(request, surface)
            replay = controls.idempotent.get((request.url.path, idem)) if idem else None
            if replay is not None:
                if replay[0] != raw:
                    raise EverrunsError(
                        422, "idempotency_key_reuse", "Idempotency-Key reused with another body"
                    )
                response = JSONResponse(replay[2], replay[1], {"idempotent-replay": "true"})
            else:
                if parsed is not None and not isinstance(parsed, dict):
                    raise invalid("request body must be a JSON object")
                result = await fn(request, parsed or {})
                status = 200
                if isinstance(result, tuple):
                    status, result = result
                if isinstance(result, Response):
                    response = result
                else:
                    response = JSONResponse(result, status)
                    if idem and status < 300:
                        controls.idempotent[(request.url.path, idem)] = (raw, status, result)
        except EverrunsError as exc:
            response = JSONResponse(exc.body(), exc.status, exc.headers)
        response.headers["x-request-id"] = f"req_emu{controls.request_ids:012d}"
        controls.requests.append(
            EverrunsRequest(
                request.method,
                request.url.path,
                response.status_code,
                request.url.query,
                parsed,
                surface,
                style,
                headers.get("end-user"),
                idem,
                headers.get("x-org-id"),
            )
        )
        return response

    return handle
