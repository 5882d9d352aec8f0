"""The Everruns emulator's routes, served on both the management and the channel surface.

=====================================================  =======================================
``POST   {s}/sessions``                                create (201); body of ``sessions.create``
``GET    {s}/sessions``                                ``{"data": [...], "next_page_token"}``
``GET    {s}/sessions/{id}``                           the session (``pending_approvals`` /
                                                       ``pending_questions`` included)
``DELETE {s}/sessions/{id}``                           204; the session then answers 404
``POST   {s}/sessions/{id}/messages``                  201 Message; starts or queues a turn
``GET    {s}/sessions/{id}/messages``                  ``{"data": [messages]}``
``GET    {s}/sessions/{id}/events``                    ``{"data": [...], "has_more"}``
``GET    {s}/sessions/{id}/sse``                       the event stream
``POST   {s}/sessions/{id}/tool-results``              ``{"accepted", "status"}``; 409 unless
                                                       waiting for tool results
``POST   {s}/sessions/{id}/tool-approvals``            ``{"accepted", "status"}``
``POST   {s}/sessions/{id}/question-answers``          ``{"accepted", "status"}``
``POST   {s}/sessions/{id}/cancel``                    ``{"status": "cancelled" | "no_op"}``
``GET    /api/v1/channels/{channel_id}``               the agent card
=====================================================  =======================================

``{s}`` is ``/api/v1`` (management) or ``/api/v1/channels/{channel_id}`` (channel).
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .server import Controls, wrap
from .state import EverrunsSession
from .stream import list_events, open_stream
from .wire import EverrunsError

__all__ = ["build_app"]

ROOT = "/api/v1"
CHANNEL = ROOT + "/channels/{channel_id}"


def build_app(controls: Controls) -> Starlette:
    """The Starlette application serving both surfaces under ``/api/v1``."""
    engine = controls.engine

    def session_of(request: Request) -> EverrunsSession:
        return engine.get(request.path_params["session_id"])

    async def create_session(request: Request, body: dict[str, Any]) -> Any:
        return 201, engine.create_session(body).render()

    async def list_sessions(request: Request, body: dict[str, Any]) -> Any:
        live = [s.render() for s in engine.sessions.values() if not s.deleted]
        return {"data": live[::-1], "next_page_token": None}

    async def get_session(request: Request, body: dict[str, Any]) -> Any:
        return session_of(request).render()

    async def delete_session(request: Request, body: dict[str, Any]) -> Any:
        engine.delete(session_of(request))
        return Response(status_code=204)

    async def post_message(request: Request, body: dict[str, Any]) -> Any:
        return 201, engine.post_message(session_of(request), body)

    async def list_messages(request: Request, body: dict[str, Any]) -> Any:
        return {"data": list(session_of(request).messages)}

    async def events(request: Request, body: dict[str, Any]) -> Any:
        return list_events(session_of(request), request.query_params)

    async def sse(request: Request, body: dict[str, Any]) -> Any:
        return open_stream(engine, session_of(request), request.query_params)

    async def tool_results(request: Request, body: dict[str, Any]) -> Any:
        return engine.tool_results(session_of(request), body)

    async def tool_approvals(request: Request, body: dict[str, Any]) -> Any:
        return engine.tool_approvals(session_of(request), body)

    async def question_answers(request: Request, body: dict[str, Any]) -> Any:
        return engine.question_answers(session_of(request), body)

    async def cancel(request: Request, body: dict[str, Any]) -> Any:
        return engine.cancel(session_of(request))

    async def card(request: Request, body: dict[str, Any]) -> Any:
        return {
            "name": "emulated-agent",
            "display_name": "Emulated agent",
            "channel_id": controls.channel_id,
            "accepts": ["text"],
            "conversation_starters": [],
        }

    async def no_route(request: Request, body: dict[str, Any]) -> Any:
        raise EverrunsError(404, "not_found", f"no route for {request.method} {request.url.path}")

    table = [
        ("/sessions", create_session, "POST"),
        ("/sessions", list_sessions, "GET"),
        ("/sessions/{session_id}", get_session, "GET"),
        ("/sessions/{session_id}", delete_session, "DELETE"),
        ("/sessions/{session_id}/messages", post_message, "POST"),
        ("/sessions/{session_id}/messages", list_messages, "GET"),
        ("/sessions/{session_id}/events", events, "GET"),
        ("/sessions/{session_id}/sse", sse, "GET"),
        ("/sessions/{session_id}/tool-results", tool_results, "POST"),
        ("/sessions/{session_id}/tool-approvals", tool_approvals, "POST"),
        ("/sessions/{session_id}/question-answers", question_answers, "POST"),
        ("/sessions/{session_id}/cancel", cancel, "POST"),
    ]
    routes = [
        Route(prefix + path, wrap(controls, fn), methods=[method])
        for prefix in (ROOT, CHANNEL)
        for path, fn, method in table
    ]
    routes.append(Route(CHANNEL, wrap(controls, card), methods=["GET"]))
    routes.append(
        Route(
            "/{path:path}",
            wrap(controls, no_route),
            methods=["GET", "POST", "DELETE", "PUT", "PATCH"],
        )
    )
    return Starlette(routes=routes)
