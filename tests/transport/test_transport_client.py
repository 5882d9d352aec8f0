"""The client against the emulator: configuration, headers, sessions, paging, send."""

from __future__ import annotations

import logging

import anyio
import httpx
import pytest
from transport_helpers import client_for, history_ids

from agentflow import (
    AuthenticationError,
    BadRequestError,
    ManagedAgentsClient,
    NotFoundError,
    ServerError,
)
from agentflow.events import UserMessage, custom_tool_result, user_message
from agentflow.testing import CustomTool, Emulator, Say, Scenario, Turn
from agentflow.transport import DeletedSession, Session


async def test_headers_are_exactly_the_protocol_ones(emulator: Emulator) -> None:
    seen: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        seen.append(request)

    async with httpx.AsyncClient(event_hooks={"request": [record]}) as http:
        client = ManagedAgentsClient("sk-test-0123456789", emulator.base_url, http)
        sid = emulator.create_session()
        await client.sessions.retrieve(sid)
        async with client.events.stream(sid):
            pass
        await client.aclose()
        assert not http.is_closed  # a borrowed client is left open
    for request in seen:
        assert request.headers["authorization"] == "Bearer sk-test-0123456789"
        assert request.headers["anthropic-version"] == "2026-10-21"
        assert request.headers["anthropic-beta"] == "managed-agents-2026-04-01"
        assert request.headers["accept"] == "application/json"
        assert "x-api-key" not in request.headers
    assert [r.url.path for r in seen] == [
        f"/v1/sessions/{sid}",
        f"/v1/sessions/{sid}/events/stream",
        f"/v1/sessions/{sid}/events",
    ]


async def test_key_and_base_url_come_from_the_environment(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", emulator.api_key)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", emulator.base_url)
    async with ManagedAgentsClient() as client:
        assert client.base_url == emulator.base_url
        session = await client.sessions.create(agent="agent_x", environment_id="env_x")
        assert session.id in emulator.sessions
    assert client.http_client.is_closed  # an owned client is closed with ours


def test_default_base_url_and_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(AuthenticationError, match="ANTHROPIC_API_KEY"):
        ManagedAgentsClient()
    client = ManagedAgentsClient(api_key="k" * 20)
    assert client.base_url == "https://api.anthropic.com"
    anyio.run(client.aclose)


async def test_session_lifecycle(emulator: Emulator) -> None:
    async with client_for(emulator) as client:
        created = await client.sessions.create(
            agent="agent_1", environment_id="env_1", title="first", metadata={"k": "v"}
        )
        assert isinstance(created, Session)
        assert created.status == "idle" and created.title == "first"
        assert created.model_extra is not None and "outcome_evaluations" in created.model_extra
        fetched = await client.sessions.retrieve(created.id)
        assert fetched.id == created.id
        updated = await client.sessions.update(created.id, title="renamed")
        assert updated.title == "renamed"
        archived = await client.sessions.archive(created.id)
        assert archived.archived_at is not None
        deleted = await client.sessions.delete(created.id)
        assert deleted == DeletedSession(id=created.id, type="session_deleted")
        with pytest.raises(NotFoundError) as info:
            await client.sessions.retrieve(created.id)
        err = info.value
        assert err.status == 404 and err.type == "not_found_error"
        assert err.request_id and err.request_id.startswith("req_")


async def test_sessions_list_walks_every_page(emulator: Emulator) -> None:
    ids = {emulator.create_session() for _ in range(7)}
    async with client_for(emulator) as client:
        listed = [s.id async for s in client.sessions.list(limit=2)]
    assert set(listed) == ids and len(listed) == 7
    pages = [r for r in emulator.requests if r.path == "/v1/sessions"]
    assert len(pages) == 4  # 2 + 2 + 2 + 1


