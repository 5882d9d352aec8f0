"""Scenario steps rendered as the events of an Everruns turn.

A turn is ``turn.started`` … ``turn.completed`` (with usage) then ``session.idled``. Per step:

- ``Say`` → ``output.message.started``, ``output.message.delta`` per chunk of about three
  words (``delta`` plus ``accumulated``), ``output.message.completed``; ``thinking=True``
  adds a thinking block first. ``Think`` → ``reason.thinking.started`` / ``.delta`` /
  ``.completed``.
- ``Burst(n)`` → ``n`` ``output.message.completed`` events (whole messages: a cheap bulk).
- Consecutive tool steps → one model iteration: see :mod:`.tools`.
- ``Question`` → an ``ask_user`` call waiting on ``question-answers`` (see :mod:`.tools`).
- ``Error(type, ...)`` → ``turn.failed`` (``error``, ``error_code`` = ``type``) and the rest
  of the turn is dropped; the platform streams no retries, so ``retry_status`` is ignored.
- ``Stop(reason)`` → the turn ends (``turn.completed``); the wire has no stop reasons.
- ``Usage`` → nothing (usage rides on ``turn.completed`` / ``session.idled``).
- ``Emit(event)`` → ``event["type"]`` with ``event["data"]`` (or the other keys) as data.
- ``Wait(seconds)`` → a pause.

Ignored on this wire: ``Say.stream`` (Everruns always streams deltas), the ``thread`` of tool
steps (no subagent threads), ``Error.extra``, ``Scenario.self_hosted`` and ``Scenario.usage``
(usage is always reported). ``McpTool`` runs like a server-side ``Tool`` named ``name``.
"""

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
    Wait,
)
from .hub import Hub
from .state import EverrunsSession, TurnState
from .tools import ask_question, issue_tools
from .wire import MODEL

__all__ = ["end_turn", "pace", "run_steps", "start_turn"]

Outcome = Literal["ended", "blocked"]
THINKING = "Working out what the user needs before answering."


async def pace(hub: Hub) -> None:
    """Pause ``step_delay`` between events (or just let other tasks run)."""
    if hub.scenario.step_delay > 0:
        await anyio.sleep(hub.scenario.step_delay)
    else:
        await anyio.lowlevel.checkpoint()


def start_turn(hub: Hub, session: EverrunsSession, message: dict[str, Any]) -> None:
    """Begin the next scripted turn for an input ``message`` (``turn.started``)."""
    steps = hub.scenario.turn(session.next_turn).steps
    session.next_turn += 1
    session.active = TurnState(steps, hub.ids.new("turn"), message["id"])
    hub.touch(session, "active")
    hub.emit(
        session,
        "turn.started",
        {
            "turn_id": session.active.turn_id,
            "input_message_id": message["id"],
            "input_content": message["content"],
        },
    )


def end_turn(hub: Hub, session: EverrunsSession, event_type: str, **extra: Any) -> None:
    """End the active turn with ``event_type`` (``turn.completed`` / ``.failed`` /
    ``.cancelled``), then ``session.idled``."""
    turn = session.active
    assert turn is not None
    data: dict[str, Any] = {"turn_id": turn.turn_id, **extra}
    if event_type == "turn.completed":
        data.update(iterations=turn.iterations, duration_ms=0, usage=turn.usage())
        data["tool_call_count"] = turn.tool_call_count
        if turn.final_message_id is not None:
            data["final_message_id"] = turn.final_message_id
            data["final_answer_preview"] = (turn.final_text or "")[:200]
    elif event_type == "turn.cancelled":
        data["usage"] = turn.usage()
    hub.emit(session, event_type, data)
    idled = {"turn_id": turn.turn_id, "iterations": turn.iterations, "usage": turn.usage()}
    hub.emit(session, "session.idled", idled)
    session.active = None
    session.pending.clear()
    hub.touch(session, "idle")


