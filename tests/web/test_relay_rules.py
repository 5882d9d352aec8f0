"""The relay's rules: merging under pressure, gaps and resets, any dialect, CORS, the page."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import anyio
import httpx
import pytest
from web_support import events_url, parse_sse, quiet_app, read_until, serving

from agentflow.core.events import Event
from agentflow.events import parse_event
from agentflow.web import Relay, relay_app

LIMIT = 20
TOKEN = "a-token-for-this-test"


class Foreign(Event):
    """An event of a dialect the relay knows nothing about, beyond ``kind`` and fields."""

    def __init__(self, type: str, kind: str | None, id: str | None = None, **fields: Any):
        self.type = type
        self.id = id
        self._kind = kind
        self.__dict__.update(fields)

    @property
    def kind(self) -> str | None:
        return self._kind

    @property
    def text(self) -> str:
        return str(self.__dict__.get("delta", ""))

    @property
    def tool_name(self) -> str | None:
        return self.__dict__.get("tool")


def _delta(text: str, message: str = "sevt_m1") -> Event:
    return parse_event(
        {"type": "event_delta", "event_id": message,
         "delta": {"type": "content_delta", "index": 0, "content": {"type": "text", "text": text}}}
    )  # fmt: skip


def _message(text: str, event_id: str = "sevt_m1") -> Event:
    return parse_event(
        {"type": "agent.message", "id": event_id, "processed_at": "2026-01-01T00:00:00Z",
         "content": [{"type": "text", "text": text}]}
    )  # fmt: skip


async def test_a_browser_far_behind_gets_deltas_merged_and_every_other_message() -> None:
    relay = Relay(queue_size=1000, coalesce_at=8)
    words = [f"w{i} " for i in range(120)]
    with anyio.fail_after(LIMIT):
        async with serving(relay) as server, httpx.AsyncClient(timeout=10) as http:
            async with anyio.create_task_group() as tg:
                got: list[Any] = []

                async def browse() -> None:
                    got.extend(await read_until(http, events_url(server, "s"), token=server.token))

                tg.start_soon(browse)
                await relay.wait_for_browser("s")
                # published in one go: the browser's writer only runs once all are queued
                for i, word in enumerate(words):
                    relay.publish("s", _delta(word))
                    if i == 59:
                        relay.publish("s", _message("".join(words[:60]), "sevt_half"))
                relay.publish("s", _message("".join(words)))
                relay.finish("s")
    deltas = [m for m in got if m.event == "message.delta"]
    assert len(deltas) < len(words)  # merged
    assert max(m.data["merged"] for m in deltas) > 1
    assert "".join(m.data["text"] for m in deltas) == "".join(words)  # nothing lost
    assert [m.data["text"] for m in got if m.event == "message.completed"] == [
        "".join(words[:60]),
        "".join(words),
    ]
    ids = [m.id for m in got]
    assert ids == sorted(ids) and ids[-1] == relay.head("s")  # merged ones carry the last id


async def test_a_resume_older_than_the_buffer_says_what_was_missed_and_a_newer_one_resets() -> None:
    relay = Relay(buffer_size=10)
    for i in range(25):
        relay.publish("s", _message(f"m{i}", f"sevt_{i}"))
    relay.publish("s", _message("m0", "sevt_0"))  # the same event again: skipped
    with anyio.fail_after(LIMIT):
        async with serving(relay) as server, httpx.AsyncClient(timeout=10) as http:
            url = events_url(server, "s")
            old = await read_until(http, url, token=server.token, last_id=3, stop="x", limit=11)
            new = await read_until(http, url, token=server.token, last_id=99, stop="x", limit=12)
            fresh = await read_until(http, url, token=server.token, stop="x", limit=11)
            bad = await http.get(url, params={"token": server.token, "last_event_id": "abc"})
    assert relay.head("s") == 25
    gap = {"kind": "relay.gap", "missed": 12}
    assert (old[0].event, old[0].id, old[0].data) == ("relay.gap", None, gap)
    assert [m.id for m in old[1:]] == list(range(16, 26))
    assert [m.event for m in new[:2]] == ["relay.reset", "relay.gap"]
    assert [m.id for m in new[2:]] == list(range(16, 26))
    assert fresh[0].data == {"kind": "relay.gap", "missed": 15}
    assert bad.status_code == 400 and "Last-Event-ID" in bad.json()["message"]


async def test_events_of_any_dialect_are_relayed_through_their_kind() -> None:
    relay = Relay(tool_input=True)
    events = [
        Foreign("metadata", "turn.started"),
        Foreign("text-delta", "message.delta", message_id="msg_1", delta="Looking "),
        Foreign("text-delta", "message.delta", message_id="msg_1", delta="it up."),
        Foreign("tool-call-start", "tool.started", tool_call_id="tc_1", tool="search"),
        Foreign(
            "permission_resolved",
            "approval.resolved",
            tool_call_id="tc_1",
            decision="denied",
            reason="not today",
        ),  # fmt: skip
        Foreign("tool-result-end", "tool.failed", tool_call_id="tc_1"),
        Foreign("connected", "stream.connected"),
        Foreign("error", "error", error={"type": "overloaded", "message": "busy"}),
        Foreign("done", "turn.completed", stop_reason="end_turn"),
    ]
    for event in events:
        relay.publish("run_1", event)
    relay.finish("run_1")
    with anyio.fail_after(LIMIT):
        async with serving(relay) as server, httpx.AsyncClient(timeout=10) as http:
            got = await read_until(http, events_url(server, "run_1"), token=server.token)
    by = {m.event: m.data for m in got}
    assert [m.event for m in got] == [
        "turn.started", "message.delta", "message.delta", "tool.started", "approval.resolved",
        "tool.failed", "error", "turn.completed", "relay.end",
    ]  # fmt: skip
    assert by["tool.started"]["tool"] == {"id": "tc_1", "name": "search"}  # no input to show
    assert by["approval.resolved"]["approval"] == {
        "tool_id": "tc_1", "tool_name": "search", "verdict": "deny", "message": "not today",
    }  # fmt: skip
    assert by["tool.failed"]["tool"]["name"] == "search"
    assert by["tool.failed"]["tool"]["outcome"] == "denied"
    assert by["error"]["error"] == {"type": "overloaded", "message": "busy", "retry_status": None}
    summary = by["turn.completed"]["summary"]
    assert summary["stop_reason"] == "end_turn" and summary["first_token_streamed"] is True
    assert [(t["name"], t["outcome"]) for t in summary["tools"]] == [("search", "denied")]


async def test_the_middleware_publishes_before_the_handlers_and_never_breaks_the_app() -> None:
    relay = Relay()
    app = quiet_app()
    app.use(relay.middleware(session_id="replay"))
    heads: list[int] = []

    @app.on("*")
    def handler(event: Any) -> None:
        heads.append(relay.head("replay"))

    class Broken(Foreign):
        @property
        def kind(self) -> str | None:
            raise RuntimeError("a dialect bug")

    await app.dispatch_many([_message("one", "sevt_1"), Broken("x", None), _message("two")])
    assert heads == [1, 1, 2]  # published first; the broken event was only logged


@pytest.mark.parametrize("origins", [(), ("https://ops.example",)], ids=["default", "configured"])
async def test_cors_headers_only_for_configured_origins(origins: tuple[str, ...]) -> None:
    relay = Relay()
    web = relay_app(relay, token=TOKEN, cors_origins=origins)
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://relay") as http:
        response = await http.get(
            "/sessions",
            headers={"origin": "https://ops.example", "authorization": f"Bearer {TOKEN}"},
        )
        preflight = await http.options(
            "/sessions/s/events",
            headers={"origin": "https://ops.example", "access-control-request-method": "GET"},
        )
    assert response.status_code == 200
    allowed = response.headers.get("access-control-allow-origin")
    assert allowed == ("https://ops.example" if origins else None)
    assert preflight.status_code == (200 if origins else 405)


def test_the_page_is_one_file_with_no_markup_from_data_and_no_outside_requests() -> None:
    html = resources.files("agentflow.web").joinpath("page.html").read_text("utf-8")
    assert "innerHTML" not in html and "outerHTML" not in html and "insertAdjacentHTML" not in html
    assert "document.write" not in html and "eval(" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # nothing to download
    assert "new EventSource(" in html
    web = relay_app(token="t" * 20)
    policy = web._page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy and policy.count("'sha256-") == 2


async def test_a_quiet_stream_carries_heartbeats_and_tells_browsers_when_to_reconnect() -> None:
    relay = Relay()
    with anyio.fail_after(LIMIT):
        async with serving(relay, heartbeat=0.05, retry_ms=500) as server:
            async with httpx.AsyncClient(timeout=10) as http:
                url = events_url(server, "quiet")
                async with http.stream("GET", url, params={"token": server.token}) as response:
                    raw = b""
                    async for chunk in response.aiter_bytes():
                        raw += chunk
                        if raw.count(b": heartbeat\n\n") >= 2:  # nothing else was published
                            break
    assert raw.startswith(b"retry: 500\n\n")
    assert parse_sse(raw) == []
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"].startswith("no-cache")


def test_bad_settings_are_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="token must be a non-empty string"):
        relay_app(token="  ")
    with pytest.raises(ValueError, match="queue_size must be >= 1"):
        Relay(queue_size=0)
    with pytest.raises(ValueError, match="heartbeat must be > 0"):
        relay_app(heartbeat=0)
    assert len(relay_app().token) >= 32  # generated when none is given


async def test_a_page_waits_for_its_session_and_a_finished_one_is_not_reopened() -> None:
    relay = Relay()
    with anyio.fail_after(LIMIT):
        async with serving(relay) as server, httpx.AsyncClient(timeout=10) as http:
            async with anyio.create_task_group() as tg:
                got: list[Any] = []

                async def browse() -> None:
                    url = events_url(server, "later")
                    got.extend(await read_until(http, url, token=server.token))

                tg.start_soon(browse)
                await relay.wait_for_browser("later")  # connected before the session exists
                relay.publish("later", _message("hello"))
                relay.finish("later")
            sessions = (await http.get(server.base_url + "/sessions",
                                       params={"token": server.token})).json()  # fmt: skip
            raw = await http.get(
                events_url(server, "later"), params={"token": server.token, "last_event_id": "1"}
            )
    assert [m.event for m in got] == ["message.completed", "relay.end"]
    assert sessions["sessions"][0]["id"] == "later" and sessions["sessions"][0]["finished"]
    # resuming after the message still gets the end (then the stream closes)
    assert [m.event for m in parse_sse(raw.content)] == ["relay.end"]


async def test_mounted_beside_an_app_it_serves_only_under_its_prefix() -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def home(request: Any) -> PlainTextResponse:
        return PlainTextResponse("the site")

    site = Starlette(routes=[Route("/", home)])
    app = quiet_app()
    # the two lines of docs/web.md
    app.use((relay := Relay()).middleware())
    site.mount("/live", relay_app(relay, token="a-token-for-this-test"))

    await app.dispatch_many([_message("hello", "sevt_1")], _detached("sesn_1"))
    relay.finish("sesn_1")
    token = {"token": "a-token-for-this-test"}
    transport = httpx.ASGITransport(app=site)
    async with httpx.AsyncClient(transport=transport, base_url="http://site") as http:
        home_page = await http.get("/")
        page = await http.get("/live/", params=token)
        bare = await http.get("/live", params=token)
        listed = await http.get("/live/sessions", params=token)
        stream = await http.get("/live/sessions/sesn_1/events", params=token)
        outside = await http.get("/sessions", params=token)
    assert home_page.text == "the site"
    assert page.status_code == 200 and "agentflow live" in page.text
    assert bare.status_code in (200, 307)
    assert [s["id"] for s in listed.json()["sessions"]] == ["sesn_1"]
    assert [m.event for m in parse_sse(stream.content)] == ["message.completed", "relay.end"]
    assert outside.status_code == 404


def _detached(session_id: str) -> Any:
    from agentflow import Context

    return Context(session_id)


def test_an_interrupted_turn_is_summarised_once() -> None:
    relay = Relay()
    events: list[dict[str, Any]] = [
        {"type": "session.status_running", "id": "sevt_1"},
        {"type": "agent.message", "id": "sevt_2", "content": [{"type": "text", "text": "a"}]},
        {"type": "user.interrupt", "id": "sevt_3"},
        {"type": "session.status_idle", "id": "sevt_4", "stop_reason": {"type": "end_turn"}},
        {"type": "session.status_running", "id": "sevt_5"},
        {"type": "session.status_idle", "id": "sevt_6", "stop_reason": {"type": "end_turn"}},
    ]
    for raw in events:
        relay.publish("s", parse_event({"processed_at": "2026-01-01T00:00:00Z", **raw}))
    ends = [m.data for m in relay._sessions["s"].channel.buffer if m.name.startswith("turn.")]
    assert [(d["kind"], d.get("stop_reason"), "summary" in d) for d in ends] == [
        ("turn.started", None, False),
        ("turn.cancelled", "user.interrupt", True),
        ("turn.completed", "end_turn", False),  # right after the interrupt: summarised already
        ("turn.started", None, False),
        ("turn.completed", "end_turn", True),  # a new turn gets its own
    ]
    assert ends[1]["summary"]["events"] == 3 and ends[4]["summary"]["events"] == 2
