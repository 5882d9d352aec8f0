"""The relay over real HTTP on loopback: order, ids, resume, a stalled browser, access, privacy."""

from __future__ import annotations

import socket

import anyio
import httpx
import pytest
from web_support import (
    Msg,
    dechunk,
    emulated,
    events_url,
    parse_sse,
    quiet_app,
    read_until,
    serving,
)

from agentflow import Deny, user_message
from agentflow.testing import Burst, CustomTool, Error, Say, Scenario, Tool, Turn
from agentflow.web import Relay

LIMIT = 30  # seconds any one test may take, end to end
SECRET_CITY = "Xyzzy-Secret-City"


def weather_scenario() -> Scenario:
    return Scenario(
        [
            Turn(
                [
                    Say("Let me look up the weather for you right now.", stream=True),
                    CustomTool("get_weather", {"city": SECRET_CITY}),
                    Tool("bash", {"command": "rm -rf /tmp/cache"}, permission="always_ask"),
                    Error("model_overloaded_error", "retrying", "The model is overloaded."),
                    Say("It is sunny, and I did not clear the cache.", stream=True),
                ]
            )
        ]
    )


def weather_app(relay: Relay, gate: anyio.Event | None = None):  # type: ignore[no-untyped-def]
    app = quiet_app()
    app.use(relay.middleware())

    @app.tool
    async def get_weather(city: str) -> str:
        """Weather for a city."""
        if gate is not None:
            await gate.wait()
        return "sunny"

    @app.confirm("bash")
    def no_shell(event: object) -> Deny:
        return Deny("Shell commands are not allowed.")

    return app


def names(messages: list[Msg]) -> list[str]:
    return [m.event for m in messages]


async def test_events_arrive_in_order_with_ids_in_the_common_vocabulary() -> None:
    relay = Relay()
    app = weather_app(relay)
    with anyio.fail_after(LIMIT):
        async with serving(relay) as server, emulated(weather_scenario()) as (_, client, sid):
            async with httpx.AsyncClient(timeout=10) as http, anyio.create_task_group() as tg:
                got: list[Msg] = []

                async def browse() -> None:
                    got.extend(await read_until(http, events_url(server, sid), token=server.token))

                tg.start_soon(browse)
                await relay.wait_for_browser(sid)  # connected before anything happens
                result = await app.run(
                    client, sid, send=[user_message("weather?")], event_deltas=["agent.message"]
                )
                relay.publish_result(sid, result)
                relay.finish(sid)
    ids = [m.id for m in got]
    assert ids == list(range(1, len(got) + 1))
    assert all(m.data["seq"] == m.id for m in got)
    assert all(m.event == (m.data["kind"] or "other") for m in got)
    assert all("type" in m.data for m in got)
    order = names(got)
    # streamed text arrives as deltas, then the whole message
    first_done = order.index("message.completed")
    deltas = [m for m in got[:first_done] if m.event == "message.delta"]
    assert len(deltas) >= 3
    assert "".join(d.data["text"] for d in deltas) == got[first_done].data["text"]
    assert got[first_done].data["text"] == "Let me look up the weather for you right now."
    # tools: started with a name, then completed with a duration; no input by default
    started = {m.data["tool"]["name"]: m for m in got if m.event == "tool.started"}
    assert set(started) == {"get_weather", "bash"}
    assert "input" not in started["get_weather"].data["tool"]
    assert started["bash"].data["tool"]["needs_approval"] is True
    done = {m.data["tool"]["name"]: m for m in got if m.event in ("tool.completed", "tool.failed")}
    assert done["get_weather"].event == "tool.completed"
    assert done["get_weather"].data["tool"]["outcome"] == "ok"
    assert isinstance(done["get_weather"].data["tool"]["duration"], float)
    assert started["get_weather"].id < done["get_weather"].id  # type: ignore[operator]
    assert done["bash"].event == "tool.failed" and done["bash"].data["tool"]["outcome"] == "denied"
    # the confirmation, with its verdict and message
    (approval,) = [m.data["approval"] for m in got if m.event == "approval.resolved"]
    assert approval == {
        "tool_id": started["bash"].data["tool"]["id"],
        "tool_name": "bash",
        "verdict": "deny",
        "message": "Shell commands are not allowed.",
    }
    # the error, with its retry status
    (error,) = [m.data["error"] for m in got if m.event == "error"]
    assert error == {
        "type": "model_overloaded_error",
        "message": "The model is overloaded.",
        "retry_status": "retrying",
    }
    # the turn's end carries the summary computed from the events
    (end,) = [m for m in got if m.event == "turn.completed"]
    summary = end.data["summary"]
    assert end.data["stop_reason"] == summary["stop_reason"] == "end_turn"
    assert summary["first_token_streamed"] is True
    assert 0 <= summary["time_to_first_token"] <= summary["duration"]
    assert [(t["name"], t["outcome"]) for t in summary["tools"]] == [
        ("get_weather", "ok"),
        ("bash", "denied"),
    ]
    assert all(isinstance(t["duration"], float) for t in summary["tools"])
    assert summary["events"] == end.id and summary["errors"] == 1
    # then the run's own result, and the end of the session
    assert order[-2:] == ["run.result", "relay.end"]
    assert got[-2].data["stop_reason"] == "end_turn" and got[-2].data["ok"] is True
    assert SECRET_CITY not in repr([m.data for m in got])


