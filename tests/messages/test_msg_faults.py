"""Faults: every failed response is asked for again; no tool runs twice; errors are typed."""

from __future__ import annotations

from collections import Counter
from typing import Any

import anyio
import pytest
from loop_support import client_for, new_app, run_turn, scenario, tool_results

from agentflow import (
    App,
    BadRequestError,
    Event,
    RateLimitError,
    ServerError,
    StreamError,
    TransportError,
)
from agentflow.messages import Conversation
from agentflow.testing import Burst, CustomTool, Error, Say, Stop
from agentflow.testing.messages import MessagesEmulator


def counting_app() -> tuple[App, Counter[str]]:
    """An app with two tools that count their runs."""
    app = new_app()
    runs: Counter[str] = Counter()

    @app.tool
    def search_orders(query: str) -> str:
        """Search."""
        runs[f"search_orders {query}"] += 1
        return f"found {query}"

    @app.tool
    def get_shipping_status(order_id: str) -> str:
        """Status."""
        runs[f"get_shipping_status {order_id}"] += 1
        return "shipped"

    return app, runs


def order_turn(*first: Any, **faults: Any) -> Any:
    """Text, two parallel tools, then the answer; ``first`` steps go before everything."""
    return scenario(
        *first,
        Say("Checking the order database for you now."),
        CustomTool("search_orders", {"query": "A-1042"}),
        CustomTool("get_shipping_status", {"order_id": "A-1042"}),
        Burst(20, "word"),
        Say("It arrives Friday."),
        **faults,
    )


def assert_completed_once(result: Any, runs: Counter[str], requests: list[Any]) -> None:
    assert result.stop_reason == "end_turn", result.errors
    assert result.text == "It arrives Friday."
    assert runs == {"search_orders A-1042": 1, "get_shipping_status A-1042": 1}
    answered = [r for r in requests if r.status == 200 and tool_results(r)]
    ids = {b["tool_use_id"] for r in answered for b in tool_results(r)}
    assert len(ids) == 2  # every retried follow-up carries the same two results
    assert [c.outcome for c in result.tool_calls] == ["ok", "ok"]


async def test_an_overloaded_error_mid_stream_is_retried() -> None:
    app, runs = counting_app()
    errors: list[Any] = []

    @app.on("error")
    def seen(event: Event) -> None:
        errors.append(event.error.type)

    scen = order_turn(Say("Starting."), Error("overloaded_error", message="Overloaded"))
    result, _, requests = await run_turn(app, scen)
    assert_completed_once(result, runs, requests)
    assert errors == ["overloaded_error"]  # handlers see the error event, then the retry
    assert len(requests) == 3
    assert any("overloaded_error" in e and "asking again" in e for e in result.errors)


async def test_a_529_before_the_stream_is_retried_honouring_retry_after() -> None:
    app, runs = counting_app()
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    scen = order_turn(Error("overloaded_error", extra={"status": 529, "retry_after": 0.02}))
    result, _, requests = await run_turn(app, scen, client_options={"sleep": sleep})
    assert_completed_once(result, runs, requests)
    assert [r.status for r in requests] == [529, 200, 200]
    assert sleeps == [0.02]  # the server's hint, not the jittered backoff


async def test_a_truncated_stream_is_never_taken_as_a_finished_response() -> None:
    app, runs = counting_app()
    # every position's first stream is cut after 9 events: after the tool_use blocks began
    result, conv, requests = await run_turn(app, order_turn(drop_every=9))
    assert_completed_once(result, runs, requests)
    assert len(requests) == 4  # each of the two responses asked for twice
    assert [m["role"] for m in conv.messages] == ["user", "assistant", "user", "assistant"]
    assert sum("ended before message_stop" in e or "reading" in e for e in result.errors) == 2


async def test_a_cut_after_the_tool_use_blocks_does_not_run_the_tools_of_the_broken_stream() -> (
    None
):
    app, runs = counting_app()
    started: list[str] = []
    announced: list[str] = []

    @app.on(kind="tool.started")
    def note(event: Event) -> None:
        started.append(str(event.call_id))

    @app.on("content_block_stop")
    def whole(event: Event) -> None:
        if event.call_id is not None:
            announced.append(event.call_id)

    # message_start, a text block (6 events), two tool_use blocks (6 each): cut right after
    # the second tool_use block stopped, when both calls were announced, before message_stop
    result, _, requests = await run_turn(app, order_turn(drop_every=19))
    assert_completed_once(result, runs, requests)
    assert len(started) == 4 and len(set(started)) == 4  # two announced twice, new ids
    assert announced == started  # the broken stream's calls were complete, yet never ran
    assert {c.id for c in result.tool_calls} == set(started[2:])


