"""The m8tes SDK (4.49.0) drives the m8tes emulator unchanged.

The SDK is synchronous (requests): each call runs in a worker thread while the emulator
serves on the test's event loop, so the test can wait on the emulator's events in between.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any, TypeVar

import anyio
import pytest
from m8tes_record import FIXTURE
from m8tes_sdk import load_m8tes

from agentflow.testing import Error, Question, Say, Scenario, Tool, Turn
from agentflow.testing.m8tes import M8tesEmulator

T = TypeVar("T")

TEXT = "I will look at the build host first and then report what I found there."
GATED = Scenario(
    [
        Turn(
            [
                Say(TEXT, thinking=True),
                Tool("bash", {"command": "ls /var/cache"}, permission="always_ask", result="a b"),
                Say("The cache holds two entries, a and b."),
            ]
        ),
        Turn([Say("Here is the breakdown you asked for, by region.")]),
    ]
)


@pytest.fixture(scope="session")
def sdk() -> ModuleType:
    return load_m8tes()


@pytest.fixture
def client_for(sdk: ModuleType) -> Iterator[Callable[[M8tesEmulator], Any]]:
    clients: list[Any] = []

    def make(emu: M8tesEmulator, api_key: str | None = None) -> Any:
        client = sdk.M8tes(api_key=api_key or emu.api_key, base_url=emu.base_url, timeout=10)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking SDK call in a worker thread (bounded by the caller's fail_after)."""
    return await anyio.to_thread.run_sync(
        functools.partial(fn, *args, **kwargs), abandon_on_cancel=True
    )


def drain(stream: Any) -> tuple[list[Any], str, Any]:  # the SDK's own run id type
    events = list(stream)
    return events, stream.text, stream.run_id


async def test_a_gated_run_streams_parks_and_resumes_after_approve(
    sdk: ModuleType, client_for: Callable[[M8tesEmulator], Any]
) -> None:
    from m8tes.streaming import (
        DoneEvent,
        MetadataEvent,
        TextDeltaEvent,
        ToolCallStartEvent,
        ToolResultEndEvent,
    )

    async with M8tesEmulator(GATED) as emu:
        client = client_for(emu)
        emu.hold()  # keep the resumed turn from ending before the client re-attaches
        with anyio.fail_after(20):
            stream = await call(
                client.runs.create, message="check the host", human_in_the_loop=True
            )
            assert stream.run_id == 1  # named by X-Run-Id before any frame
            events, text, run_id = await call(drain, stream)  # ends quietly at the open gate
            assert isinstance(events[0], MetadataEvent) and events[0].payload["run_id"] == 1
            deltas = [e.delta for e in events if isinstance(e, TextDeltaEvent)]
            assert len(deltas) > 3 and text == "".join(deltas) == TEXT
            (start,) = [e for e in events if isinstance(e, ToolCallStartEvent)]
            assert start.tool_name == "bash"
            assert [e.type.value for e in events[-2:]] == [
                "permission_request",
                "awaiting_approval",
            ]
            assert events[-1].raw["tool_use_id"] == start.tool_call_id

            (pending,) = await call(client.runs.permissions, run_id)
            assert (pending.status, pending.tool_name) == ("pending", "bash")
            assert pending.tool_use_id == start.tool_call_id
            assert pending.tool_input == {"command": "ls /var/cache"}
            assert (await call(client.runs.get, run_id)).status == "awaiting_approval"

            decided = await call(client.runs.approve, run_id, request_id=pending.request_id)
            assert (decided.status, decided.resumed, decided.remembered) == ("allowed", True, False)
            await emu.wait_held(run_id)

            async with anyio.create_task_group() as tg:
                rejoined: list[Any] = []

                def rejoin() -> None:
                    rejoined.extend(drain(client.runs.stream(run_id)))

                tg.start_soon(call, rejoin)
                await emu.wait_for_streams(run_id)
                emu.release(run_id)
            replayed, full_text, _ = rejoined
            run = await call(client.runs.get, run_id)
        requests = emu.requests
    assert isinstance(replayed[0], MetadataEvent)  # the whole run, from its start
    assert full_text == TEXT + "The cache holds two entries, a and b."
    types = [e.type.value for e in replayed]
    assert types.index("awaiting_approval") < types.index("permission_resolved")
    (result,) = [e for e in replayed if isinstance(e, ToolResultEndEvent)]
    assert (result.tool_call_id, result.result) == (start.tool_call_id, "a b")
    done = [e for e in replayed if isinstance(e, DoneEvent)]
    assert done[0].stop_reason == "end_turn" and done[-1].raw == {}  # `done`, then [DONE]
    assert (run.status, run.stop_reason, run.output) == ("completed", "end_turn", full_text)
    create = requests[0]
    assert (create.method, create.path, create.body["human_in_the_loop"]) == (
        "POST",
        "/api/v2/runs/",
        True,
    )
    assert create.idempotency_key  # the SDK always sends one


