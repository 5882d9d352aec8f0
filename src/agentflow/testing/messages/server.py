"""The HTTP layer of the Messages emulator (Starlette): ``POST /v1/messages`` and its gate.

Every response carries ``request-id``; errors use the envelope
``{"type":"error","error":{"type","message"},"request_id"}``. The gate runs the injected
failures (``fail_next``), the seeded HTTP faults, authentication (``x-api-key`` or
``Authorization: Bearer``) and the ``anthropic-version`` check, in that order.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .._frames import CLOSE, Frame, Subscriber
from .._local_server import Spawn
from .._sse import SSEResponse
from .._wire import ApiError, Ids, invalid
from ..managed_agents.server import FailRule
from ..scenario import Scenario
from .conversation import Position, validate
from .render import PING, Pause, message_body, stream_frames
from .script import ERROR_STATUS, Script
from .stream import ResponseStream

__all__ = ["Controls", "RecordedRequest", "build_app"]

_SECRET_HEADERS = frozenset(("authorization", "x-api-key"))


@dataclass(frozen=True)
class RecordedRequest:
    """One answered request: method, path, status, parsed JSON body and scenario position.

    ``body`` is ``None`` when the request was refused before its body was read (injected
    failures, HTTP faults, auth) or the body was empty or not JSON; ``headers`` leave out the
    credentials (``authorization``, ``x-api-key``); ``position`` is set once the body was valid.
    """

    method: str
    path: str
    status: int
    body: Any = None
    headers: dict[str, str] | None = field(default=None, repr=False)
    position: Position | None = None


class Controls:
    """Per-emulator HTTP state: the key, injected failures, the request log, open streams."""

    def __init__(self, scenario: Scenario, api_key: str | None, spawn: Spawn) -> None:
        self.scenario = scenario
        self.api_key = api_key
        self.spawn = spawn
        self.ids = Ids()
        self.script = Script(scenario, self.ids)
        self.requests: list[RecordedRequest] = []
        self.fail_rules: list[FailRule] = []
        self.streams: set[Subscriber] = set()
        self.rng = random.Random(scenario.faults.seed)
        self.request_ids = 0
        self._changed = anyio.Event()

    def record(self, entry: RecordedRequest) -> None:
        """Log a request and wake whoever waits for it."""
        self.requests.append(entry)
        changed, self._changed = self._changed, anyio.Event()
        changed.set()

    async def wait_for_request(self, count: int) -> RecordedRequest:
        """Wait until ``count`` requests were answered; the ``count``-th (unbounded wait)."""
        while len(self.requests) < count:
            await self._changed.wait()
        return self.requests[count - 1]

    def gate(self, request: Request) -> None:
        """Injected failures, random HTTP faults, auth and ``anthropic-version``, in order."""
        method, path = request.method, request.url.path
        for rule in self.fail_rules:
            if rule.remaining > 0 and rule.matches(method, path):
                rule.remaining -= 1
                raise rule.error()
        faults = self.scenario.faults
        if faults.http_error_rate and self.rng.random() < faults.http_error_rate:
            status = self.rng.choice(faults.http_error_statuses)
            headers = {}
            if status == 429:
                headers = {
                    "retry-after": str(math.ceil(faults.retry_after_seconds)),
                    "retry-after-ms": str(int(faults.retry_after_seconds * 1000)),
                }
            raise FailRule(status, 1, headers=headers).error()
        key = request.headers.get("x-api-key")
        auth = request.headers.get("authorization", "")
        if key is None and auth.lower().startswith("bearer "):
            key = auth[7:].strip()
        if not key or (self.api_key is not None and key != self.api_key):
            raise ApiError(401, "authentication_error", "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            raise invalid("anthropic-version: header is required")

    def close_streams(self, frame: Frame = CLOSE) -> int:
        """End every open stream with ``frame`` (after what is queued); returns how many."""
        subs = list(self.streams)
        for sub in subs:
            sub.push(frame)
        self.streams.clear()
        return len(subs)


def _input_tokens(body: dict[str, Any]) -> int:
    # A stable stand-in for a token count: about four characters a token.
    prompt = [body.get("system"), body.get("messages"), body.get("tools")]
    return 1 + len(json.dumps(prompt, ensure_ascii=False)) // 4


async def _parse(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        raise invalid("request body is empty: expected a JSON object")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise invalid(f"request body is not valid JSON: {exc}") from exc


def build_app(controls: Controls) -> Starlette:
    """The Starlette application serving ``POST /v1/messages``."""

    async def messages(request: Request, request_id: str, seen: dict[str, Any]) -> Response:
        body = seen["body"] = await _parse(request)
        valid = validate(body)
        seen["position"] = valid.position
        ident = controls.ids.new("msg")
        plan = controls.script.plan(valid.position)
        tokens = _input_tokens(body)
        if not valid.stream:
            for part in plan.parts:  # a non-streamed response still takes the scenario's pauses
                if isinstance(part, Pause):
                    await anyio.sleep(float(part.seconds))
            failure = plan.failure
            if failure is not None:
                raise ApiError(ERROR_STATUS.get(failure.type, 500), failure.type, failure.message)
            return JSONResponse(
                message_body(plan, message_id=ident, model=valid.model, input_tokens=tokens)
            )
        items = list(
            stream_frames(
                plan,
                message_id=ident,
                model=valid.model,
                input_tokens=tokens,
                request_id=request_id,
            )
        )
        faults = controls.scenario.faults
        if not controls.script.first_stream(valid.position):
            faults = replace(
                faults, drop_every=0, duplicate_every=0, malformed_every=0, stall_after=0
            )
        sub = ResponseStream()
        controls.streams.add(sub)

        def closed() -> None:
            controls.streams.discard(sub)
            sub.push(CLOSE)  # stops the producer of a stream the client left

        delay = controls.scenario.step_delay
        if delay <= 0 and all(isinstance(i, Frame) for i in items):
            sub.feed_now(items)
        else:
            controls.spawn(lambda: sub.feed(items, delay))
        return SSEResponse(sub, faults, closed, keepalive=PING.encode())

    async def not_found(request: Request, request_id: str, seen: dict[str, Any]) -> Response:
        raise ApiError(404, "not_found_error", f"no route for {request.method} {request.url.path}")

    def endpoint(
        fn: Callable[[Request, str, dict[str, Any]], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            controls.request_ids += 1
            request_id = f"req_emu{controls.request_ids:012d}"
            seen: dict[str, Any] = {}
            response: Response
            try:
                controls.gate(request)
                response = await fn(request, request_id, seen)
            except ApiError as exc:
                response = JSONResponse(
                    {**exc.body(), "request_id": request_id},
                    status_code=exc.status,
                    headers=exc.headers,
                )
            response.headers["request-id"] = request_id
            headers = {k: v for k, v in request.headers.items() if k.lower() not in _SECRET_HEADERS}
            controls.record(
                RecordedRequest(
                    request.method,
                    request.url.path,
                    response.status_code,
                    seen.get("body"),
                    headers,
                    seen.get("position"),
                )
            )
            return response

        return handle

    routes = [
        Route("/v1/messages", endpoint(messages), methods=["POST"]),
        Route(
            "/{path:path}", endpoint(not_found), methods=["GET", "POST", "DELETE", "PUT", "PATCH"]
        ),
    ]
    return Starlette(routes=routes)
