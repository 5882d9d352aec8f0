"""The emulator's session state machine: turns, requires_action, confirmations, errors."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from emu_support import collect_until, create_session, raw_client, send, user_message

from agentflow.testing import (
    ApiError,
    CustomTool,
    Emit,
    Emulator,
    Error,
    McpTool,
    Say,
    Scenario,
    Tool,
    Turn,
    Wait,
)

MULTI_TOOL = Scenario(
    [
        Turn(
            [
                Say("Working."),
                CustomTool("lookup", {"q": 1}),
                CustomTool("fetch", {"q": 2}),
                Tool("bash", {"command": "ls"}, permission="always_ask", result="file.txt"),
                Say("All done."),
            ]
        )
    ]
)


def types(history: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in history]


def idles(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["stop_reason"] for e in history if e["type"] == "session.status_idle"]


async def start_turn(emu: Emulator) -> tuple[str, list[str]]:
    """Create a session, send a message and wait for the first idle; returns its event ids."""
    session_id = emu.create_session()
    emu.send(session_id, [user_message()])
    idle = await emu.wait_for_event(session_id, "session.status_idle")
    return session_id, list(idle["stop_reason"].get("event_ids", []))


async def test_a_multi_tool_turn_idles_once_with_every_blocking_id() -> None:
    async with Emulator(MULTI_TOOL) as emu:
        with anyio.fail_after(5):
            session_id, ids = await start_turn(emu)
        history = emu.history(session_id)
    uses = [e for e in history if e["type"] in ("agent.custom_tool_use", "agent.tool_use")]
    assert ids == [e["id"] for e in uses]
    assert len(ids) == 3
    assert idles(history) == [{"type": "requires_action", "event_ids": ids}]
    assert uses[2]["evaluated_permission"] == "ask"
    assert uses[2]["evaluation"] == {"type": "always_ask"}
    assert "agent.tool_result" not in types(history)  # nothing runs before the confirmation


async def test_a_partial_answer_re_emits_the_idle_with_the_rest() -> None:
    async with Emulator(MULTI_TOOL) as emu, raw_client(emu) as client:
        with anyio.fail_after(5):
            session_id, (lookup, fetch, bash) = await start_turn(emu)
            reply = await send(
                client,
                session_id,
                {
                    "type": "user.custom_tool_result",
                    "custom_tool_use_id": fetch,
                    "content": [{"type": "text", "text": "2"}],
                },
            )
            assert reply.status_code == 200
            assert idles(emu.history(session_id))[-1] == {
                "type": "requires_action",
                "event_ids": [lookup, bash],
            }
            reply = await send(
                client,
                session_id,
                {
                    "type": "user.custom_tool_result",
                    "custom_tool_use_id": lookup,
                    "content": [{"type": "text", "text": "1"}],
                },
                {"type": "user.tool_confirmation", "tool_use_id": bash, "result": "allow"},
            )
            assert reply.status_code == 200
            await emu.wait_for_event(session_id, "session.status_idle", count=3)
        history = emu.history(session_id)
    assert idles(history)[-1] == {"type": "end_turn"}
    tail = types(history)[types(history).index("user.tool_confirmation") :]
    assert tail[:3] == ["user.tool_confirmation", "session.status_running", "agent.tool_result"]
    result = next(e for e in history if e["type"] == "agent.tool_result")
    assert result["tool_use_id"] == bash
    assert result["is_error"] is False
    assert result["content"] == [{"type": "text", "text": "file.txt"}]
    assert "All done." in [e["content"][0]["text"] for e in history if e["type"] == "agent.message"]


@pytest.mark.parametrize("tool", ["tool", "mcp"])
async def test_a_denied_confirmation_gets_a_synthetic_error_result(tool: str) -> None:
    step = (
        Tool("bash", {"command": "rm -rf /"}, permission="always_ask")
        if tool == "tool"
        else McpTool("github", "create_pr", {}, permission="always_ask")
    )
    async with Emulator(Scenario([Turn([step])])) as emu:
        with anyio.fail_after(5):
            session_id, (use_id,) = await start_turn(emu)
            emu.send(
                session_id,
                [
                    {
                        "type": "user.tool_confirmation",
                        "tool_use_id": use_id,
                        "result": "deny",
                        "deny_message": "Too risky.",
                    }
                ],
            )
            await emu.wait_for_event(session_id, "session.status_idle", count=2)
        history = emu.history(session_id)
    result_type = "agent.tool_result" if tool == "tool" else "agent.mcp_tool_result"
    (result,) = [e for e in history if e["type"] == result_type]
    assert result["tool_use_id" if tool == "tool" else "mcp_tool_use_id"] == use_id
    assert result["is_error"] is True
    assert "Too risky." in result["content"][0]["text"]
    assert idles(history)[-1] == {"type": "end_turn"}


async def test_server_side_permissions_run_or_refuse_without_asking() -> None:
    scenario = Scenario(
        [
            Turn(
                [
                    Tool("web_fetch", {}, permission="auto", result="page"),
                    Tool("rm", {}, permission="auto_deny"),
                    Tool("glob", {}, permission="deny"),
                ]
            )
        ]
    )
    async with Emulator(scenario) as emu:
        with anyio.fail_after(5):
            session_id, ids = await start_turn(emu)
        history = emu.history(session_id)
    assert ids == []
    uses = [e for e in history if e["type"] == "agent.tool_use"]
    results = {e["tool_use_id"]: e for e in history if e["type"] == "agent.tool_result"}
    assert [u["evaluated_permission"] for u in uses] == ["allow", "deny", "deny"]
    assert "evaluation" not in uses[2]
    assert [results[u["id"]]["is_error"] for u in uses] == [False, True, True]
    assert idles(history) == [{"type": "end_turn"}]


def _bad_replies(ids: list[str]) -> list[tuple[str, list[dict[str, Any]]]]:
    lookup, fetch, bash = ids
    text = [{"type": "text", "text": "x"}]
    return [
        (
            "unknown id",
            [
                {
                    "type": "user.custom_tool_result",
                    "custom_tool_use_id": "sevt_nope",
                    "content": text,
                }
            ],
        ),
        (
            "wrong kind",
            [{"type": "user.tool_confirmation", "tool_use_id": lookup, "result": "allow"}],
        ),
        (
            "wrong kind 2",
            [{"type": "user.custom_tool_result", "custom_tool_use_id": bash, "content": text}],
        ),
        (
            "deny_message with allow",
            [
                {
                    "type": "user.tool_confirmation",
                    "tool_use_id": bash,
                    "result": "allow",
                    "deny_message": "no",
                }
            ],
        ),
        (
            "bad verdict",
            [{"type": "user.tool_confirmation", "tool_use_id": bash, "result": "maybe"}],
        ),
        (
            "empty content",
            [{"type": "user.custom_tool_result", "custom_tool_use_id": lookup, "content": []}],
        ),
        (
            "string content",
            [{"type": "user.custom_tool_result", "custom_tool_use_id": lookup, "content": "x"}],
        ),
        (
            "twice in a batch",
            [{"type": "user.custom_tool_result", "custom_tool_use_id": fetch, "content": text}] * 2,
        ),
        (
            "tool_result off self-hosted",
            [{"type": "user.tool_result", "tool_use_id": bash, "content": text}],
        ),
        ("server type", [{"type": "agent.message", "content": text}]),
        ("system not last", [{"type": "system.message", "content": text}, user_message()]),
        ("empty batch", []),
        ("message without content", [{"type": "user.message"}]),
        # a valid reply first does not make the batch partly applied
        (
            "valid then invalid",
            [
                {"type": "user.custom_tool_result", "custom_tool_use_id": fetch, "content": text},
                {"type": "user.custom_tool_result", "custom_tool_use_id": "x", "content": text},
            ],
        ),
    ]


async def test_invalid_replies_get_400_with_the_envelope_and_change_nothing() -> None:
    async with Emulator(MULTI_TOOL) as emu, raw_client(emu) as client:
        with anyio.fail_after(5):
            session_id, ids = await start_turn(emu)
            before = emu.history(session_id)
            for name, events in _bad_replies(ids):
                reply = await send(client, session_id, *events)
                assert reply.status_code == 400, name
                body = reply.json()
                assert body["type"] == "error", name
                assert body["error"]["type"] == "invalid_request_error", name
                assert body["error"]["message"], name
                assert reply.headers["request-id"], name
            assert emu.history(session_id) == before
            assert emu.pending(session_id) == ids


async def test_an_answered_call_is_no_longer_pending() -> None:
    scenario = Scenario([Turn([CustomTool("a"), CustomTool("b")])])
    async with Emulator(scenario) as emu, raw_client(emu) as client:
        with anyio.fail_after(5):
            session_id, (a, _b) = await start_turn(emu)
            answer = {
                "type": "user.custom_tool_result",
                "custom_tool_use_id": a,
                "content": [{"type": "text", "text": "x"}],
            }
            assert (await send(client, session_id, answer)).status_code == 200
            again = await send(client, session_id, answer)
    assert again.status_code == 400
    assert "pending" in again.json()["error"]["message"]


async def test_interrupt_ends_the_turn_in_progress() -> None:
    scenario = Scenario([Turn([Say("first"), Wait(0.2), Say("never")])])
    async with Emulator(scenario) as emu:
        with anyio.fail_after(5):
            session_id = emu.create_session()
            emu.send(session_id, [user_message()])
            await emu.wait_for_event(session_id, "agent.message")
            emu.send(session_id, [{"type": "user.interrupt"}])
            await emu.wait_until_quiet(session_id)  # the cut turn's driver has stopped
            history = emu.history(session_id)
            assert types(history)[-2:] == ["user.interrupt", "session.status_idle"]
            assert history[-1]["stop_reason"] == {"type": "end_turn"}
            emu.send(session_id, [user_message()])
            await emu.wait_for_event(session_id, "session.status_idle", count=2)
            history = emu.history(session_id)
    texts = [e["content"][0]["text"] for e in history if e["type"] == "agent.message"]
    assert texts == ["first", "OK"]  # the next message ran the fallback turn, not the rest


async def test_a_retrying_error_reschedules_then_the_turn_goes_on() -> None:
    scenario = Scenario([Turn([Error("model_overloaded_error", "retrying"), Say("recovered")])])
    async with Emulator(scenario) as emu:
        with anyio.fail_after(5):
            session_id, _ = await start_turn(emu)
        history = emu.history(session_id)
    seq = types(history)
    i = seq.index("session.error")
    assert seq[i : i + 3] == [
        "session.error",
        "session.status_rescheduled",
        "session.status_running",
    ]
    assert history[i]["error"]["retry_status"] == {"type": "retrying"}
    assert history[i]["error"]["type"] == "model_overloaded_error"
    assert idles(history) == [{"type": "end_turn"}]
    assert "recovered" in [e["content"][0]["text"] for e in history if e["type"] == "agent.message"]


async def test_an_exhausted_error_idles_and_drops_queued_input() -> None:
    scenario = Scenario([Turn([Error("model_request_failed_error", "exhausted"), Say("lost")])])
    async with Emulator(scenario) as emu:
        with anyio.fail_after(5):
            session_id = emu.create_session()
            emu.send(session_id, [user_message("1"), user_message("2")])
            await emu.wait_for_event(session_id, "session.status_idle")
            await emu.wait_until_quiet(session_id)  # a queued "2" would have run by now
            history = emu.history(session_id)
            assert idles(history) == [{"type": "retries_exhausted"}]
            assert "agent.message" not in types(history)
            emu.send(session_id, [user_message("3")])  # a new prompt is fine
            await emu.wait_for_event(session_id, "session.status_idle", count=2)
        assert emu.session(session_id).status == "idle"


async def test_a_terminal_error_terminates_and_ends_the_stream() -> None:
    scenario = Scenario([Turn([Error("billing_error", "terminal")])])
    async with Emulator(scenario) as emu, raw_client(emu) as client:
        session_id = await create_session(client)
        with anyio.fail_after(5):
            async with client.stream("GET", f"/sessions/{session_id}/events/stream") as response:
                await send(client, session_id, user_message())
                received = [f.event async for f in _events(response)]  # ends by itself
            late = await send(client, session_id, user_message())
            status = (await client.get(f"/sessions/{session_id}")).json()["status"]
    assert received[-2:] == ["session.error", "session.status_terminated"]
    assert late.status_code == 400
    assert status == "terminated"


async def _events(response: Any) -> Any:
    from emu_support import frames

    async for frame in frames(response):
        if frame.comment is None:
            yield frame


@pytest.mark.parametrize("how", ["terminate", "delete", "http-delete"])
async def test_terminate_and_delete_end_open_streams(how: str) -> None:
    async with Emulator() as emu, raw_client(emu) as client:
        session_id = await create_session(client)
        with anyio.fail_after(5):
            async with client.stream("GET", f"/sessions/{session_id}/events/stream") as response:
                await emu.wait_for_streams(session_id)
                if how == "terminate":
                    emu.terminate(session_id)
                elif how == "delete":
                    emu.delete(session_id)
                else:
                    deleted = await client.delete(f"/sessions/{session_id}")
                    assert deleted.json() == {"id": session_id, "type": "session_deleted"}
                received = [f.event async for f in _events(response)]
            retrieved = await client.get(f"/sessions/{session_id}")
    expected = "session.status_terminated" if how == "terminate" else "session.deleted"
    assert received == [expected]
    assert retrieved.status_code == (200 if how == "terminate" else 404)


async def test_a_stream_opened_before_the_post_misses_nothing() -> None:
    async with Emulator(MULTI_TOOL.with_faults()) as emu, raw_client(emu) as client:
        session_id = await create_session(client)
        with anyio.fail_after(5):
            async with client.stream("GET", f"/sessions/{session_id}/events/stream") as response:
                reply = await send(client, session_id, user_message())
                got = await collect_until(response, "session.status_idle")
        history = emu.history(session_id)
    assert [f.json()["id"] for f in got] == [e["id"] for e in history]
    assert reply.json()["data"] == [history[0]]  # the echo, with its id


async def test_the_stream_is_a_live_tail_and_previews_go_only_where_asked() -> None:
    scenario = Scenario(
        [Turn([Say("a b c d e f g", stream=True)]), Turn([Say("x y", stream=True)])]
    )
    async with Emulator(scenario) as emu, raw_client(emu) as client:
        session_id = await create_session(client)
        await send(client, session_id, user_message())
        with anyio.fail_after(5):
            await emu.wait_for_event(session_id, "session.status_idle")
            path = f"/sessions/{session_id}/events/stream"
            async with (
                client.stream(
                    "GET", path, params={"event_deltas[]": "agent.message"}
                ) as with_deltas,
                client.stream("GET", path) as plain,
            ):
                await emu.wait_for_streams(session_id, 2)
                await send(client, session_id, user_message("again"))
                a = await collect_until(with_deltas, "session.status_idle")
                b = await collect_until(plain, "session.status_idle")
        history = emu.history(session_id)
    assert a[0].event == b[0].event == "user.message"  # no replay of the first turn
    assert a[0].json()["content"][0]["text"] == "again"
    assert {"event_start", "event_delta"} <= {f.event for f in a}
    assert not {"event_start", "event_delta"} & {f.event for f in b}
    assert not {"event_start", "event_delta"} & set(types(history))
    assert [f.json()["id"] for f in b] == [e["id"] for e in history[-len(b) :]]


async def test_ids_are_unique_and_history_is_in_processed_at_order() -> None:
    async with Emulator(MULTI_TOOL) as emu:
        with anyio.fail_after(5):
            session_id, ids = await start_turn(emu)
        history = emu.history(session_id)
    assert len({e["id"] for e in history}) == len(history)
    stamps = [e["processed_at"] for e in history]
    assert stamps == sorted(stamps)
    assert all(s.endswith("Z") and len(s) == len("2026-05-14T09:12:03.633Z") for s in stamps)


async def test_messages_queue_while_running_and_turns_follow_the_scenario() -> None:
    scenario = Scenario.simple("one", "two")
    async with Emulator(scenario) as emu:
        with anyio.fail_after(5):
            session_id = emu.create_session(initial_events=[user_message("a")])
            emu.send(session_id, [user_message("b"), user_message("c")])
            await emu.wait_for_event(session_id, "session.status_idle", count=3)
        history = emu.history(session_id)
    texts = [e["content"][0]["text"] for e in history if e["type"] == "agent.message"]
    assert texts == ["one", "two", "OK"]
    assert idles(history) == [{"type": "end_turn"}] * 3


async def test_self_hosted_tools_wait_for_user_tool_result() -> None:
    scenario = Scenario(
        [Turn([Tool("bash", {"command": "ls"}), Tool("write", {}, permission="always_ask")])],
        self_hosted=True,
    )
    text = [{"type": "text", "text": "done"}]
    async with Emulator(scenario) as emu:
        with anyio.fail_after(5):
            session_id, (bash, write) = await start_turn(emu)
            emu.send(
                session_id,
                [
                    {"type": "user.tool_result", "tool_use_id": bash, "content": text},
                    {"type": "user.tool_confirmation", "tool_use_id": write, "result": "allow"},
                ],
            )
            # allowed on a self-hosted environment: the sandbox must still post the result
            assert emu.pending(session_id) == [write]
            assert idles(emu.history(session_id))[-1]["event_ids"] == [write]
            emu.send(
                session_id, [{"type": "user.tool_result", "tool_use_id": write, "content": text}]
            )
            await emu.wait_for_event(session_id, "session.status_idle", count=3)
        history = emu.history(session_id)
    assert "agent.tool_result" not in types(history)
    assert idles(history)[-1] == {"type": "end_turn"}


async def test_an_internal_failure_is_reported_when_the_emulator_exits() -> None:
    broken = Scenario([Turn([Emit({"type": 5})])])  # not a valid event: the turn task fails
    with pytest.raises(RuntimeError, match="failed while serving"):
        async with Emulator(broken) as emu:
            session_id = emu.create_session()
            emu.send(session_id, [user_message()])
            with anyio.fail_after(5):
                await emu.wait_until_quiet(session_id)  # the failed turn's task has ended
            assert emu.errors
            async with raw_client(emu) as client:  # still serving after the failure
                assert (await client.get(f"/sessions/{session_id}")).status_code == 200


async def test_an_emitted_termination_terminates_once() -> None:
    scenario = Scenario([Turn([Say("bye"), Emit({"type": "session.status_terminated"}), Say("x")])])
    async with Emulator(scenario) as emu:
        with anyio.fail_after(5):
            session_id = emu.create_session()
            emu.send(session_id, [user_message()])
            await emu.wait_for_event(session_id, "session.status_terminated")
            await emu.wait_until_quiet(session_id)  # a step after it would have run by now
        history = emu.history(session_id)
        with pytest.raises(ApiError) as refused:
            emu.send(session_id, [user_message()])
    assert types(history)[-1] == "session.status_terminated"
    assert types(history).count("session.status_terminated") == 1
    assert "x" not in [e["content"][0]["text"] for e in history if e["type"] == "agent.message"]
    assert refused.value.status == 400
