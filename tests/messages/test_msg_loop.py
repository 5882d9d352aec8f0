"""The agent loop against the Messages emulator: tools, policies, handlers, stop reasons."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from loop_support import (
    client_for,
    new_app,
    result_text,
    run_turn,
    scenario,
    tool_results,
)

from agentflow import App, Context, Deny, Event
from agentflow.messages import Conversation, user_message
from agentflow.testing import CustomTool, Say, Stop, Think, Usage
from agentflow.testing.messages import MessagesEmulator

ORDER = scenario(
    Say("Let me look that up — one moment."),
    CustomTool("search_orders", {"query": "A-1042"}),
    CustomTool("get_shipping_status", {"order_id": "A-1042"}),
    Say("Order A-1042 shipped yesterday and arrives Friday."),
)


async def test_two_parallel_tool_calls_run_concurrently_and_are_answered_in_one_request() -> None:
    app = new_app()
    started = {"search_orders": anyio.Event(), "get_shipping_status": anyio.Event()}
    runs: list[str] = []

    async def both_running(me: str) -> None:
        started[me].set()
        with anyio.fail_after(5):  # each tool waits until the other one has started
            for event in started.values():
                await event.wait()
        runs.append(me)

    @app.tool
    async def search_orders(query: str) -> str:
        """Search the order database."""
        await both_running("search_orders")
        return f"order {query}: found"

    @app.tool
    async def get_shipping_status(order_id: str) -> str:
        """Shipping status of an order."""
        await both_running("get_shipping_status")
        return f"{order_id}: shipped"

    result, conv, requests = await run_turn(app, ORDER)
    assert sorted(runs) == ["get_shipping_status", "search_orders"]
    assert [r.status for r in requests] == [200, 200]  # exactly one follow-up request
    follow_up = tool_results(requests[1])
    uses = [b for b in requests[1].body["messages"][1]["content"] if b["type"] == "tool_use"]
    assert [b["tool_use_id"] for b in follow_up] == [u["id"] for u in uses]
    assert [result_text(b) for b in follow_up] == ["order A-1042: found", "A-1042: shipped"]
    assert [b["is_error"] for b in follow_up] == [False, False]
    assert result.stop_reason == "end_turn" and result.ok
    assert result.text == "Order A-1042 shipped yesterday and arrives Friday."
    assert [(c.name, c.input, c.outcome, c.sent) for c in result.tool_calls] == [
        ("search_orders", {"query": "A-1042"}, "ok", True),
        ("get_shipping_status", {"order_id": "A-1042"}, "ok", True),
    ]
    assert all(c.duration_s > 0 for c in result.tool_calls)
    assert [m["role"] for m in conv.messages] == ["user", "assistant", "user", "assistant"]


async def test_the_app_tools_are_offered_with_their_input_schema() -> None:
    app = new_app()

    @app.tool
    def search_orders(query: str, limit: int = 5) -> str:
        """Search the order database.

        Args:
            query: Order number or customer email.
            limit: How many orders at most.
        """
        return "none"

    result, _, requests = await run_turn(
        app, scenario(Say("hi")), client_options={"system": "You are terse."}
    )
    body = requests[0].body
    (tool,) = body["tools"]
    assert tool["name"] == "search_orders"
    assert tool["description"].startswith("Search the order database.")
    assert tool["input_schema"]["properties"]["query"]["description"] == (
        "Order number or customer email."
    )
    assert tool["input_schema"]["required"] == ["query"]
    assert body["system"] == "You are terse." and body["stream"] is True
    assert body["model"] == "claude-emulated" and body["max_tokens"] == 512
    assert result.stop_reason == "end_turn"


async def test_a_denied_confirm_tool_never_runs_and_its_result_carries_the_deny_message() -> None:
    app = new_app()
    ran: list[str] = []

    @app.tool(confirm=True)
    def cancel_order(order_id: str) -> str:
        """Cancel an order."""
        ran.append(order_id)
        return "cancelled"

    @app.confirm("cancel_order")
    def no_cancelling(event: Event) -> Deny:
        assert event.tool_name == "cancel_order" and event.tool_input == {"order_id": "A-1"}
        return Deny("Cancelling orders needs a human.")

    scen = scenario(CustomTool("cancel_order", {"order_id": "A-1"}), Say("I could not cancel it."))
    result, _, requests = await run_turn(app, scen)
    assert ran == []
    (block,) = tool_results(requests[1])
    assert block["is_error"] is True
    assert result_text(block) == "Cancelling orders needs a human."
    (call,) = result.tool_calls
    assert (call.outcome, call.is_error, call.policy) == ("denied", True, "no_cancelling")
    assert result.stop_reason == "end_turn"


async def test_handlers_on_kinds_fire_in_order_with_ttft_and_usage_set() -> None:
    app = new_app()
    seen: list[tuple[str, Any]] = []

    @app.tool
    def search_orders(query: str) -> str:
        """Search."""
        seen.append(("ran", query))
        return "found"

    @app.tool
    def get_shipping_status(order_id: str) -> str:
        """Status."""
        return "shipped"

    @app.on(kind="message.delta")
    def delta(event: Event) -> None:
        seen.append(("delta", event.text))

    @app.on("*", kind="tool.started")
    def started(event: Event) -> None:
        seen.append(("started", (event.tool_name, event.call_id)))

    @app.on(kind="message.completed")
    def completed(event: Event) -> None:
        seen.append(("completed", event.text))

    result, _, requests = await run_turn(app, ORDER)
    deltas = [v for k, v in seen if k == "delta"]
    assert "".join(deltas[: len(deltas) // 2 + 1]).startswith("Let me look that up")
    assert len(deltas) > 4  # streamed, not one piece per message
    starts = [v for k, v in seen if k == "started"]
    assert [name for name, _ in starts] == ["search_orders", "get_shipping_status"]
    assert all(call_id.startswith("toolu_") for _, call_id in starts)
    # the tool starts are announced before any tool runs
    assert seen.index(("ran", "A-1042")) > max(i for i, (k, _) in enumerate(seen) if k == "started")
    assert [v for k, v in seen if k == "completed"] == [
        "Let me look that up — one moment.",
        "Order A-1042 shipped yesterday and arrives Friday.",
    ]
    assert result.time_to_first_token is not None and result.time_to_first_token > 0
    assert result.time_to_first_event is not None
    assert result.time_to_first_event <= result.time_to_first_token
    # usage: the two responses' final counts, added
    assert result.usage.input_tokens > 0 and result.usage.output_tokens > 0
    assert result.counts["message_stop"] == 2


async def test_partial_input_grows_with_each_fragment_and_the_stop_has_the_whole_input() -> None:
    app = new_app()
    partials: list[Any] = []
    finals: list[Any] = []

    @app.tool
    def search_orders(query: str, email: str) -> str:
        """Search."""
        return "found"

    @app.on(kind="tool.args_delta")
    def grow(event: Any) -> None:
        assert event.tool_name == "search_orders" and event.call_id.startswith("toolu_")
        partials.append(event.partial_input)

    @app.on("content_block_stop")
    def stop(event: Any) -> None:
        if event.tool_name:
            finals.append(event.tool_input)

    tool_input = {"query": "naïve café ☕ order", "email": "ann@example.com"}
    await run_turn(app, scenario(CustomTool("search_orders", tool_input), Say("done")))
    seen = [p for p in partials if p]
    assert seen[-1] == tool_input and finals == [tool_input]
    assert len(seen) > 3
    for before, after in zip(seen, seen[1:], strict=False):  # each extends the one before
        for key, value in before.items():
            assert str(after[key]).startswith(str(value))


@pytest.mark.parametrize(
    ("stop", "expected"),
    [("max_tokens", "max_tokens"), ("stop_sequence", "stop_sequence"), ("refusal", "refusal")],
)
async def test_other_stop_reasons_end_the_turn_with_that_reason(stop: str, expected: str) -> None:
    app = new_app()
    result, conv, requests = await run_turn(app, scenario(Say("partial answer"), Stop(stop)))
    assert result.stop_reason == expected
    assert len(requests) == 1
    assert conv.stop_reason == expected and conv.text == "partial answer"


async def test_pause_turn_sends_the_response_back_and_the_turn_goes_on() -> None:
    app = new_app()
    scen = scenario(Say("Searching the web…"), Stop("pause_turn"), Say("Here is what I found."))
    result, conv, requests = await run_turn(app, scen)
    assert len(requests) == 2
    assert requests[1].body["messages"][-1]["role"] == "assistant"  # sent back as it came
    assert result.stop_reason == "end_turn" and result.text == "Here is what I found."
    assert [m["role"] for m in conv.messages] == ["user", "assistant", "assistant"]


async def test_a_second_run_continues_the_same_conversation() -> None:
    app = new_app()
    scen = scenario(Say("First answer."), then=[Say("Second answer.")])
    conv = Conversation()
    async with MessagesEmulator(scen) as emu, client_for(emu) as client:
        with anyio.fail_after(10):
            first = await app.run(client, conv, send=["one"])
            second = await app.run(client, conv, send=[user_message("two")])
            again = await app.run(client, conv)  # nothing to send: the turn is over already
        requests = emu.requests
    assert (first.text, second.text) == ("First answer.", "Second answer.")
    assert [r.position.turn for r in requests if r.position] == [0, 1]
    assert len(requests[1].body["messages"]) == 3
    assert again.stop_reason == "end_turn" and len(emu.requests) == 2


async def test_a_tool_the_app_lacks_gets_an_error_result_so_the_turn_can_go_on() -> None:
    app = new_app()
    scen = scenario(CustomTool("delete_everything", {}), Say("That tool is not available."))
    result, _, requests = await run_turn(app, scen)
    (block,) = tool_results(requests[1])
    assert block["is_error"] is True
    assert result_text(block) == "no tool named 'delete_everything' is available to this client"
    assert [(r.outcome, r.sent) for r in result.tool_calls] == [("unknown", True)]
    assert result.unanswered == [] and result.stop_reason == "end_turn"


async def test_a_tool_left_to_another_client_is_still_answered_on_a_client_run_loop() -> None:
    # No other client can answer in the Messages loop: the channel answers what is left.
    app = App(load_entrypoints=False, unknown_tools="leave")
    scen = scenario(CustomTool("delete_everything", {}), Say("That tool is not available."))
    result, _, requests = await run_turn(app, scen)
    (block,) = tool_results(requests[1])
    assert block["is_error"] is True
    assert result_text(block) == "no tool named 'delete_everything' is available to this client"
    assert result.unanswered == [block["tool_use_id"]]
    assert result.stop_reason == "end_turn"
    assert any("answered with an error" in e for e in result.errors)


async def test_a_tool_error_is_sent_as_an_is_error_result() -> None:
    app = new_app()

    @app.tool
    def get_shipping_status(order_id: str) -> str:
        """Status."""
        raise LookupError(f"no order {order_id}")

    scen = scenario(CustomTool("get_shipping_status", {"order_id": "Z"}), Say("Sorry."))
    result, _, requests = await run_turn(app, scen)
    (block,) = tool_results(requests[1])
    assert block["is_error"] is True and "no order Z" in result_text(block)
    assert result.tool_calls[0].outcome == "error"


async def test_ctx_stop_in_a_delta_handler_ends_the_run_mid_response() -> None:
    app = new_app()

    @app.on(kind="message.delta")
    def enough(event: Event, ctx: Context) -> None:
        ctx.stop()

    result, conv, requests = await run_turn(app, scenario(Say("a long answer " * 5)))
    assert result.stop_reason == "stopped" and len(requests) == 1
    assert [m["role"] for m in conv.messages] == ["user"]  # the cut response is not kept


async def test_until_stops_at_the_first_matching_event() -> None:
    app = new_app()
    result, _, _ = await run_turn(
        app, scenario(Think(), Say("hi")), until=lambda e: e.kind == "reasoning.completed"
    )
    assert result.stop_reason == "until"


async def test_interrupt_cancels_the_response_and_the_turn_ends_cancelled() -> None:
    app = new_app()

    @app.on(kind="message.delta")
    async def cancel(event: Event, ctx: Context) -> None:
        await ctx.interrupt()

    result, conv, requests = await run_turn(app, scenario(Say("never finished " * 5)))
    assert result.stop_reason == "cancelled" and len(requests) == 1
    assert result.counts["interrupted"] == 1 and "message_stop" not in result.counts
    assert [m["role"] for m in conv.messages] == ["user"]


async def test_ctx_send_in_a_handler_adds_content_after_the_tool_results() -> None:
    app = new_app()

    @app.tool
    def search_orders(query: str) -> str:
        """Search."""
        return "found"

    @app.on(kind="tool.requested")
    async def note(event: Event, ctx: Context) -> None:
        await ctx.send({"type": "text", "text": "(the user is waiting)"})

    scen = scenario(CustomTool("search_orders", {"query": "x"}), Say("ok"))
    result, _, requests = await run_turn(app, scen)
    last = requests[1].body["messages"][-1]["content"]
    assert [b["type"] for b in last] == ["tool_result", "text"]
    assert last[1]["text"] == "(the user is waiting)"
    assert result.stop_reason == "end_turn"


async def test_usage_counts_only_complete_responses_once_each() -> None:
    app = new_app()
    result, _, requests = await run_turn(app, scenario(Say("abc"), Usage(), Say("defgh")))
    assert len(requests) == 1
    assert result.counts["message_delta"] == 2  # an intermediate usage update, then the stop
    assert result.usage.output_tokens == 2  # the final running total, not a sum of updates


async def test_serve_follows_the_conversation_while_handlers_keep_sending() -> None:
    app = new_app()
    follow_ups = ["and the second?"]

    @app.on(kind="turn.completed")
    async def more(event: Event, ctx: Context) -> None:
        if follow_ups:
            await ctx.send(user_message(follow_ups.pop()))

    scen = scenario(Say("First."), then=[Say("Second.")])
    conv = Conversation()
    async with MessagesEmulator(scen) as emu, client_for(emu) as client:
        with anyio.fail_after(10):
            result = await app.serve(client, conv, send=["first?"])
        requests = emu.requests
    assert [r.position.turn for r in requests if r.position] == [0, 1]
    assert result.stop_reason == "stream_ended"  # nothing more to send: the loop is done
    assert conv.text == "Second." and len(conv) == 4