async def test_stream_text_yields_the_text_and_a_reply_continues_the_run(
    sdk: ModuleType, client_for: Callable[[M8tesEmulator], Any]
) -> None:
    scenario = Scenario([Turn([Say(TEXT)]), Turn([Say("And here is the second part of it.")])])
    async with M8tesEmulator(scenario) as emu:
        client = client_for(emu)
        with anyio.fail_after(15):
            chunks = await call(lambda: list(client.runs.stream_text(message="hi")))
            reply = await call(client.runs.reply, 1, message="go on")
            events, text, run_id = await call(drain, reply)
            run = await call(client.runs.get, 1)
    assert len(chunks) > 1 and "".join(chunks) == TEXT
    assert (run_id, text) == (1, "And here is the second part of it.")
    assert (run.status, run.output, len(emu.runs)) == ("completed", text, 1)


async def test_a_denied_gate_reports_the_denial_and_the_run_goes_on(
    sdk: ModuleType, client_for: Callable[[M8tesEmulator], Any]
) -> None:
    from m8tes.streaming import ToolResultEndEvent

    async with M8tesEmulator(GATED) as emu:
        client = client_for(emu)
        emu.hold()
        with anyio.fail_after(15):
            await call(drain, await call(client.runs.create, message="x"))
            (pending,) = await call(client.runs.permissions, 1)
            denied = await call(
                client.runs.approve,
                1,
                request_id=pending.request_id,
                decision="deny",
                reason="use the staging host",
            )
            await emu.wait_held(1)
            async with anyio.create_task_group() as tg:
                got: list[Any] = []
                tg.start_soon(call, lambda: got.extend(drain(client.runs.stream(1))))
                await emu.wait_for_streams(1)
                emu.release(1)
            with pytest.raises(sdk.NotFoundError) as refused:  # the other decision lost
                await call(client.runs.approve, 1, request_id=pending.request_id)
    assert denied.status == "denied"
    (result,) = [e for e in got[0] if isinstance(e, ToolResultEndEvent)]
    assert result.raw["is_error"] is True and "use the staging host" in result.result
    resolved = [e.raw for e in got[0] if e.type.value == "permission_resolved"]
    assert resolved[0]["resolved_status"] == "denied"
    assert refused.value.code == "gate_resolved_otherwise"