async def run_steps(hub: Hub, session: EverrunsSession) -> Outcome:
    """Run the active turn from where it stands until it ends or waits on an answer."""
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
            if await issue_tools(hub, session, group):
                return "blocked"
            continue
        turn.pos += 1
        if isinstance(step, Question):
            ask_question(hub, session, step)
            return "blocked"
        if await _run_step(hub, session, turn, step):
            return "ended"
    end_turn(hub, session, "turn.completed")
    return "ended"


async def _run_step(hub: Hub, session: EverrunsSession, turn: TurnState, step: Step) -> bool:
    """Run one non-tool step; True when it ended the turn."""
    if isinstance(step, Say):
        if step.thinking:
            await _think(hub, session, turn)
        await _say(hub, session, turn, step.text)
    elif isinstance(step, Think):
        turn.iterations += 1
        await _think(hub, session, turn)
    elif isinstance(step, Burst):
        turn.iterations += 1
        for i in range(step.count):
            _completed(hub, session, turn, f"{step.text} {i}")
            if hub.scenario.step_delay > 0 or i % 64 == 63:
                await pace(hub)  # unpaced bursts yield every 64 events: larger writes
    elif isinstance(step, Emit):
        event = dict(step.event)
        event_type = str(event.pop("type", "custom"))
        data = event.pop("data", event)
        hub.emit(session, event_type, data if isinstance(data, dict) else {"value": data})
        await pace(hub)
    elif isinstance(step, Wait):
        await anyio.sleep(step.seconds)
    elif isinstance(step, Stop):
        end_turn(hub, session, "turn.completed")
        return True
    elif isinstance(step, Error):
        message = step.message or f"Emulated {step.type.replace('_', ' ')}."
        end_turn(hub, session, "turn.failed", error=message, error_code=step.type)
        return True
    return False


def _chunks(text: str, size: int = 3) -> list[str]:
    words = text.split(" ")
    groups = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    return [g if i == 0 else " " + g for i, g in enumerate(groups)] or [""]


async def _think(hub: Hub, session: EverrunsSession, turn: TurnState) -> None:
    hub.emit(session, "reason.thinking.started", {"turn_id": turn.turn_id, "model": MODEL})
    accumulated = ""
    for chunk in _chunks(THINKING):
        accumulated += chunk
        data = {"turn_id": turn.turn_id, "delta": chunk, "accumulated": accumulated}
        hub.emit(session, "reason.thinking.delta", data)
        await pace(hub)
    hub.emit(session, "reason.thinking.completed", {"turn_id": turn.turn_id, "thinking": THINKING})
    await pace(hub)


async def _say(hub: Hub, session: EverrunsSession, turn: TurnState, text: str) -> None:
    turn.iterations += 1
    started = {"turn_id": turn.turn_id, "model": MODEL, "iteration": turn.iterations}
    hub.emit(session, "output.message.started", started)
    await pace(hub)
    accumulated = ""
    for chunk in _chunks(text):
        accumulated += chunk
        data = {"turn_id": turn.turn_id, "delta": chunk, "accumulated": accumulated}
        hub.emit(session, "output.message.delta", data)
        await pace(hub)
    _completed(hub, session, turn, text)
    await pace(hub)


def _completed(hub: Hub, session: EverrunsSession, turn: TurnState, text: str) -> None:
    """One ``output.message.completed`` (the whole agent message) and its token usage."""
    usage = {"input_tokens": 100, "output_tokens": 1 + len(text) // 4}
    turn.input_tokens += usage["input_tokens"]
    turn.output_tokens += usage["output_tokens"]
    session.input_tokens += usage["input_tokens"]
    session.output_tokens += usage["output_tokens"]
    message: dict[str, Any] = {
        "id": hub.ids.new("message"),
        "role": "agent",
        "content": [{"type": "text", "text": text}],
        "created_at": hub.clock.stamp(),
    }
    session.messages.append(message)
    turn.final_message_id = message["id"]
    turn.final_text = text
    metadata = {"model": MODEL, "model_id": "model_emulated", "provider_id": "provider_emulated"}
    data = {"message": message, "metadata": metadata, "usage": usage}
    hub.emit(session, "output.message.completed", data)
