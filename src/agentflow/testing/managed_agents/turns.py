"""Turning scenario steps into the events of a turn (protocol §3, "typical turn")."""

from __future__ import annotations

from typing import Any, Literal

import anyio

from ..scenario import (
    TOOL_STEPS,
    Burst,
    Emit,
    Error,
    Question,
    Say,
    Step,
    Stop,
    Think,
    Usage,
    Wait,
)
from .host import Engine, Span, emit_usage, outcome_evaluation, pace, text_blocks
from .session import EmulatedSession
from .tool_calls import issue_tools, tool_result_event

__all__ = ["Engine", "run_steps", "tool_result_event"]

Outcome = Literal["ended", "blocked", "terminated"]


async def run_steps(engine: Engine, session: EmulatedSession) -> Outcome:
    """Run the active turn from where it stands until it ends, blocks or terminates."""
    turn = session.active
    assert turn is not None
    steps = turn.steps
    while turn.pos < len(steps):
        step = steps[turn.pos]
        if isinstance(step, TOOL_STEPS):
            end = turn.pos
            while end < len(steps) and isinstance(steps[end], TOOL_STEPS):
                end += 1
            group = steps[turn.pos : end]
            turn.pos = end
            thread = next((s.thread for s in group if isinstance(s, TOOL_STEPS) and s.thread), None)
            thread_id = None if thread is None else engine.thread_named(session, thread)
            if thread_id is not None:
                engine.thread_running(session, thread_id)
            if await issue_tools(engine, session, group, thread_id):
                turn.blocked_thread = thread_id
                engine.emit_pause(session)
                return "blocked"
            continue
        turn.pos += 1
        outcome = await _run_step(engine, session, step)
        if outcome is not None:
            return outcome
    _finish(engine, session, {"type": "end_turn"})
    return "ended"


def _finish(
    engine: Engine,
    session: EmulatedSession,
    stop_reason: dict[str, Any],
    stop_details: dict[str, Any] | None = None,
) -> None:
    turn = session.active
    if engine.scenario.usage:
        emit_usage(engine, session)
    if turn is not None and turn.origin == "user.define_outcome":
        outcome_evaluation(engine, session)
    session.active = None
    engine.emit_idle(session, stop_reason, stop_details)


async def _say(engine: Engine, session: EmulatedSession, step: Say, span: Span) -> None:
    if step.thinking:
        thinking_id = engine.ids.new("sevt")
        if step.stream:
            session.preview(
                {"type": "event_start", "event": {"type": "agent.thinking", "id": thinking_id}},
                "agent.thinking",
            )
        engine.emit(session, {"type": "agent.thinking", "id": thinking_id})
        await pace(engine)
    message_id = engine.ids.new("sevt")
    if step.stream:
        session.preview(
            {"type": "event_start", "event": {"type": "agent.message", "id": message_id}},
            "agent.message",
        )
        for chunk in _chunks(step.text):
            await pace(engine)
            session.preview(
                {
                    "type": "event_delta",
                    "event_id": message_id,
                    "delta": {
                        "type": "content_delta",
                        "index": 0,
                        "content": text_blocks(chunk)[0],
                    },
                },
                "agent.message",
            )
    span.output_chars += len(step.text)
    engine.emit(
        session, {"type": "agent.message", "id": message_id, "content": text_blocks(step.text)}
    )
    await pace(engine)


def _chunks(text: str, size: int = 3) -> list[str]:
    words = text.split(" ")
    groups = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    return [g if i == 0 else " " + g for i, g in enumerate(groups)] or [""]


async def _run_step(engine: Engine, session: EmulatedSession, step: Step) -> Outcome | None:
    if isinstance(step, Say):
        async with Span(engine, session) as span:
            await _say(engine, session, step, span)
    elif isinstance(step, Think):
        async with Span(engine, session):
            engine.emit(session, {"type": "agent.thinking"})
            await pace(engine)
    elif isinstance(step, Burst):
        async with Span(engine, session) as span:
            for i in range(step.count):
                text = f"{step.text} {i}"
                span.output_chars += len(text)
                engine.emit(session, {"type": "agent.message", "content": text_blocks(text)})
                if engine.scenario.step_delay > 0 or i % 64 == 63:
                    await pace(engine)  # unpaced bursts yield every 64 events: larger writes
    elif isinstance(step, Usage):
        emit_usage(engine, session)
        await pace(engine)
    elif isinstance(step, Emit):
        if step.event.get("type") == "session.status_terminated":
            engine.terminate(session, dict(step.event))
            return "terminated"
        engine.emit(session, dict(step.event))
        await pace(engine)
    elif isinstance(step, Question):
        # Managed Agents has no question gate: the agent asks in a message and the turn goes on.
        async with Span(engine, session) as span:
            await _say(engine, session, Say(step.text), span)
    elif isinstance(step, Wait):
        await anyio.sleep(step.seconds)
    elif isinstance(step, Stop):
        details = None
        if step.reason == "refusal":
            details = {"type": "refusal"}
            if step.category:
                details["category"] = step.category
            if step.explanation:
                details["explanation"] = step.explanation
        _finish(engine, session, {"type": step.reason}, details)
        return "ended"
    elif isinstance(step, Error):
        return await _error(engine, session, step)
    return None


async def _error(engine: Engine, session: EmulatedSession, step: Error) -> Outcome | None:
    error: dict[str, Any] = {
        "type": step.type,
        "message": step.message or f"Emulated {step.type.replace('_', ' ')}.",
        **dict(step.extra),
        "retry_status": {"type": step.retry_status},
    }
    engine.emit(session, {"type": "session.error", "error": error})
    await pace(engine)
    if step.retry_status == "retrying":
        session.status = "rescheduling"
        engine.emit(session, {"type": "session.status_rescheduled"})
        await pace(engine)
        session.status = "running"
        engine.emit(session, {"type": "session.status_running"})
        await pace(engine)
        return None
    if step.retry_status == "exhausted":
        session.queued.clear()  # the turn is dead and queued input is dropped
        session.active = None
        engine.emit_idle(session, {"type": "retries_exhausted"})
        return "ended"
    engine.terminate(session)
    return "terminated"