async def test_wait_answers_a_question_and_an_approval_through_the_callbacks(
    sdk: ModuleType, client_for: Callable[[M8tesEmulator], Any]
) -> None:
    scenario = Scenario(
        [
            Turn(
                [
                    Question("Which channel?", ("#general", "#ops"), header="Channel"),
                    Tool("slack_post", {"channel": "#ops"}, permission="always_ask", result="sent"),
                    Say("Posted."),
                ]
            )
        ]
    )
    asked: list[Any] = []
    async with M8tesEmulator(scenario) as emu:
        client = client_for(emu)
        with anyio.fail_after(15):
            run = await call(
                client.runs.create, message="post it", stream=False, human_in_the_loop=True
            )
            assert run.status == "running"

            def on_question(req: Any) -> dict[str, str]:
                asked.append(req)
                return {"Which channel?": "#ops"}

            final = await call(
                client.runs.wait,
                run.id,
                on_question=on_question,
                on_approval=lambda req: "allow",
                interval=0.02,
                timeout=10,
            )
            gates = await call(client.runs.permissions, run.id)
    assert (final.status, final.output) == ("completed", "Posted.")
    assert asked[0].tool_name == "AskUserQuestion"
    assert asked[0].tool_input["questions"][0]["header"] == "Channel"
    assert [g.status for g in gates] == ["allowed", "allowed"]
    assert gates[0].tool_input["answers"] == {"Which channel?": "#ops"}
    answer = next(r for r in emu.requests if r.path.endswith("/answer"))
    assert answer.body == {"answers": {"Which channel?": "#ops"}, "request_id": gates[0].request_id}


async def test_a_replayed_idempotency_key_returns_the_same_run(
    sdk: ModuleType, client_for: Callable[[M8tesEmulator], Any]
) -> None:
    async with M8tesEmulator(GATED) as emu:
        client = client_for(emu)
        with anyio.fail_after(15):
            first = await call(
                client.runs.create, message="x", stream=False, idempotency_key="job-1"
            )
            again = await call(
                client.runs.create, message="x", stream=False, idempotency_key="job-1"
            )
            await emu.wait_for_status(first.id, "awaiting_approval")
            # A streaming create answered by a replay joins the run's stream (full replay).
            joined = await call(client.runs.create, message="x", idempotency_key="job-1")
            events, text, run_id = await call(drain, joined)
            (pending,) = await call(client.runs.permissions, first.id)
            await call(client.runs.approve, first.id, request_id=pending.request_id)
            await emu.wait_for_status(first.id, "completed")
            with pytest.raises(sdk.ConflictError) as finished:
                await call(client.runs.create, message="x", idempotency_key="job-1")
    assert first.id == again.id == run_id == 1 and len(emu.runs) == 1
    assert events[0].type.value == "metadata" and events[-1].type.value == "awaiting_approval"
    assert [r.path for r in emu.requests].count("/api/v2/runs/1/stream") == 1
    assert finished.value.code == "idempotent_replay_terminal"


async def test_a_failed_run_raises_with_raise_on_error(
    sdk: ModuleType, client_for: Callable[[M8tesEmulator], Any]
) -> None:
    scenario = Scenario(
        [Turn([Say("Starting."), Error("rate_limit", "exhausted", "Model limit.")])]
    )
    async with M8tesEmulator(scenario) as emu:
        client = client_for(emu)
        with anyio.fail_after(15):
            with pytest.raises(sdk.RunFailedError, match="Model limit."):
                await call(lambda: list(client.runs.stream_text(message="x", raise_on_error=True)))
            run = await call(client.runs.get, 1)
            with pytest.raises(sdk.ConflictError):  # nothing left to re-attach to
                await call(client.runs.stream, 1)
            with pytest.raises(sdk.NotFoundError):
                await call(client.runs.get, 99)
    assert (run.status, run.error, run.error_code) == ("failed", "Model limit.", "rate_limit")


async def test_a_retried_error_is_retracted_so_raise_on_error_stays_quiet(
    sdk: ModuleType, client_for: Callable[[M8tesEmulator], Any]
) -> None:
    scenario = Scenario([Turn([Error("overloaded_error", "retrying"), Say("Recovered.")])])
    async with M8tesEmulator(scenario) as emu:
        client = client_for(emu)
        with anyio.fail_after(15):
            stream = await call(client.runs.create, message="x", raise_on_error=True)
            events, text, run_id = await call(drain, stream)
    seen = [e.type.value for e in events]
    assert seen.index("error") < seen.index("sandbox-connecting") < seen.index("text-delta")
    assert events[-2].raw == {"type": "error_cleared", "reason": "provider_fallback"}
    assert text == "Recovered." and not stream.has_errors
    assert emu.run(run_id).status == "completed"