async def test_a_malformed_frame_restarts_the_response() -> None:
    app, runs = counting_app()
    result, _, requests = await run_turn(app, order_turn(malformed_every=7))
    assert_completed_once(result, runs, requests)
    assert len(requests) == 4
    assert sum("invalid JSON" in e for e in result.errors) == 2


async def test_a_stalled_stream_is_retried_after_stream_timeout() -> None:
    app, runs = counting_app()
    scen = order_turn(stall_after=4, stall_seconds=30, keepalive_seconds=30)
    result, _, requests = await run_turn(app, scen, client_options={"stream_timeout": 0.3})
    assert_completed_once(result, runs, requests)
    assert any("ReadTimeout" in e for e in result.errors)


async def test_seeded_http_errors_on_every_request_still_complete_the_turn() -> None:
    app, runs = counting_app()
    scen = order_turn(http_error_rate=0.4, seed=3)
    result, _, requests = await run_turn(app, scen, client_options={"max_retries": 8})
    assert_completed_once(result, runs, requests)
    assert {r.status for r in requests} > {200}


async def test_retries_are_bounded_and_the_typed_error_carries_the_run_result() -> None:
    app, runs = counting_app()
    scen = scenario(Say("never"))
    async with MessagesEmulator(scen) as emu, client_for(emu, max_retries=2) as client:
        emu.fail_next(429, count=5, retry_after=0.01)
        with anyio.fail_after(10), pytest.raises(RateLimitError) as caught:
            await app.run(client, Conversation(), send=["go"])
        statuses = [r.status for r in emu.requests]
    assert statuses == [429, 429, 429]  # one try and two retries
    assert caught.value.run_result.stop_reason == "error"
    assert len(caught.value.run_result.errors) == 2


async def test_an_exhausted_mid_stream_error_raises_a_stream_error() -> None:
    app, _ = counting_app()
    scen = scenario(Say("a"), Error("overloaded_error", retry_status="exhausted"))
    with pytest.raises(StreamError) as caught:
        await run_turn(app, scen, client_options={"max_retries": 1})
    assert caught.value.type == "overloaded_error" and caught.value.status == 200


async def test_a_fatal_mid_stream_error_ends_the_turn_with_error_and_is_not_retried() -> None:
    app, _ = counting_app()
    scen = scenario(Say("a"), Error("invalid_request_error", message="bad"), then=[Say("next")])
    conv = Conversation()
    result, _, requests = await run_turn(app, scen, conversation=conv)
    assert result.stop_reason == "error" and len(requests) == 1
    assert [m["role"] for m in conv.messages] == ["user"]


async def test_a_400_is_raised_at_once_with_the_server_message() -> None:
    app, _ = counting_app()
    async with MessagesEmulator(scenario(Say("x"))) as emu, client_for(emu) as client:
        bad = Conversation([{"role": "assistant", "content": "I speak first"}])
        with anyio.fail_after(10), pytest.raises(BadRequestError) as caught:
            await app.run(client, bad, send=["hi"])
        assert len(emu.requests) == 1
    assert "first message must use the 'user' role" in str(caught.value)


async def test_a_refused_connection_is_a_transport_error_after_the_retries() -> None:
    app, _ = counting_app()
    async with MessagesEmulator(scenario(Say("x"))) as emu:
        url = emu.base_url
    from agentflow.messages import MessagesClient

    async with MessagesClient(
        api_key="sk-closed", base_url=url, model="m", max_tokens=5, max_retries=1
    ) as client:
        with anyio.fail_after(10), pytest.raises(TransportError) as caught:
            await app.run(client, Conversation(), send=["hi"])
    assert "ConnectError" in str(caught.value)
    assert caught.value.run_result.errors[0].startswith("response attempt 1 failed")


async def test_server_errors_without_retries_left_are_raised_as_server_errors() -> None:
    app, _ = counting_app()
    async with MessagesEmulator(scenario(Say("x"))) as emu, client_for(emu, max_retries=0) as c:
        emu.fail_next(503)
        with anyio.fail_after(10), pytest.raises(ServerError):
            await app.run(c, Conversation(), send=["hi"])


async def test_x_should_retry_false_is_honoured() -> None:
    app, _ = counting_app()
    async with MessagesEmulator(scenario(Say("x"))) as emu, client_for(emu) as client:
        emu.fail_next(529, headers={"x-should-retry": "false"})
        with anyio.fail_after(10), pytest.raises(ServerError):
            await app.run(client, Conversation(), send=["hi"])
        assert len(emu.requests) == 1


async def test_refusal_stops_even_after_a_retry() -> None:
    app, _ = counting_app()
    scen = scenario(Say("I can't help with that."), Stop("refusal"), drop_every=3)
    result, _, requests = await run_turn(app, scen)
    assert result.stop_reason == "refusal" and len(requests) == 2
