"""The m8tes emulator's HTTP layer (Starlette): the run routes under ``/api/v2``.

Every request needs ``Authorization: Bearer <key>``; every response carries
``X-Request-Id``; errors use the v2 envelope (:mod:`.errors`); a path no route serves gets
the bare ``{"detail": "Not Found"}`` the SDK reads as "base_url lacks /api/v2".
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .._sse import SSEResponse
from .engine import Engine
from .errors import M8tesApiError, invalid
from .frames import KEEPALIVE
from .gates import answer, approve, set_permission_mode
from .run import EmulatedRun, RunSubscriber

__all__ = ["PREFIX", "Controls", "RequestRecord", "build_app"]

PREFIX = "/api/v2"


@dataclass(frozen=True)
class RequestRecord:
    """One answered request: method, path (no query), status, query, JSON body and the
    ``Idempotency-Key`` it carried. Credentials are never recorded."""

    method: str
    path: str
    status: int
    query: str = ""
    body: Any = None
    idempotency_key: str | None = None


class Controls:
    """Per-emulator HTTP settings: the required key, the request log, the seeded HTTP faults."""

    def __init__(self, engine: Engine, api_key: str | None) -> None:
        self.engine = engine
        self.api_key = api_key
        self.requests: list[RequestRecord] = []
        self.rng = random.Random(engine.scenario.faults.seed)
        self.request_ids = 0

    def gate(self, request: Request) -> None:
        """Seeded HTTP faults first (as a proxy would answer), then authentication."""
        faults = self.engine.scenario.faults
        if faults.http_error_rate and self.rng.random() < faults.http_error_rate:
            status = self.rng.choice(faults.http_error_statuses)
            headers = {}
            if status == 429:
                headers["Retry-After"] = str(math.ceil(faults.retry_after_seconds))
            raise M8tesApiError(status, f"Emulated HTTP {status}.", headers=headers)
        auth = request.headers.get("authorization", "")
        scheme, _, key = auth.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise M8tesApiError(401, "Missing API key: send Authorization: Bearer <key>.")
        if self.api_key is not None and key != self.api_key:
            raise M8tesApiError(401, "Invalid API key.")


def _parse(raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise invalid(f"request body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise invalid("request body must be a JSON object")
    return data


def build_app(controls: Controls) -> Starlette:
    """The Starlette application serving the runs API under ``/api/v2``."""
    engine = controls.engine
    faults = engine.scenario.faults

    def endpoint(
        fn: Callable[[Request, dict[str, Any]], Awaitable[Any]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            controls.request_ids += 1
            request_id = f"req_emu{controls.request_ids:012d}"
            raw = await request.body()
            data: Any = None
            response: Response
            try:
                controls.gate(request)
                data = _parse(raw)
                result = await fn(request, data)
                response = result if isinstance(result, Response) else JSONResponse(result)
            except M8tesApiError as exc:
                body = exc.body()
                body["error"]["request_id"] = request_id
                response = JSONResponse(body, status_code=exc.status, headers=exc.headers)
            response.headers["X-Request-Id"] = request_id
            if not raw:
                data = None  # nothing was sent: the log says so rather than showing {}
            elif data is None:
                try:
                    data = json.loads(raw)
                except ValueError:
                    data = raw.decode("utf-8", "replace")
            key = request.headers.get("idempotency-key")
            record = RequestRecord(
                request.method, request.url.path, response.status_code, request.url.query, data, key
            )
            controls.requests.append(record)
            return response

        return handle

    def run_of(request: Request) -> EmulatedRun:
        return engine.get(request.path_params["run_id"])

    def stream(run: EmulatedRun, sub: RunSubscriber) -> SSEResponse:
        def closed() -> None:
            run.subscribers.discard(sub)
            engine.notify()

        headers = {"X-Run-Id": str(run.id)}
        return SSEResponse(sub, faults, closed, keepalive=KEEPALIVE, headers=headers)

    def replay(run: EmulatedRun) -> Response:
        # The SDK reads a replay as JSON and joins the run's stream itself.
        headers = {"Idempotent-Replay": "true", "X-Run-Id": str(run.id)}
        return JSONResponse(run.render(), headers=headers)

    async def create_run(request: Request, data: dict[str, Any]) -> Any:
        key = request.headers.get("idempotency-key")
        earlier = engine.replayed("create", key)
        if earlier is not None:
            return replay(earlier)
        run = engine.create(data, key)
        if data.get("stream", True):
            return stream(run, engine.subscribe(run, engine.next_turn(run)))
        return JSONResponse(run.render(), headers={"X-Run-Id": str(run.id)})

    async def list_runs(request: Request, data: dict[str, Any]) -> Any:
        runs = [r.render() for r in reversed(engine.runs.values())]
        return {"data": runs, "has_more": False, "next_starting_after": None}

    async def get_run(request: Request, data: dict[str, Any]) -> Any:
        return run_of(request).render()

    async def stream_run(request: Request, data: dict[str, Any]) -> Any:
        run = run_of(request)
        return stream(run, engine.attach(run))

    async def reply(request: Request, data: dict[str, Any]) -> Any:
        run = run_of(request)
        key = request.headers.get("idempotency-key")
        if engine.replayed(f"reply:{run.id}", key) is not None:
            return replay(run)
        receipt = engine.reply(run, data, key)
        if data.get("stream", True):
            return stream(run, engine.subscribe(run, engine.next_turn(run)))
        return {**run.render(), **receipt}

    async def cancel(request: Request, data: dict[str, Any]) -> Any:
        run = run_of(request)
        engine.cancel(run)
        return run.render()

    async def permissions(request: Request, data: dict[str, Any]) -> Any:
        return [gate.render() for gate in run_of(request).gates.values()]

    async def approve_gate(request: Request, data: dict[str, Any]) -> Any:
        return approve(engine, run_of(request), data)

    async def answer_gate(request: Request, data: dict[str, Any]) -> Any:
        return answer(engine, run_of(request), data)

    async def permission_mode(request: Request, data: dict[str, Any]) -> Any:
        return set_permission_mode(engine, run_of(request), data)

    async def not_found(request: Request) -> Response:
        miss = RequestRecord(request.method, request.url.path, 404, request.url.query)
        controls.requests.append(miss)
        return JSONResponse({"detail": "Not Found"}, status_code=404)

    r = PREFIX + "/runs/{run_id:int}"
    routes = [
        Route(PREFIX + "/runs/", endpoint(create_run), methods=["POST"]),
        Route(PREFIX + "/runs", endpoint(create_run), methods=["POST"]),
        Route(PREFIX + "/runs/", endpoint(list_runs), methods=["GET"]),
        Route(PREFIX + "/runs", endpoint(list_runs), methods=["GET"]),
        Route(r, endpoint(get_run), methods=["GET"]),
        Route(r + "/stream", endpoint(stream_run), methods=["GET"]),
        Route(r + "/reply", endpoint(reply), methods=["POST"]),
        Route(r + "/cancel", endpoint(cancel), methods=["POST"]),
        Route(r + "/permissions", endpoint(permissions), methods=["GET"]),
        Route(r + "/approve", endpoint(approve_gate), methods=["POST"]),
        Route(r + "/answer", endpoint(answer_gate), methods=["POST"]),
        Route(r + "/permission-mode", endpoint(permission_mode), methods=["PATCH"]),
        Route("/{path:path}", not_found, methods=["GET", "POST", "DELETE", "PUT", "PATCH"]),
    ]
    return Starlette(routes=routes)