async def test_a_cut_stream_raises_stream_interrupted_and_the_run_can_be_rejoined(
    sdk: ModuleType, client_for: Callable[[M8tesEmulator], Any]
) -> None:
    async with M8tesEmulator(Scenario([Turn([Say(TEXT)])])) as emu:
        client = client_for(emu)
        emu.hold()
        with anyio.fail_after(15):
            stream = await call(client.runs.create, message="x")
            async with anyio.create_task_group() as tg:
                failures: list[Any] = []  # the SDK's StreamInterruptedError (untyped module)

                def read() -> None:
                    try:
                        list(stream)
                    except sdk.StreamInterruptedError as exc:
                        failures.append(exc)

                tg.start_soon(call, read)
                await emu.wait_held(1)
                await emu.wait_for_streams(1)
                assert emu.drop_streams(1) == 1
            async with anyio.create_task_group() as tg:
                got: list[Any] = []
                tg.start_soon(call, lambda: got.extend(drain(client.runs.stream(1))))
                await emu.wait_for_streams(1)
                emu.release(1)
    (interrupted,) = failures
    assert interrupted.run_id == 1 and interrupted.code == "stream_interrupted"
    assert got[1] == TEXT and got[0][-1].type.value == "done"


async def test_permission_mode_autonomous_allows_the_open_gate_and_cancel_stops_a_run(
    sdk: ModuleType, client_for: Callable[[M8tesEmulator], Any]
) -> None:
    async with M8tesEmulator(GATED) as emu:
        client = client_for(emu)
        with anyio.fail_after(15):
            await call(
                drain, await call(client.runs.create, message="x", permission_mode="approval")
            )
            mode = await call(client.runs.update_permission_mode, 1, permission_mode="autonomous")
            await emu.wait_for_status(1, "completed")
            await call(drain, await call(client.runs.create, message="y"))
            cancelled = await call(client.runs.cancel, 2)
            gates = await call(client.runs.permissions, 2)
    assert mode.permission_mode == "autonomous"
    assert [g.status for g in emu.run(1).gates.values()] == ["allowed"]
    assert (cancelled.status, [g.status for g in gates]) == ("cancelled", ["cancelled"])
    assert emu.frames(2)[-1] == {"type": "cancelled", "run_id": 2}


@pytest.fixture
def strict_key() -> str:
    return "m8_required_key"


async def test_a_required_key_is_enforced(
    sdk: ModuleType, client_for: Callable[..., Any], strict_key: str
) -> None:
    async with M8tesEmulator(Scenario.simple("Hi."), api_key=strict_key) as emu:
        with anyio.fail_after(10):
            with pytest.raises(sdk.AuthenticationError):
                await call(client_for(emu, "m8_other").runs.get, 1)
            chunks = await call(lambda: list(client_for(emu).runs.stream_text(message="hi")))
    assert chunks == ["Hi."]


class _RecordedBody:
    """The recorded fixture served line by line, the way requests hands a body to the SDK."""

    headers = {"X-Run-Id": "1"}

    def iter_lines(self, decode_unicode: bool = True) -> Iterator[str]:
        return iter(FIXTURE.read_text(encoding="utf-8").split("\n"))

    def close(self) -> None:
        pass


def test_the_sdk_reads_the_recorded_stream_as_one_complete_run(sdk: ModuleType) -> None:
    from m8tes.streaming import StreamEventType

    stream = sdk.RunStream(_RecordedBody())
    events = list(stream)  # raises StreamInterruptedError unless the run's end is in it
    assert all(e.type is not StreamEventType.UNKNOWN for e in events)
    assert stream.run_id == 1 and stream.text.startswith("I'll start by reading")
    calls = stream._accumulator.get_tool_calls()
    assert [c["name"] for c in calls.values()] == ["read", "mcp__metrics__query"]
    assert all(c["completed"] and c["result"] is not None for c in calls.values())
