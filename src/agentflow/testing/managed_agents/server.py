"""The emulator's HTTP layer (Starlette): the §1.2 routes, auth, beta gate, faults, errors.

Every response carries a ``request-id`` header; errors use the JSON envelope
``{"type":"error","error":{"type","message"}}``.
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
from .._wire import ApiError, invalid, parse_order
from .engine import Engine
from .listing import events_since, page_of, query_list, time_filter
from .session import CLOSE, EmulatedSession, Subscriber

__all__ = ["BETA", "Controls", "FailRule", "RequestRecord", "build_app"]

BETA = "managed-agents-2026-04-01"
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    409: "conflict_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "overloaded_error",
    529: "overloaded_error",
}
DELTA_TYPES = frozenset(("agent.message", "agent.thinking"))


@dataclass(frozen=True)
class RequestRecord:
    """One request the emulator answered: method, path (no query), status and query string."""

    method: str
    path: str
    status: int
    query: str = ""


@dataclass
class FailRule:
    """Answer the next ``remaining`` requests matching ``method`` / ``path`` with an error."""

    status: int
    remaining: int
    path: str | None = None
    method: str | None = None
    error_type: str | None = None
    message: str | None = None
    headers: dict[str, str] | None = None

    def matches(self, method: str, path: str) -> bool:
        """Whether the rule applies: ``path`` equals the request path, or is a prefix of it
        when it ends with ``*``; ``None`` matches every path."""
        if self.method is not None and self.method.upper() != method:
            return False
        if self.path is None:
            return True
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path

    def error(self) -> ApiError:
        """The error this rule answers with."""
        etype = self.error_type or ERROR_TYPES.get(self.status, "api_error")
        return ApiError(
            self.status, etype, self.message or f"Emulated {etype}.", headers=self.headers
        )


class Controls:
    """Per-emulator HTTP settings and test knobs: API key, injected failures, request log."""

    def __init__(self, engine: Engine, api_key: str | None) -> None:
        self.engine = engine
        self.api_key = api_key
        self.requests: list[RequestRecord] = []
        self.fail_rules: list[FailRule] = []
        self.rng = random.Random(engine.scenario.faults.seed)
        self.request_ids = 0

    def gate(self, request: Request) -> None:
        """Injected failures, random HTTP faults, auth and the beta header, in that order."""
        method, path = request.method, request.url.path
        for rule in self.fail_rules:
            if rule.remaining > 0 and rule.matches(method, path):
                rule.remaining -= 1
                raise rule.error()
        faults = self.engine.scenario.faults
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
        betas = [b.strip() for b in request.headers.get("anthropic-beta", "").split(",")]
        if BETA not in betas:
            raise invalid(f"this endpoint requires the anthropic-beta header to include {BETA!r}")


def build_app(controls: Controls) -> Starlette:
    """The Starlette application serving the Managed Agents session API under ``/v1``."""
    engine = controls.engine

    def endpoint(
        fn: Callable[[Request], Awaitable[Any]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            controls.request_ids += 1
            request_id = f"req_emu{controls.request_ids:012d}"
            response: Response
            try:
                controls.gate(request)
                result = await fn(request)
                response = result if isinstance(result, Response) else JSONResponse(result)
            except ApiError as exc:
                response = JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)
            response.headers["request-id"] = request_id
            controls.requests.append(
                RequestRecord(
                    request.method, request.url.path, response.status_code, request.url.query
                )
            )
            return response

        return handle

    async def body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise invalid(f"request body is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise invalid("request body must be a JSON object")
        return data

    def session_of(request: Request) -> EmulatedSession:
        return engine.get(request.path_params["session_id"])

    async def create_session(request: Request) -> Any:
        return engine.render(engine.create_session(await body(request)))

    async def list_sessions(request: Request) -> Any:
        statuses = set(query_list(request, "statuses"))
        include_archived = request.query_params.get("include_archived", "false").lower() == "true"
        agent_id = request.query_params.get("agent_id")
        items = [
            engine.render(s)
            for s in engine.sessions.values()
            if not s.deleted
            and (include_archived or not s.resource.get("archived_at"))
            and (not statuses or s.status in statuses)
            and (agent_id is None or s.resource["agent"]["id"] == agent_id)
        ]
        order = parse_order(request.query_params.get("order"), "desc")
        page = page_of(
            request,
            items,
            order=order,
            default_limit=20,
            created=time_filter(request, "created_at"),
        )
        page.setdefault("prev_page", None)
        return page

    async def retrieve_session(request: Request) -> Any:
        return engine.render(session_of(request))

    async def update_session(request: Request) -> Any:
        session = session_of(request)
        engine.update(session, await body(request))
        return engine.render(session)

    async def archive_session(request: Request) -> Any:
        session = session_of(request)
        engine.archive(session)
        return engine.render(session)

    async def delete_session(request: Request) -> Any:
        return engine.delete(session_of(request))

    async def list_events(request: Request) -> Any:
        session = session_of(request)
        types = set(query_list(request, "types"))
        order = parse_order(request.query_params.get("order"), "asc")
        since = events_since(request, session) if order == "asc" else None
        page = page_of(
            request,
            session.history if since is None else since,
            order=order,
            default_limit=100,
            types=(lambda e: e["type"] in types) if types else None,
            created=time_filter(request, "processed_at") if since is None else None,
        )
        # the body JSONResponse would make, from each event's text encoded once
        data = ",".join(session.text(event) for event in page["data"])
        return Response(
            f'{{"data":[{data}],"next_page":{json.dumps(page["next_page"])}}}',
            media_type="application/json",
        )

    async def send_events(request: Request) -> Any:
        session = session_of(request)
        data = await body(request)
        return {"data": engine.send(session, data.get("events"))}

    def open_stream(
        request: Request, session: EmulatedSession, thread_id: str | None
    ) -> SSEResponse:
        deltas = frozenset(query_list(request, "event_deltas"))
        unknown = sorted(deltas - DELTA_TYPES)
        if unknown:
            raise invalid(f"event_deltas[] accepts {sorted(DELTA_TYPES)}, got {unknown}")
        sub = Subscriber(deltas, thread_id, thread_id == session.primary_thread_id)
        if session.terminated:
            sub.push(CLOSE)  # nothing follows a termination
        else:
            session.subscribers.add(sub)  # registered before the headers go out: nothing is missed
            engine.notify()

        def closed() -> None:
            session.subscribers.discard(sub)
            engine.notify()

        return SSEResponse(sub, engine.scenario.faults, closed)

    async def stream_events(request: Request) -> Any:
        session = session_of(request)
        return open_stream(request, session, None)

    async def list_threads(request: Request) -> Any:
        session = session_of(request)
        statuses = set(query_list(request, "statuses"))
        threads = [
            engine.render_thread(session, t) for t in [session.primary_thread_id, *session.threads]
        ]
        if statuses:
            threads = [t for t in threads if t["status"] in statuses]
        return page_of(request, threads, order="asc", default_limit=1000)

    async def retrieve_thread(request: Request) -> Any:
        return engine.render_thread(session_of(request), request.path_params["thread_id"])

    async def archive_thread(request: Request) -> Any:
        session = session_of(request)
        thread = engine.render_thread(session, request.path_params["thread_id"])
        thread["archived_at"] = engine.clock.stamp()
        return thread

    def thread_events(session: EmulatedSession, thread_id: str) -> list[dict[str, Any]]:
        engine.render_thread(session, thread_id)  # 404 for an unknown thread
        primary = thread_id == session.primary_thread_id
        return [
            e
            for e in session.history
            if e.get("session_thread_id") == thread_id or (primary and "session_thread_id" not in e)
        ]

    async def list_thread_events(request: Request) -> Any:
        session = session_of(request)
        events = thread_events(session, request.path_params["thread_id"])
        return page_of(request, events, order="asc", default_limit=100)

    async def stream_thread(request: Request) -> Any:
        session = session_of(request)
        thread_id = request.path_params["thread_id"]
        engine.render_thread(session, thread_id)
        return open_stream(request, session, thread_id)

    async def not_found(request: Request) -> Any:
        raise ApiError(404, "not_found_error", f"no route for {request.method} {request.url.path}")

    s = "/v1/sessions/{session_id}"
    t = s + "/threads/{thread_id}"
    routes = [
        Route("/v1/sessions", endpoint(create_session), methods=["POST"]),
        Route("/v1/sessions", endpoint(list_sessions), methods=["GET"]),
        Route(s, endpoint(retrieve_session), methods=["GET"]),
        Route(s, endpoint(update_session), methods=["POST"]),
        Route(s, endpoint(delete_session), methods=["DELETE"]),
        Route(s + "/archive", endpoint(archive_session), methods=["POST"]),
        Route(s + "/events", endpoint(list_events), methods=["GET"]),
        Route(s + "/events", endpoint(send_events), methods=["POST"]),
        Route(s + "/events/stream", endpoint(stream_events), methods=["GET"]),
        Route(s + "/threads", endpoint(list_threads), methods=["GET"]),
        Route(t, endpoint(retrieve_thread), methods=["GET"]),
        Route(t + "/archive", endpoint(archive_thread), methods=["POST"]),
        Route(t + "/events", endpoint(list_thread_events), methods=["GET"]),
        Route(t + "/stream", endpoint(stream_thread), methods=["GET"]),
        Route(
            "/{path:path}", endpoint(not_found), methods=["GET", "POST", "DELETE", "PUT", "PATCH"]
        ),
    ]
    return Starlette(routes=routes)
