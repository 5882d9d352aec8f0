"""A successful (200) response whose body is not what the endpoint returns: ``DecodeError``.

The emulator always answers with well-formed objects, so these tests serve the bad bodies
from a tiny Starlette app through ``httpx.ASGITransport`` (in process, no socket).
"""

from __future__ import annotations

import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agentflow import DecodeError, ManagedAgentsClient
from agentflow.events import user_message
from agentflow.transport import Session

KEY = "sk-ant-api03-SECRET-do-not-leak-0123456789abcdef"
REQUEST_ID = "req_bad_body_1"
SESSION = {"id": "sesn_1", "type": "session", "status": "idle"}

Call = Callable[[ManagedAgentsClient], Awaitable[Any]]


def serve_all(body: bytes, media_type: str = "application/json") -> Starlette:
    """An app answering every request (any path, any method) with 200 and ``body``."""

    async def answer(request: Request) -> Response:
        return Response(body, media_type=media_type, headers={"request-id": REQUEST_ID})

    methods = ["GET", "POST", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", answer, methods=methods)])


async def call_with(app: Starlette, call: Call) -> Any:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        client = ManagedAgentsClient(KEY, "http://bad.test", http, max_retries=0)
        with anyio.fail_after(10):
            return await call(client)


def all_text(exc: BaseException) -> str:
    """What a user could see of an exception: str, repr, traceback, attributes, causes."""
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc)), repr(vars(exc))]
    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        parts += [str(cause), repr(cause)]
        cause = cause.__cause__ or cause.__context__
    return "\n".join(parts)


async def events_list(client: ManagedAgentsClient) -> Any:
    return [e async for e in client.events.list("sesn_1")]


async def sessions_list(client: ManagedAgentsClient) -> Any:
    return [s async for s in client.sessions.list()]


SESSION_CALLS: dict[str, tuple[Call, str]] = {
    "create": (
        lambda c: c.sessions.create(agent="agent_1", environment_id="env_1"),
        "Expected a Session object from POST /v1/sessions, got ",
    ),
    "retrieve": (
        lambda c: c.sessions.retrieve("sesn_1"),
        "Expected a Session object from GET /v1/sessions/sesn_1, got ",
    ),
    "update": (
        lambda c: c.sessions.update("sesn_1", title="t"),
        "Expected a Session object from POST /v1/sessions/sesn_1, got ",
    ),
    "archive": (
        lambda c: c.sessions.archive("sesn_1"),
        "Expected a Session object from POST /v1/sessions/sesn_1/archive, got ",
    ),
    "delete": (
        lambda c: c.sessions.delete("sesn_1"),
        "Expected a session_deleted object from DELETE /v1/sessions/sesn_1, got ",
    ),
    "sessions.list": (
        sessions_list,
        "Expected a page of Session objects from GET /v1/sessions, got ",
    ),
    "events.list": (
        events_list,
        "Expected a JSON page of events from GET /v1/sessions/sesn_1/events, got ",
    ),
    "events.send": (
        lambda c: c.events.send("sesn_1", [user_message("hi")]),
        "Expected a JSON page of events from POST /v1/sessions/sesn_1/events, got ",
    ),
}


@pytest.mark.parametrize("name", list(SESSION_CALLS))
async def test_a_non_json_body_raises_decode_error_naming_the_request(name: str) -> None:
    call, expected = SESSION_CALLS[name]
    html = b"<html><body>upstream maintenance</body></html>"
    with pytest.raises(DecodeError) as caught:
        await call_with(serve_all(html, "text/html"), call)
    message = str(caught.value)
    assert message.startswith(expected + repr(html))
    assert f"[request-id: {REQUEST_ID}]" in message
    assert caught.value.data == html  # the whole body, for whoever debugs it
    assert caught.value.__cause__ is None  # (pydantic's error text would quote the input)


@pytest.mark.parametrize(
    ("name", "body", "problem"),
    [
        ("retrieve", b'{"type": "session", "status": "idle"}', "id: Field required"),
        ("retrieve", b"[1, 2]", "Input should be an object"),
        ("delete", b'{"id": 42}', "id: Input should be a valid string"),
        ("sessions.list", b'{"data": [{"status": "idle"}]}', "data.0.id: Field required"),
        ("sessions.list", b'{"data": "nope"}', "data: Input should be a valid array"),
        ("events.list", b"[1, 2]", "a list without a 'data' list"),
        ("events.list", b'{"events": []}', "a dict without a 'data' list"),
    ],
)
async def test_a_wrong_shaped_body_raises_decode_error_saying_what_is_wrong(
    name: str, body: bytes, problem: str
) -> None:
    call, expected = SESSION_CALLS[name]
    with pytest.raises(DecodeError) as caught:
        await call_with(serve_all(body), call)
    message = str(caught.value)
    assert message.startswith(expected + repr(body))
    assert problem in message
    assert REQUEST_ID in message


async def test_the_field_is_named_on_the_error() -> None:
    call, _ = SESSION_CALLS["sessions.list"]
    with pytest.raises(DecodeError) as caught:
        await call_with(serve_all(b'{"data": [{"status": "idle"}]}'), call)
    assert caught.value.field == "data.0.id"


