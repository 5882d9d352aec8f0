"""The emulator's HTTP surface: auth, beta gate, errors, pagination, filters and resources."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest
from emu_support import BETA, create_session, headers, raw_client, send, user_message

from agentflow.testing import Burst, Emit, Emulator, Scenario, Turn


async def _get(emu: Emulator, path: str, hdrs: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=emu.base_url + "/v1") as client:
        return await client.get(path, headers=hdrs)


@pytest.mark.parametrize(
    ("hdrs", "status", "etype"),
    [
        ({"x-api-key": "anything", "anthropic-beta": BETA}, 200, None),
        ({"authorization": "Bearer anything", "anthropic-beta": BETA}, 200, None),
        ({"x-api-key": "k", "anthropic-beta": f"other-2025-01-01,{BETA}"}, 200, None),
        ({"anthropic-beta": BETA}, 401, "authentication_error"),
        ({"x-api-key": "", "anthropic-beta": BETA}, 401, "authentication_error"),
        ({"x-api-key": "k"}, 400, "invalid_request_error"),
        ({"x-api-key": "k", "anthropic-beta": "other-2025-01-01"}, 400, "invalid_request_error"),
    ],
    ids=["x-api-key", "bearer", "beta-list", "no-key", "empty-key", "no-beta", "wrong-beta"],
)
async def test_auth_and_beta_gate(hdrs: dict[str, str], status: int, etype: str | None) -> None:
    async with Emulator() as emu:
        response = await _get(emu, "/sessions", hdrs)
    assert response.status_code == status
    assert response.headers["request-id"].startswith("req_")
    if etype:
        assert response.json() == {
            "type": "error",
            "error": {"type": etype, "message": response.json()["error"]["message"]},
        }


@pytest.mark.parametrize(
    ("key", "status"),
    [("s3cret", 200), ("wrong", 401), (None, 401)],
    ids=["right", "wrong", "none"],
)
async def test_a_required_api_key_is_enforced(key: str | None, status: int) -> None:
    async with Emulator(api_key="s3cret") as emu:
        hdrs = {"anthropic-beta": BETA}
        if key:
            hdrs["authorization"] = f"Bearer {key}"
        response = await _get(emu, "/sessions", hdrs)
        assert emu.api_key == "s3cret"
    assert response.status_code == status
    assert "s3cret" not in response.text


def test_the_key_never_shows_in_the_repr() -> None:
    assert "s3cret" not in repr(Emulator(api_key="s3cret"))


def test_only_loopback_hosts_are_accepted() -> None:
    with pytest.raises(ValueError, match="loopback"):
        Emulator(host="0.0.0.0")


async def test_unknown_routes_and_sessions_are_404_with_the_envelope() -> None:
    async with Emulator() as emu, raw_client(emu) as client:
        missing = await client.get("/sessions/sesn_missing")
        route = await client.get("/nope")
        thread = await client.get(f"/sessions/{emu.create_session()}/threads/sthr_missing")
    for response in (missing, route, thread):
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "not_found_error"
        assert response.headers["request-id"]


async def _session_with_history(emu: Emulator, client: httpx.AsyncClient) -> str:
    session_id = await create_session(client)
    await send(client, session_id, user_message())
    with anyio.fail_after(5):
        await emu.wait_for_event(session_id, "session.status_idle")
    return session_id


async def _pages(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    pages = []
    page = None
    while True:
        query = dict(params)
        if page:
            query["page"] = page
        body = (await client.get(path, params=query)).json()
        pages.append(body)
        page = body["next_page"]
        if page is None:
            return pages


async def test_events_pages_end_with_a_null_next_page() -> None:
    async with Emulator(Scenario([Turn([Burst(20)])])) as emu, raw_client(emu) as client:
        session_id = await _session_with_history(emu, client)
        history = emu.history(session_id)
        asc = await _pages(client, f"/sessions/{session_id}/events", limit=7)
        desc = await _pages(client, f"/sessions/{session_id}/events", limit=7, order="desc")
        exact = await _pages(client, f"/sessions/{session_id}/events", limit=len(history))
    assert [e for p in asc for e in p["data"]] == history
    assert [len(p["data"]) for p in asc[:-1]] == [7] * (len(asc) - 1)
    assert [e for p in desc for e in p["data"]] == history[::-1]
    assert len(exact) == 1 and exact[0]["next_page"] is None


async def test_desc_pages_stay_stable_while_events_are_appended() -> None:
    async with Emulator(Scenario([Turn([Burst(10)])])) as emu, raw_client(emu) as client:
        session_id = await _session_with_history(emu, client)
        history = emu.history(session_id)
        path = f"/sessions/{session_id}/events"
        first = (await client.get(path, params={"limit": 5, "order": "desc"})).json()
        emu.emit(session_id, {"type": "agent.thread_context_compacted"})
        rest = await _pages(client, path, limit=5, order="desc", page=first["next_page"])
    listed = first["data"] + [e for p in rest for e in p["data"]]
    assert listed == history[::-1]


async def test_types_and_created_at_filters() -> None:
    async with Emulator(Scenario([Turn([Burst(5)])])) as emu, raw_client(emu) as client:
        session_id = await _session_with_history(emu, client)
        history = emu.history(session_id)
        path = f"/sessions/{session_id}/events"
        typed = (
            await client.get(
                path, params={"types[]": ["agent.message", "session.status_idle"], "limit": 100}
            )
        ).json()["data"]
        middle = history[len(history) // 2]["processed_at"]
        after = (await client.get(path, params={"created_at[gt]": middle})).json()["data"]
        upto = (await client.get(path, params={"created_at[lte]": middle})).json()["data"]
        bad = await client.get(path, params={"created_at[gt]": "yesterday"})
    assert [e["type"] for e in typed] == ["agent.message"] * 5 + ["session.status_idle"]
    assert all(e["processed_at"] > middle for e in after)
    assert all(e["processed_at"] <= middle for e in upto)
    assert len(after) + len(upto) == len(history)
    assert bad.status_code == 400


async def test_a_time_bound_reads_the_same_events_in_order_or_not() -> None:
    """A lone ``created_at[gte|gt]`` bound is found by bisection while history is in time
    order, and by a scan once an event is stored behind a later one: both give what a
    filter over every stored event gives, page after page."""
    async with Emulator(Scenario([Turn([Burst(9)])])) as emu, raw_client(emu) as client:
        session_id = await _session_with_history(emu, client)
        path = f"/sessions/{session_id}/events"

        async def read(op: str, bound: str) -> list[str]:
            ids: list[str] = []
            page: str | None = None
            while True:
                query = {f"created_at[{op}]": bound, "limit": "3"}
                body = (
                    await client.get(path, params={**query, **({"page": page} if page else {})})
                ).json()
                ids += [e["id"] for e in body["data"]]
                page = body["next_page"]
                if not page:
                    return ids

        def expected(op: str, bound: str) -> list[str]:
            stored = emu.history(session_id)
            if op == "gte":
                return [e["id"] for e in stored if e["processed_at"] >= bound]
            return [e["id"] for e in stored if e["processed_at"] > bound]

        for when in ("in order", "one event behind"):
            if when == "one event behind":
                emu.emit(
                    session_id,
                    {
                        "type": "agent.message",
                        "content": [],
                        "processed_at": "2000-01-01T00:00:00.000Z",
                    },
                )
                assert emu.history(session_id)[-1]["processed_at"].startswith("2000")
            assert emu.session(session_id).in_order is (when == "in order")
            stamps = sorted({e["processed_at"] for e in emu.history(session_id)})
            for bound in (stamps[0], stamps[len(stamps) // 2], stamps[-1], "2100-01-01T00:00:00Z"):
                for op in ("gte", "gt"):
                    assert await read(op, bound) == expected(op, bound), (when, op, bound)


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "x"}, {"order": "up"}, {"page": "!!"}])
async def test_bad_list_parameters_are_400(query: dict[str, str]) -> None:
    async with Emulator() as emu, raw_client(emu) as client:
        response = await client.get(f"/sessions/{emu.create_session()}/events", params=query)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_session_resources_list_update_archive_delete() -> None:
    async with Emulator() as emu, raw_client(emu) as client:
        ids = [await create_session(client, metadata={"n": str(i)}, title="t") for i in range(3)]
        listed = (await client.get("/sessions", params={"limit": 2})).json()
        rest = (
            await client.get("/sessions", params={"limit": 2, "page": listed["next_page"]})
        ).json()
        updated = (
            await client.post(f"/sessions/{ids[0]}", json={"metadata": {"n": None, "k": "v"}})
        ).json()
        archived = (await client.post(f"/sessions/{ids[1]}/archive")).json()
        refused = await send(client, ids[1], user_message())
        visible = (await client.get("/sessions")).json()["data"]
        with_archived = (await client.get("/sessions", params={"include_archived": "true"})).json()
        deleted = await client.delete(f"/sessions/{ids[2]}")
        gone = await client.get(f"/sessions/{ids[2]}")
        updates = [e for e in emu.history(ids[0]) if e["type"] == "session.updated"]
    assert [s["id"] for s in listed["data"] + rest["data"]] == ids[::-1]  # newest first
    assert rest["next_page"] is None
    assert updated["metadata"] == {"k": "v"}
    assert updates == [updates[0]] and updates[0]["metadata"] == {"k": "v"}
    assert archived["archived_at"] is not None
    assert refused.status_code == 400
    assert ids[1] not in [s["id"] for s in visible]
    assert ids[1] in [s["id"] for s in with_archived["data"]]
    assert deleted.json() == {"id": ids[2], "type": "session_deleted"}
    assert gone.status_code == 404


async def test_create_validates_its_body() -> None:
    async with Emulator() as emu, raw_client(emu) as client:
        missing = await client.post("/sessions", json={"agent": "a"})
        too_many = await client.post(
            "/sessions",
            json={"agent": "a", "environment_id": "e", "initial_events": [user_message()] * 51},
        )
        wrong = await client.post(
            "/sessions",
            json={
                "agent": "a",
                "environment_id": "e",
                "initial_events": [{"type": "user.interrupt"}],
            },
        )
        not_json = await client.post("/sessions", content=b"{", headers={"content-type": "x"})
    assert [r.status_code for r in (missing, too_many, wrong, not_json)] == [400] * 4


async def test_threads_list_retrieve_events_and_stream() -> None:
    child = {"session_thread_id": "sthr_child", "agent_name": "helper"}
    scenario = Scenario(
        [
            Turn(
                [
                    Emit({"type": "session.thread_created", **child}),
                    Emit({"type": "session.thread_status_running", **child}),
                ]
            ),
            Turn([Emit({"type": "agent.thinking", "session_thread_id": "sthr_child"})]),
        ]
    )
    async with Emulator(scenario) as emu, raw_client(emu) as client:
        session_id = await create_session(client)
        base = f"/sessions/{session_id}/threads"
        with anyio.fail_after(5):
            await send(client, session_id, user_message())
            await emu.wait_for_event(session_id, "session.status_idle")
            async with client.stream("GET", f"{base}/sthr_child/stream") as response:
                await send(client, session_id, user_message())
                await emu.wait_for_event(session_id, "session.status_idle", count=2)
                emu.terminate(session_id)  # ends the thread stream too
                streamed = [
                    line async for line in response.aiter_lines() if line.startswith("event:")
                ]
        threads = (await client.get(base)).json()
        primary_id = threads["data"][0]["id"]
        primary = (await client.get(f"{base}/{primary_id}")).json()
        child_events = (await client.get(f"{base}/sthr_child/events")).json()
        primary_events = (await client.get(f"{base}/{primary_id}/events")).json()
        archived = (await client.post(f"{base}/sthr_child/archive")).json()
    assert [t["id"] for t in threads["data"]] == [primary_id, "sthr_child"]
    assert threads["next_page"] is None
    assert primary["type"] == "session_thread" and primary["parent_thread_id"] is None
    assert [e["type"] for e in child_events["data"]] == [
        "session.thread_created",
        "session.thread_status_running",
        "agent.thinking",
    ]
    assert "agent.thinking" not in [e["type"] for e in primary_events["data"]]
    assert archived["id"] == "sthr_child" and archived["archived_at"] is not None
    assert streamed == ["event: agent.thinking"]  # only the child's events, live only


async def test_the_stream_rejects_unknown_delta_types() -> None:
    async with Emulator() as emu, raw_client(emu) as client:
        response = await client.get(
            f"/sessions/{emu.create_session()}/events/stream",
            params={"event_deltas[]": "agent.tool_use"},
        )
    assert response.status_code == 400


async def test_every_request_is_logged() -> None:
    async with Emulator() as emu:
        async with httpx.AsyncClient(base_url=emu.base_url, headers=headers()) as client:
            await client.get("/v1/sessions")
            await client.get("/v1/sessions/missing")
        log = [(r.method, r.path, r.status) for r in emu.requests]
    assert log == [("GET", "/v1/sessions", 200), ("GET", "/v1/sessions/missing", 404)]