@pytest.mark.emulator_scenario(Scenario([Turn([Say(f"m{i}") for i in range(12)])]))
async def test_events_list_pages_and_filters(emulator: Emulator) -> None:
    sid = emulator.create_session()
    emulator.send(sid, [user_message("go")])
    with anyio.fail_after(10):
        await emulator.wait_for_event(sid, "session.status_idle")
    stored = [e["id"] for e in emulator.history(sid)]
    async with client_for(emulator) as client:
        assert await history_ids(client, sid) == stored
        paged = [e.id async for e in client.events.list(sid, limit=5)]
        assert paged == stored
        newest_first = [e.id async for e in client.events.list(sid, order="desc", limit=4)]
        assert newest_first == stored[::-1]
        messages = [e async for e in client.events.list(sid, types=["agent.message"])]
        assert [e.text for e in messages] == [f"m{i}" for i in range(12)]
        middle = emulator.history(sid)[10]
        tail = [e.id async for e in client.events.list(sid, created_at_gte=middle["processed_at"])]
        assert set(stored[10:]) <= set(tail) and all(i in stored for i in tail)
    list_calls = [
        r for r in emulator.requests if r.path.endswith("/events") and "limit=5" in r.query
    ]
    assert len(list_calls) == -(-len(stored) // 5)


@pytest.mark.emulator_scenario(Scenario([Turn([Say(f"m{i}") for i in range(6)])]))
async def test_events_list_leaves_out_the_ids_in_skip(emulator: Emulator) -> None:
    sid = emulator.create_session()
    emulator.send(sid, [user_message("go")])
    with anyio.fail_after(10):
        await emulator.wait_for_event(sid, "session.status_idle")
    stored = [e["id"] for e in emulator.history(sid)]
    known = set(stored[::2])
    async with client_for(emulator) as client:
        rest = [e.id async for e in client.events.list(sid, limit=2, skip=known)]
        page, _ = await client.events.page(sid, limit=100, skip=known)
        whole = [e.id async for e in client.events.list(sid, skip=set())]
    assert rest == [i for i in stored if i not in known]
    assert [e.id for e in page] == rest
    assert whole == stored


async def test_events_list_with_skip_validates_only_what_is_asked_for(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    """With ``skip`` a page is validated event by event as the reader asks: one that stops
    early never pays for (nor warns about) what comes after on the same page."""
    sid = emulator.create_session()
    text = [{"type": "text", "text": "a"}]
    first = emulator.emit(sid, {"type": "agent.message", "content": text})
    bad = emulator.emit(sid, {"type": "agent.message", "content": "not a list"})
    async with client_for(emulator) as client:
        async for event in client.events.list(sid, limit=10, skip=set()):
            assert event.id == first["id"]
            break
        assert not [r for r in caplog.records if bad["id"] in r.getMessage()]
        rest = [e.id async for e in client.events.list(sid, limit=10, skip={first["id"]})]
    assert rest == []  # the invalid one is skipped, with its warning
    assert [r for r in caplog.records if bad["id"] in r.getMessage()]


@pytest.mark.emulator_scenario(Scenario([Turn([CustomTool("lookup", {"q": 1})])]))
async def test_send_returns_typed_echoes_and_rejects_bad_replies(emulator: Emulator) -> None:
    sid = emulator.create_session()
    async with client_for(emulator) as client:
        echoes = await client.events.send(sid, [user_message("hi")])
        assert [type(e) for e in echoes] == [UserMessage]
        assert echoes[0].id and echoes[0].text == "hi"
        with pytest.raises(BadRequestError) as info:
            await client.events.send(sid, [custom_tool_result("no-such-call", "x")])
        assert info.value.type == "invalid_request_error" and info.value.status == 400
        with pytest.raises(ValueError, match="at least one"):
            await client.events.send(sid, [])
        with pytest.raises(TypeError, match="list of events"):
            await client.events.send(sid, user_message("not in a list"))  # type: ignore[arg-type]
    posts = [r for r in emulator.requests if r.method == "POST"]
    assert [r.status for r in posts] == [200, 400]  # the 400 was not retried


async def test_send_is_not_retried_when_it_may_have_been_processed(emulator: Emulator) -> None:
    sid = emulator.create_session()
    path = f"/v1/sessions/{sid}/events"
    async with client_for(emulator) as client:
        emulator.fail_next(500, path=path, method="POST")
        with pytest.raises(ServerError):
            await client.events.send(sid, [user_message("once")])
        assert [r.status for r in emulator.requests if r.method == "POST"] == [500]
        # a 429 was surely not processed: retried
        emulator.fail_next(429, path=path, method="POST")
        await client.events.send(sid, [user_message("twice")])
        # and the server may say so explicitly
        emulator.fail_next(503, path=path, method="POST", headers={"x-should-retry": "true"})
        await client.events.send(sid, [user_message("thrice")])
        # retry="all" retries a 500 too
        emulator.fail_next(500, path=path, method="POST")
        await client.events.send(sid, [user_message("again")], retry="all")
    statuses = [r.status for r in emulator.requests if r.method == "POST"]
    assert statuses == [500, 429, 200, 503, 200, 500, 200]
    texts = [e["content"][0]["text"] for e in emulator.history(sid) if e["type"] == "user.message"]
    assert texts == ["twice", "thrice", "again"]


async def test_x_should_retry_false_stops_retries(emulator: Emulator) -> None:
    sid = emulator.create_session()
    async with client_for(emulator) as client:
        emulator.fail_next(503, path=f"/v1/sessions/{sid}", headers={"x-should-retry": "false"})
        with pytest.raises(ServerError) as info:
            await client.sessions.retrieve(sid)
    assert info.value.status == 503 and info.value.type == "overloaded_error"
    assert len(emulator.requests) == 1


async def test_bad_session_ids_are_rejected_before_any_request(emulator: Emulator) -> None:
    async with client_for(emulator) as client:
        with pytest.raises(ValueError, match="session_id"):
            await client.sessions.retrieve("")
        # path separators are escaped, never interpreted
        with pytest.raises(NotFoundError):
            await client.sessions.retrieve("../sessions")
    assert (
        emulator.requests[-1].path.endswith("..%2Fsessions") or emulator.requests[-1].status == 404
    )


async def test_history_keeps_unknown_types_and_skips_invalid_events(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    sid = emulator.create_session()
    emulator.emit(sid, {"type": "agent.future_thing", "payload": {"x": 1}})
    bad = emulator.emit(sid, {"type": "agent.message", "content": "not a list"})
    emulator.emit(sid, {"type": "agent.message", "content": [{"type": "text", "text": "ok"}]})
    async with client_for(emulator) as client:
        events = [e async for e in client.events.list(sid)]
    assert [e.type for e in events] == ["agent.future_thing", "agent.message"]
    assert type(events[0]).__name__ == "UnknownEvent" and events[0].raw["payload"] == {"x": 1}
    assert events[1].text == "ok"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(bad["id"] in w and "content" in w for w in warnings)