async def test_a_long_body_is_truncated_in_the_message() -> None:
    body = b"<html>" + b"x" * 5000 + b"</html>"
    with pytest.raises(DecodeError) as caught:
        await call_with(serve_all(body, "text/html"), SESSION_CALLS["retrieve"][0])
    message = str(caught.value)
    assert repr(body[:200]) + f"... ({len(body)} bytes)" in message
    assert len(message) < 500
    assert caught.value.data == body


@pytest.mark.parametrize("name", ["create", "events.list"])
async def test_a_body_echoing_the_api_key_never_reveals_it(name: str) -> None:
    call, _ = SESSION_CALLS[name]
    body = f"<html>bad auth header: Bearer {KEY}</html>".encode()
    with pytest.raises(DecodeError) as caught:
        await call_with(serve_all(body, "text/html"), call)
    text = all_text(caught.value)
    assert KEY not in text
    assert "[redacted]" in str(caught.value)


async def test_a_session_body_is_still_decoded_with_its_extra_fields() -> None:
    body = b'{"id": "sesn_1", "status": "idle", "new_field": [1]}'
    session = await call_with(serve_all(body), SESSION_CALLS["retrieve"][0])
    assert isinstance(session, Session)
    assert session.id == "sesn_1" and session.model_extra == {"new_field": [1]}


async def test_the_client_keeps_working_after_a_bad_body() -> None:
    calls = [0]

    async def flaky(request: Request) -> Response:
        calls[0] += 1
        if calls[0] == 1:
            return Response(b"not json", media_type="application/json")
        return JSONResponse(SESSION)

    app = Starlette(routes=[Route("/v1/sessions/{sid}", flaky)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        client = ManagedAgentsClient(KEY, "http://bad.test", http, max_retries=0)
        with anyio.fail_after(10):
            with pytest.raises(DecodeError, match="got b'not json'"):
                await client.sessions.retrieve("sesn_1")
            assert (await client.sessions.retrieve("sesn_1")).id == "sesn_1"


def test_a_page_read_with_skip_decodes_only_the_events_not_held(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``skip`` leaves known ids out unvalidated; odd ids (a list, none) are decoded as
    usual (and rejected, since a stored event needs a string id), and an invalid event
    among the rest is skipped with a warning, not fatal."""
    import json

    from agentflow.managed_agents.models import decode_event_page

    message = {"type": "agent.message", "processed_at": "2026-01-01T00:00:00Z", "content": []}
    body = {
        "data": [
            {**message, "id": "sevt_known", "content": "invalid, but never looked at"},
            {**message, "id": "sevt_new"},
            {**message, "id": ["not", "a", "string"]},
            {**message, "id": "sevt_bad", "content": "not a list"},
            {"type": "agent.message", "content": []},
        ],
        "next_page": "p2",
    }
    events, cursor = decode_event_page(json.dumps(body).encode(), skip={"sevt_known"})
    assert cursor == "p2"
    assert [e.id for e in events] == ["sevt_new"]
    warned = [r.getMessage() for r in caplog.records if "undecodable" in r.getMessage()]
    assert len(warned) == 3 and not any("sevt_known" in w for w in warned)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"data": [{"id": "a", "x": [1, {"y": 2}]}, {"id": "b"}], "next_page": "p2"}, (True, "p2")),
        ({"data": [{"id": "a"}], "next_page": ""}, (True, None)),
        ({"data": [{"id": "a"}]}, (True, None)),
        ({"data": [], "next_page": None}, (True, None)),
        ({"data": [{"id": "a"}, {"id": "new"}], "next_page": "p2"}, (False, None)),
        ({"data": [{"id": "a"}, {"type": "agent.message"}]}, (False, None)),
        ({"data": [{"id": "a"}, {"id": 7}]}, (False, None)),
        ({"data": [{"id": "a"}, {"id": None}]}, (False, None)),
        ({"data": [{"id": "a"}, "not an event"]}, (False, None)),
        ({"data": {"id": "a"}}, (False, None)),
        ({"events": [{"id": "a"}]}, (False, None)),
        ([{"id": "a"}], (False, None)),
        ({"data": [{"id": "a"}], "next_page": 3}, (False, None)),
    ],
)
def test_a_page_of_held_events_is_recognised_from_its_ids_alone(
    body: object, expected: tuple[bool, str | None]
) -> None:
    """Only a well-formed page whose every event has a string id in ``skip`` counts as seen
    (its cursor as ``read_event_page`` gives it); anything else is decoded the full way."""
    import json

    from agentflow.managed_agents.models import skipped_page

    assert skipped_page(json.dumps(body).encode(), {"a", "b"}) == expected
    assert skipped_page(json.dumps(body).encode(), set()) == (False, None)  # nothing held


@pytest.mark.parametrize("content", [b"", b"not json", b'{"data": [{"id": "a"}]', b"\xff"])
def test_a_body_that_is_no_page_is_left_to_the_full_decoder(content: bytes) -> None:
    from agentflow.managed_agents.models import decode_event_page, skipped_page

    assert skipped_page(content, {"a"}) == (False, None)
    with pytest.raises(DecodeError, match="a JSON page of events"):
        decode_event_page(content, skip={"a"})


def test_a_page_of_held_events_decodes_to_nothing_with_its_cursor() -> None:
    import json

    from agentflow.managed_agents.models import decode_event_page

    held = {"type": "agent.message", "id": "a", "content": "invalid, but held already"}
    body = json.dumps({"data": [held], "next_page": "p9"}).encode()
    assert decode_event_page(body, skip={"a"}) == ([], "p9")