async def test_a_reconnect_with_last_event_id_resumes_without_loss_or_duplicates() -> None:
    relay = Relay()
    gate = anyio.Event()
    app = weather_app(relay, gate)
    with anyio.fail_after(LIMIT):
        async with serving(relay) as server, emulated(weather_scenario()) as (_, client, sid):
            url = events_url(server, sid)
            async with httpx.AsyncClient(timeout=10) as http, anyio.create_task_group() as tg:
                whole: list[Msg] = []
                first: list[Msg] = []

                async def reference() -> None:
                    whole.extend(await read_until(http, url, token=server.token))

                async def interrupted() -> None:
                    # read up to the tool call, then drop the connection mid-session
                    got = await read_until(http, url, token=server.token, stop="tool.started")
                    first.extend(got)
                    gate.set()  # only now may the session go on

                tg.start_soon(reference)
                tg.start_soon(interrupted)
                result = await app.run(
                    client, sid, send=[user_message("weather?")], event_deltas=["agent.message"]
                )
                relay.publish_result(sid, result)
                relay.finish(sid)
            async with httpx.AsyncClient(timeout=10) as http:
                rest = await read_until(http, url, token=server.token, last_id=first[-1].id)
                again = await read_until(
                    http, url + f"?last_event_id={rest[3].id}", token=server.token
                )
                # nothing after the end: 204 tells an EventSource to stop reconnecting
                finished = await http.get(
                    url, headers={"authorization": f"Bearer {server.token}",
                                  "last-event-id": str(rest[-1].id)},
                )  # fmt: skip
    assert first[-1].event == "tool.started" and rest[0].id == first[-1].id + 1  # type: ignore[operator]
    resumed = first + rest
    assert [m.id for m in resumed] == list(range(1, len(whole) + 1))
    assert [(m.id, m.event, m.data) for m in resumed] == [(m.id, m.event, m.data) for m in whole]
    assert [m.id for m in again] == [m.id for m in rest[4:]]
    assert finished.status_code == 204


