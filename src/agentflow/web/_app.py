"""``relay_app(relay)``: the ASGI app serving a :class:`Relay` and its page to browsers.

Routes (relative to wherever the app is mounted):

- ``GET /``: the built-in page (``?token=…&session=…``);
- ``GET /sessions``: the sessions kept, newest first (JSON);
- ``GET /sessions/{id}/events``: the session's messages as Server-Sent Events, resuming after
  ``Last-Event-ID`` (the header, or a ``last_event_id`` query parameter).

Every route needs the token, as ``?token=`` or ``Authorization: Bearer``, compared in
constant time; anything else gets 401. No CORS headers are sent unless origins are given.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ._page import Page
from ._relay import Relay
from ._stream import RelayStream

__all__ = ["RelayApp", "relay_app"]

_SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache, no-store"),
    (b"x-accel-buffering", b"no"),  # proxies such as nginx must not hold the stream back
    (b"x-content-type-options", b"nosniff"),
    # One stream per connection: once a stream ends (or is cut) the connection goes too, so a
    # browser that was cut sees the end at once instead of an idle keep-alive connection.
    (b"connection", b"close"),
]


class RelayApp:
    """The ASGI app :func:`relay_app` returns; ``token`` is what browsers must present."""

    def __init__(
        self,
        relay: Relay,
        *,
        token: str | None,
        cors_origins: Iterable[str],
        heartbeat: float,
        retry_ms: int,
    ) -> None:
        if token is not None and not (isinstance(token, str) and token.strip()):
            raise ValueError("relay_app token must be a non-empty string")
        if heartbeat <= 0:
            raise ValueError(f"relay_app heartbeat must be > 0 seconds, got {heartbeat!r}")
        self.relay = relay
        self.token = token if token is not None else secrets.token_urlsafe(24)
        """The access token (generated when none was given)."""
        self.heartbeat = heartbeat
        self.retry_ms = retry_ms
        self._token = self.token.encode()
        self._page = Page.load()
        origins = list(cors_origins)
        middleware = []
        if origins:
            middleware.append(
                Middleware(
                    CORSMiddleware,
                    allow_origins=origins,
                    allow_methods=["GET"],
                    allow_headers=["Authorization", "Last-Event-ID"],
                )
            )
        routes = [
            Route("/", self._index, methods=["GET"]),
            Route("/sessions", self._sessions, methods=["GET"]),
            Route("/sessions/{session_id}/events", self._events, methods=["GET"]),
        ]
        self._app = Starlette(routes=routes, middleware=middleware)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._app(scope, receive, send)

    def authorized(self, request: Request) -> bool:
        """True when the request carries the token (query ``token`` or a Bearer header)."""
        given = request.query_params.get("token")
        if given is None:
            scheme, _, value = request.headers.get("authorization", "").partition(" ")
            given = value.strip() if scheme.lower() == "bearer" else None
        if not given:
            return False
        return hmac.compare_digest(given.encode(), self._token)

    async def _index(self, request: Request) -> Response:
        if not self.authorized(request):
            return _unauthorized()
        return HTMLResponse(self._page.html, headers=self._page.headers)

    async def _sessions(self, request: Request) -> Response:
        if not self.authorized(request):
            return _unauthorized()
        sessions = self.relay.sessions()
        return JSONResponse({"sessions": sessions}, headers={"cache-control": "no-store"})

    async def _events(self, request: Request) -> Any:
        if not self.authorized(request):
            return _unauthorized()
        session_id = request.path_params["session_id"]
        raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
        last_id: int | None = None
        if raw:
            try:
                last_id = int(raw)
            except ValueError:
                last_id = -1
            if last_id < 0:
                return JSONResponse(
                    {"error": "bad_request", "message": f"Last-Event-ID must be a sequence "
                     f"number (0 or more), got {raw[:40]!r}"},
                    status_code=400,
                )  # fmt: skip
        relay = self.relay
        if last_id is not None and relay.finished(session_id) and last_id >= relay.head(session_id):
            # Nothing more will come: 204 tells an EventSource to stop reconnecting.
            return Response(status_code=204)
        cursor, notices = relay.subscribe(session_id, last_id)
        return RelayStream(
            cursor,
            notices,
            heartbeat=self.heartbeat,
            coalesce_at=relay.coalesce_at,
            retry_ms=self.retry_ms,
            headers=_SSE_HEADERS,
            on_close=relay.unsubscribe,
        )


def _unauthorized() -> Response:
    return JSONResponse(
        {"error": "unauthorized", "message": "a valid token is required (?token= or Bearer)"},
        status_code=401,
        headers={"www-authenticate": 'Bearer realm="agentflow relay"'},
    )


def relay_app(
    relay: Relay | None = None,
    *,
    token: str | None = None,
    cors_origins: Iterable[str] = (),
    heartbeat: float = 15.0,
    retry_ms: int = 2000,
) -> RelayApp:
    """The ASGI app serving ``relay`` (a new :class:`Relay` when omitted) and its page.

    ``token`` is required from every browser (``?token=`` or ``Authorization: Bearer``); when
    omitted one is generated, readable as ``.token``. ``cors_origins`` lists the origins
    allowed to read the relay from other pages (none by default: same origin only).
    ``heartbeat`` is the seconds of silence after which a comment line is sent, ``retry_ms``
    the reconnection delay suggested to browsers. Mount it anywhere (Starlette, FastAPI, any
    ASGI server); it serves only what it is mounted under.
    """
    return RelayApp(
        relay if relay is not None else Relay(),
        token=token,
        cors_origins=cors_origins,
        heartbeat=heartbeat,
        retry_ms=retry_ms,
    )
