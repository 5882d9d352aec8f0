"""The requires_action router fed with events, with plain async send/history functions.

These tests pin the decision logic (ownership, at-most-once, recovery, send retries); the
same behaviour against the emulator and the real client is in test_router_emulator.py.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from agentflow import (
    BadRequestError,
    MemoryCheckpointStore,
    TransportError,
)
from agentflow.core.context import Context
from agentflow.events import parse_event
from agentflow.managed_agents.router import RequiresActionRouter, needs_confirmation
from agentflow.plugins import AllowList, DenyList, make_plugin_manager
from agentflow.tools import ToolRegistry

_ts = itertools.count()


def ev(kind: str, id: str, **fields: Any) -> Any:
    return parse_event(
        {
            "type": kind,
            "id": id,
            "processed_at": f"2026-05-14T09:12:{next(_ts) % 60:02d}Z",
            **fields,
        }
    )


def custom(id: str, name: str, thread: str | None = None, **tool_input: Any) -> Any:
    extra = {"session_thread_id": thread} if thread else {}
    return ev("agent.custom_tool_use", id, name=name, input=tool_input, **extra)


def ask(id: str, name: str, permission: str | None = "ask", **extra: Any) -> Any:
    return ev(
        "agent.tool_use",
        id,
        name=name,
        input={"cmd": "ls"},
        evaluated_permission=permission,
        **extra,
    )


def idle(*ids: str, id: str = "idle") -> Any:
    return ev(
        "session.status_idle",
        id,
        stop_reason={"type": "requires_action", "event_ids": list(ids)},
    )


class Server:
    """Send and history functions recording what a router does."""

    def __init__(self, history: list[Any] | None = None) -> None:
        self.history: list[Any] = list(history or [])
        self.batches: list[list[dict[str, Any]]] = []
        self.failures: list[BaseException] = []
        self.history_reads = 0

    async def send(self, batch: list[dict[str, Any]]) -> None:
        self.batches.append(batch)
        if self.failures:
            raise self.failures.pop(0)

    async def list_history(self) -> AsyncIterator[Any]:
        self.history_reads += 1
        for event in list(self.history):
            yield event


class Tools:
    def __init__(self) -> None:
        self.registry = ToolRegistry()
        self.runs: list[str] = []

        def lookup(key: str) -> str:
            """Look a key up."""
            self.runs.append(key)
            return f"value of {key}"

        self.registry.register(lookup)


def make_router(
    server: Server, tools: Tools, store: MemoryCheckpointStore | None = None, **kw: Any
) -> RequiresActionRouter:
    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(AllowList("read*"))
    pm.register(DenyList("bash", message="no shell"))
    return RequiresActionRouter(
        session_id="sesn_1",
        tools=tools.registry,
        plugins=pm,
        send=server.send,
        history=server.list_history,
        checkpoint=store,
        retry_delay=0.001,
        **kw,
    )


async def feed_all(router: RequiresActionRouter, events: list[Any]) -> None:
    ctx = Context("sesn_1")
    with anyio.fail_after(5):
        async with router:
            for event in events:
                ctx.remember(event)
                await router.feed(event, ctx)


async def test_one_batch_answers_custom_tools_and_confirmations() -> None:
    server, tools = Server(), Tools()
    router = make_router(server, tools)
    events = [
        custom("c1", "lookup", key="a"),
        ask("t1", "read_file", session_thread_id="sthr_child"),
        custom("c2", "lookup", thread="sthr_child", key="b"),
        ask("t2", "bash"),
        idle("c1", "t1", "c2", "t2"),
    ]
    await feed_all(router, events)
    assert sorted(tools.runs) == ["a", "b"]
    assert len(server.batches) == 1
    assert server.batches[0] == [
        {
            "type": "user.custom_tool_result",
            "custom_tool_use_id": "c1",
            "content": [{"type": "text", "text": "value of a"}],
        },
        {"type": "user.tool_confirmation", "tool_use_id": "t1", "result": "allow"},
        {
            "type": "user.custom_tool_result",
            "custom_tool_use_id": "c2",
            "content": [{"type": "text", "text": "value of b"}],
        },
        {
            "type": "user.tool_confirmation",
            "tool_use_id": "t2",
            "result": "deny",
            "deny_message": "no shell",
        },
    ]
    outcomes = {r.id: (r.kind, r.outcome, r.sent) for r in router.records}
    assert outcomes == {
        "c1": ("custom", "ok", True),
        "c2": ("custom", "ok", True),
        "t1": ("confirmation", "allowed", True),
        "t2": ("confirmation", "denied", True),
    }
    assert router.unanswered == []


async def test_ids_it_does_not_own_are_left_and_reported_once() -> None:
    server, tools = Server(), Tools()
    router = make_router(server, tools, unknown_tools="leave")  # split ownership
    events = [
        custom("c1", "lookup", key="a"),
        custom("c9", "someone_elses_tool"),
        ask("t9", "grep", permission="allow"),
        idle("c1", "c9", "t9", "missing"),
        idle("c9", "t9", "missing", id="idle-again"),  # the server re-emits what is left
    ]
    await feed_all(router, events)
    assert len(server.batches) == 1 and [r["custom_tool_use_id"] for r in server.batches[0]] == [
        "c1"
    ]
    assert router.unanswered == ["c9", "t9", "missing"]
    left = {r.id: (r.kind, r.outcome, r.error) for r in router.records if r.id != "c1"}
    assert left == {
        "c9": ("custom", "unanswered", "no executor for custom tool 'someone_elses_tool'"),
        "t9": ("confirmation", "unanswered", "agent.tool_use is not waiting for a confirmation"),
        "missing": ("other", "unanswered", "the event was not found in the stream or history"),
    }


async def test_a_partial_reemitted_idle_does_not_answer_again() -> None:
    server, tools = Server(), Tools()
    router = make_router(server, tools)
    events = [
        custom("c1", "lookup", key="a"),
        ask("t1", "read"),
        idle("c1", "t1"),
        idle("c1", "t1", id="idle-2"),  # a late copy listing ids already answered
    ]
    await feed_all(router, events)
    assert tools.runs == ["a"] and len(server.batches) == 1


async def test_reply_already_in_history_is_neither_run_nor_sent() -> None:
    answered = ev(
        "user.custom_tool_result",
        "r1",
        custom_tool_use_id="c1",
        content=[{"type": "text", "text": "earlier"}],
    )
    confirmed = ev("user.tool_confirmation", "r2", tool_use_id="t1", result="allow")
    server, tools = Server(history=[answered, confirmed]), Tools()
    store = MemoryCheckpointStore()
    router = make_router(server, tools, store)
    await feed_all(router, [custom("c1", "lookup", key="a"), ask("t1", "read"), idle("c1", "t1")])
    assert tools.runs == [] and server.batches == []
    assert store.call_state("sesn_1", "c1") == "sent"


async def test_reply_seen_on_the_stream_counts_as_answered() -> None:
    server, tools = Server(), Tools()
    router = make_router(server, tools, early_start=False)
    echo = ev("user.custom_tool_result", "r1", custom_tool_use_id="c1", content=[])
    await feed_all(router, [custom("c1", "lookup", key="a"), echo, idle("c1")])
    assert tools.runs == [] and server.batches == []


async def test_stored_result_is_posted_without_running_again() -> None:
    store = MemoryCheckpointStore()
    stored = {"type": "user.custom_tool_result", "custom_tool_use_id": "c1", "content": []}
    store.claim("sesn_1", "c1")
    store.record_result("sesn_1", "c1", stored)
    server, tools = Server(history=[custom("c1", "lookup", key="a")]), Tools()
    router = make_router(server, tools, store)
    await feed_all(router, [idle("c1")])  # the tool-use event only exists in history
    assert tools.runs == [] and server.batches == [[stored]]
    assert [(r.outcome, r.name, r.sent) for r in router.records] == [("recovered", "lookup", True)]
    assert store.call_state("sesn_1", "c1") == "sent"


async def test_call_claimed_by_a_dead_run_gets_an_error_not_a_second_run() -> None:
    store = MemoryCheckpointStore()
    store.claim("sesn_1", "c1")
    server, tools = Server(), Tools()
    router = make_router(server, tools, store)
    await feed_all(router, [custom("c1", "lookup", key="a"), idle("c1")])
    assert tools.runs == []
    (reply,) = server.batches[0]
    assert reply["is_error"] is True and "was not run again" in reply["content"][0]["text"]
    assert router.records[0].outcome == "interrupted"


async def test_failed_send_is_retried_with_the_same_results() -> None:
    server, tools = Server(), Tools()
    server.failures = [TransportError("connection reset"), TransportError("again")]
    store = MemoryCheckpointStore()
    router = make_router(server, tools, store)
    await feed_all(router, [custom("c1", "lookup", key="a"), idle("c1")])
    assert tools.runs == ["a"]
    assert len(server.batches) == 3 and server.batches[0] == server.batches[2]
    assert store.call_state("sesn_1", "c1") == "sent"
    assert len(router.errors) == 2 and "attempt 1" in router.errors[0]


async def test_rejected_retry_after_a_lost_response_checks_history() -> None:
    server, tools = Server(), Tools()

    async def send(batch: list[dict[str, Any]]) -> None:
        server.batches.append(batch)
        if len(server.batches) == 1:  # processed, but the response was lost
            server.history.append(
                ev("user.custom_tool_result", "r1", custom_tool_use_id="c1", content=[])
            )
            raise TransportError("read timeout")
        raise BadRequestError("event c1 is not waiting for a reply", status=400)

    router = make_router(server, tools)
    router._send = send
    await feed_all(router, [custom("c1", "lookup", key="a"), idle("c1")])
    assert tools.runs == ["a"] and len(server.batches) == 2


async def test_a_reply_rejected_even_as_an_error_result_raises_and_keeps_a_result() -> None:
    server, tools = Server(), Tools()
    server.failures = [BadRequestError(f"bad {i}", status=400) for i in range(3)]
    store = MemoryCheckpointStore()
    router = make_router(server, tools, store)
    with pytest.raises(BadRequestError, match="rejected every reply to c1: bad 2"):
        await feed_all(router, [custom("c1", "lookup", key="a"), idle("c1")])
    # the batch, the reply alone, then an error result in its place
    assert len(server.batches) == 3 and server.history_reads == 2  # first read + re-check
    assert server.batches[2][0]["is_error"] is True
    assert store.call_state("sesn_1", "c1") == "result_ready" and tools.runs == ["a"]


async def test_send_that_keeps_failing_raises_and_keeps_the_result() -> None:
    server, tools = Server(), Tools()
    server.failures = [TransportError(f"down {i}") for i in range(3)]
    store = MemoryCheckpointStore()
    router = make_router(server, tools, store, send_attempts=3)
    with pytest.raises(TransportError, match="down 2"):
        await feed_all(router, [custom("c1", "lookup", key="a"), idle("c1")])
    assert store.call_state("sesn_1", "c1") == "result_ready"
    assert store.pending_results("sesn_1")["c1"]["content"] == [
        {"type": "text", "text": "value of a"}
    ]


async def test_custom_tool_starts_before_the_idle() -> None:
    server, tools = Server(), Tools()
    started = anyio.Event()

    async def slow(n: int) -> str:
        """Slow."""
        started.set()
        return str(n)

    tools.registry.register(slow)
    router = make_router(server, tools)
    ctx = Context("sesn_1")
    with anyio.fail_after(5):
        async with router:
            await router.feed(custom("c1", "slow", n=1), ctx)
            await started.wait()  # running although no idle was fed yet
            await router.feed(idle("c1"), ctx)
    assert server.batches[0][0]["content"] == [{"type": "text", "text": "1"}]


async def test_calls_run_concurrently_within_the_bound() -> None:
    server, tools = Server(), Tools()
    active = peak = 0

    async def work(n: int) -> str:
        """Work."""
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await anyio.sleep(0.02)
        active -= 1
        return str(n)

    tools.registry.register(work)
    router = make_router(server, tools, max_concurrency=3, early_start=False)
    calls = [custom(f"c{i}", "work", n=i) for i in range(5)]
    await feed_all(router, [*calls, idle(*(c.id for c in calls))])
    assert peak == 3 and len(server.batches) == 1 and len(server.batches[0]) == 5


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"evaluated_permission": "ask"}, True),
        ({"evaluated_permission": "allow"}, False),
        ({"evaluated_permission": "deny"}, False),
        ({"evaluation": {"type": "always_ask"}}, True),
        ({"evaluation": {"type": "auto", "evaluated_permission": {"type": "ask"}}}, True),
        ({"evaluation": {"type": "auto", "evaluated_permission": {"type": "allow"}}}, False),
        ({}, False),
    ],
    ids=["ask", "allow", "deny", "always-ask", "auto-ask", "auto-allow", "absent"],
)
def test_needs_confirmation(fields: dict[str, Any], expected: bool) -> None:
    event = ev("agent.tool_use", "t", name="x", input={}, **fields)
    assert needs_confirmation(event) is expected
    mcp = ev("agent.mcp_tool_use", "m", name="x", input={}, mcp_server_name="s", **fields)
    assert needs_confirmation(mcp) is expected