def _stalled_socket(port: int, path: str) -> socket.socket:
    """A connection that sends its request and then reads nothing (a tiny receive window)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return sock


async def _read_to_eof(sock: socket.socket) -> bytes:
    chunks: list[bytes] = []
    sock.setblocking(False)
    while True:
        await anyio.wait_readable(sock)
        data = sock.recv(1 << 20)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


async def test_a_stalled_browser_never_holds_up_the_app_and_resumes_by_last_event_id() -> None:
    relay = Relay(queue_size=16, buffer_size=4096)
    app = quiet_app()
    app.use(relay.middleware())
    handled: list[str] = []

    @app.on("*")
    def count(event: object) -> None:
        handled.append(getattr(event, "type", ""))

    # 400 messages of 16 kB (6.4 MB): more than the socket buffers hold (4 MB at most here),
    # so the browser really falls behind, however the app's events are batched
    scenario = Scenario([Turn([Burst(400, "x" * 16000)])])
    with anyio.fail_after(LIMIT):
        async with serving(relay) as server, emulated(scenario) as (_, client, sid):
            path = f"/sessions/{sid}/events?token={server.token}"
            sock = _stalled_socket(server.port, path)
            try:
                await relay.wait_for_browser(sid)
                # the whole session is handled while the browser reads nothing at all
                result = await app.run(client, sid, send=[user_message("go")])
                assert result.stop_reason == "end_turn"
                assert handled[-1] == "session.status_idle"
                assert handled.count("agent.message") == 400
                relay.finish(sid)
                assert relay.disconnected == 1  # it fell too far behind and was cut
                head, body = dechunk(await _read_to_eof(sock))
            finally:
                sock.close()
            seen = parse_sse(body)
            async with httpx.AsyncClient(timeout=10) as http:
                rest = await read_until(
                    http, events_url(server, sid), token=server.token, last_id=seen[-1].id
                )
    assert head.startswith(b"HTTP/1.1 200")
    assert seen and seen[-1].event != "relay.end"  # cut off before the end
    ids = [m.id for m in seen + rest]
    assert ids == list(range(1, relay.head(sid) + 1))  # nothing lost, nothing twice
    assert rest[-1].event == "relay.end"
    completed = [m for m in seen + rest if m.event == "message.completed"]
    assert len(completed) == 400 and completed[-1].data["text"] == "x" * 16000 + " 399"


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/", {}),
        ("/?token=wrong-token-of-the-same-length-xxxxx", {}),
        ("/sessions", {"authorization": "Bearer nope"}),
        ("/sessions", {"authorization": "Basic dXNlcjpwYXNz"}),
        ("/sessions/sesn_1/events", {}),
        ("/sessions/sesn_1/events?token=", {}),
    ],
    ids=["page", "page-wrong", "sessions-bearer-wrong", "sessions-basic", "events", "events-empty"],
)
async def test_a_missing_or_wrong_token_gets_401(path: str, headers: dict[str, str]) -> None:
    relay = Relay()
    with anyio.fail_after(LIMIT):
        async with serving(relay) as server, httpx.AsyncClient(timeout=10) as http:
            response = await http.get(server.base_url + path, headers=headers)
            good = await http.get(server.base_url + "/sessions", params={"token": server.token})
            bearer = await http.get(
                server.base_url + "/", headers={"authorization": f"Bearer {server.token}"}
            )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert server.token not in response.text
    assert good.status_code == 200 and good.json() == {"sessions": []}
    assert bearer.status_code == 200 and "<title>agentflow live</title>" in bearer.text


async def test_tool_input_is_sent_only_when_configured_and_then_as_a_short_preview() -> None:
    bodies: dict[bool, bytes] = {}
    for configured in (False, True):
        relay = Relay(tool_input=configured, preview_chars=24)
        app = weather_app(relay)
        with anyio.fail_after(LIMIT):
            async with serving(relay) as server, emulated(weather_scenario()) as (_, client, sid):
                await app.run(client, sid, send=[user_message("weather?")])
                relay.finish(sid)
                async with httpx.AsyncClient(timeout=10) as http:
                    url = events_url(server, sid) + f"?token={server.token}"
                    async with http.stream("GET", url) as response:
                        raw = b""
                        async for chunk in response.aiter_bytes():
                            raw += chunk
                        bodies[configured] = raw
    assert SECRET_CITY.encode() not in bodies[False]
    assert b"rm -rf" not in bodies[False]
    tools = [m.data["tool"] for m in parse_sse(bodies[True]) if m.event == "tool.started"]
    assert [t["input"] for t in tools] == ['{"city": "Xyzzy-Secret-…', '{"command": "rm -rf /tm…']
    assert all(len(t["input"]) <= 24 for t in tools)


async def test_app_serve_across_turns_gets_one_summary_per_turn() -> None:
    relay = Relay()
    app = quiet_app()
    app.use(relay.middleware())
    scenario = Scenario(
        [Turn([Say("First answer, streamed.", stream=True)]), Turn([Say("Second answer.")])]
    )
    ends = 0

    @app.on("session.status_idle")
    async def next_turn(event: object, ctx: object) -> None:
        nonlocal ends
        ends += 1
        if ends == 1:
            await ctx.send(user_message("and then?"))  # type: ignore[attr-defined]
        else:
            ctx.stop()  # type: ignore[attr-defined]

    with anyio.fail_after(LIMIT):
        async with serving(relay) as server, emulated(scenario) as (_, client, sid):
            result = await app.serve(
                client, sid, send=[user_message("hi")], event_deltas=["agent.message"]
            )
            relay.publish_result(sid, result)
            relay.finish(sid)
            async with httpx.AsyncClient(timeout=10) as http:
                got = await read_until(http, events_url(server, sid), token=server.token)
    summaries = [m.data["summary"] for m in got if m.event == "turn.completed"]
    assert len(summaries) == 2
    assert summaries[0]["first_token_streamed"] is True
    assert summaries[1]["first_token_streamed"] is False  # not streamed: the whole message
    assert summaries[1]["time_to_first_token"] is not None
    first_end = next(m.id for m in got if m.event == "turn.completed")
    assert first_end is not None
    assert summaries[0]["events"] == first_end
    assert summaries[1]["events"] == len(got) - 2 - first_end  # minus run.result and relay.end
    assert got[-2].event == "run.result" and got[-2].data["stop_reason"] == "stopped"
