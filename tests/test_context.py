"""The Context handed to handlers (agentflow.core.context)."""

from __future__ import annotations

import logging
from typing import Any

from agentflow import Context
from agentflow.events import parse_event, user_message


def _message(event_id: str | None) -> Any:
    if event_id is None:
        return parse_event({"type": "event_start", "event": {"type": "agent.message", "id": "x"}})
    return parse_event(
        {
            "type": "agent.message",
            "id": event_id,
            "processed_at": "2026-05-14T09:12:05.800Z",
            "content": [{"type": "text", "text": "hi"}],
        }
    )


async def test_send_with_a_sender_sends_one_batch_and_returns_its_answer() -> None:
    batches: list[list[dict[str, Any]]] = []

    async def sender(events: list[dict[str, Any]]) -> str:
        batches.append(events)
        return "echoes"

    ctx = Context("sesn_1", sender=sender)
    first, second = user_message("a"), user_message("b")
    assert await ctx.send(first, second) == "echoes"
    assert batches == [[first, second]]
    assert ctx.outbox == []
    assert ctx.detached is False


async def test_send_without_events_sends_nothing() -> None:
    batches: list[list[dict[str, Any]]] = []

    async def sender(events: list[dict[str, Any]]) -> None:
        batches.append(events)

    assert await Context(sender=sender).send() is None
    assert batches == []


async def test_detached_context_collects_sent_events_in_outbox() -> None:
    ctx = Context()
    assert ctx.detached is True
    assert await ctx.send(user_message("one")) is None
    await ctx.send(user_message("two"), user_message("three"))
    assert [e["content"][0]["text"] for e in ctx.outbox] == ["one", "two", "three"]


async def test_interrupt_sends_user_interrupt() -> None:
    ctx = Context()
    await ctx.interrupt()
    await ctx.interrupt(thread_id="sthr_1")
    assert ctx.outbox == [
        {"type": "user.interrupt"},
        {"type": "user.interrupt", "session_thread_id": "sthr_1"},
    ]


def test_event_by_id_finds_remembered_events_only() -> None:
    ctx = Context()
    event = _message("sevt_1")
    assert ctx.event_by_id("sevt_1") is None
    ctx.remember(event)
    assert ctx.event_by_id("sevt_1") is event
    assert ctx.event_by_id("sevt_2") is None


def test_remember_ignores_events_without_id() -> None:
    ctx = Context()
    ctx.max_remembered = 1
    event = _message("sevt_1")
    ctx.remember(event)
    ctx.remember(_message(None))  # a preview: not indexed, so it evicts nothing
    assert ctx.event_by_id("sevt_1") is event


def test_remember_keeps_at_most_max_remembered_dropping_oldest() -> None:
    ctx = Context()
    ctx.max_remembered = 3
    for n in range(5):
        ctx.remember(_message(f"sevt_{n}"))
    assert [ctx.event_by_id(f"sevt_{n}") is not None for n in range(5)] == [
        False,
        False,
        True,
        True,
        True,
    ]


def test_an_event_remembered_again_keeps_its_place_and_is_dropped_once() -> None:
    ctx = Context()
    ctx.max_remembered = 2
    first, second, again = _message("sevt_0"), _message("sevt_1"), _message("sevt_0")
    for event in (first, second, again):  # a replay hands sevt_0 over a second time
        ctx.remember(event)
    assert ctx.event_by_id("sevt_0") is again  # the newer copy, in the oldest place
    ctx.remember(_message("sevt_2"))
    assert ctx.event_by_id("sevt_0") is None  # still the oldest: dropped first
    assert ctx.event_by_id("sevt_1") is second
    for n in range(3, 6):  # and dropping it again later removes nothing it should keep
        ctx.remember(_message(f"sevt_{n}"))
    assert [ctx.event_by_id(f"sevt_{n}") is not None for n in range(6)] == [
        False, False, False, False, True, True,
    ]  # fmt: skip


def test_tool_calls_outlive_the_window_of_other_events() -> None:
    ctx = Context()
    ctx.max_remembered = 2
    ctx.max_remembered_calls = 2
    call = parse_event(
        {
            "type": "agent.custom_tool_use",
            "id": "sevt_call",
            "processed_at": "2026-05-14T09:12:05.800Z",
            "name": "get_weather",
            "input": {},
        }
    )
    ctx.remember(call)
    for n in range(5):
        ctx.remember(_message(f"sevt_{n}"))
    assert ctx.event_by_id("sevt_call") is call  # many later events did not push it out
    assert ctx.event_by_id("sevt_2") is None and ctx.event_by_id("sevt_4") is not None
    for n in range(2):
        ctx.remember(call.model_copy(update={"id": f"sevt_call{n}"}))
    assert ctx.event_by_id("sevt_call") is None  # the call window has its own bound


def test_stop_sets_stopped() -> None:
    ctx = Context()
    assert ctx.stopped is False
    ctx.stop()
    assert ctx.stopped is True


def test_defaults_and_given_values() -> None:
    state = {"k": 1}
    logger = logging.getLogger("mine")
    app = object()
    ctx = Context("sesn_1", state=state, logger=logger, app=app)
    assert (ctx.session_id, ctx.state, ctx.logger, ctx.app) == ("sesn_1", state, logger, app)
    assert ctx.state is state
    default = Context()
    assert (default.session_id, default.state, default.app) == (None, {}, None)
    assert default.logger.name == "agentflow"
    assert Context().state is not default.state


def test_repr_never_shows_state_or_outbox() -> None:
    ctx = Context("sesn_1", state={"api_key": "sk-ant-api03-SECRET"})
    ctx.outbox.append({"type": "user.message", "content": [{"type": "text", "text": "SECRET"}]})
    text = repr(ctx)
    assert "sesn_1" in text
    assert "SECRET" not in text
