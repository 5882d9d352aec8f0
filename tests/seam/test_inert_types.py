"""``Dialect.inert_types``: the run loop skips asking about these types, so for each of them
every question of the dialect must have the answer "nothing" (else a call would be lost).
Checked on every dialect's recorded stream."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentflow import App, Event
from agentflow.core.dialect import Dialect
from agentflow.events import parse_event
from agentflow.everruns.dialect import EVERRUNS
from agentflow.everruns.events import parse_event as everruns_event
from agentflow.m8tes.dialect import M8TES
from agentflow.m8tes.events import parse_frame as m8tes_frame
from agentflow.managed_agents.dialect import EVENT_TYPES, MANAGED_AGENTS
from agentflow.messages.builder import MessageBuilder
from agentflow.messages.dialect import MESSAGES
from agentflow.messages.events import parse_event as messages_event
from agentflow.wire.sse import SSEDecoder

FIXTURES = Path(__file__).parent.parent / "fixtures"
LINES = [
    line for line in (FIXTURES / "managed_agents_events.jsonl").read_bytes().splitlines() if line
]
EVENTS: list[Event] = [parse_event(line) for line in LINES]
NOTHING: list[object] = [(), None, None, None, None, None, None]


def _recorded(name: str, parse: Callable[[bytes], Event]) -> list[Event]:
    """The events of a recorded stream of the dialect's emulator, decoded frame by frame."""
    frames = SSEDecoder().feed((FIXTURES / f"{name}_stream.sse").read_bytes())
    return [parse(f.data) for f in frames if f.data != b"[DONE]" and f.event != "connected"]


def _built(events: list[Event]) -> list[Event]:
    """Messages events as the channel passes them on: enriched by each response's builder."""
    builder = MessageBuilder()
    for event in events:
        if event.type == "message_start":
            builder = MessageBuilder()
        builder.add(event)
    return events


STREAMS: dict[str, tuple[Dialect, list[Event]]] = {
    "managed_agents": (MANAGED_AGENTS, EVENTS),
    "everruns": (EVERRUNS, _recorded("everruns", everruns_event)),
    "m8tes": (M8TES, _recorded("m8tes", m8tes_frame)),
    "messages": (MESSAGES, _built(_recorded("messages", messages_event))),
}


def _answers(dialect: Dialect, e: Event) -> list[object]:
    return [
        tuple(dialect.calls(e)),
        dialect.settled(e),
        dialect.pause(e),
        dialect.turn_end(e),
        dialect.terminal(e),
        dialect.severity(e),
        dialect.usage(e),
    ]


def test_the_fixture_has_an_event_of_every_inert_type() -> None:
    assert MANAGED_AGENTS.inert_types <= {e.type for e in EVENTS}
    assert MANAGED_AGENTS.inert_types < EVENT_TYPES  # some types are asked about


@pytest.mark.parametrize("name", STREAMS)
def test_inert_types_are_known_types_and_cover_the_usual_stream(name: str) -> None:
    dialect, events = STREAMS[name]
    assert dialect.inert_types < dialect.known_types  # some types are asked about
    inert = [e for e in events if e.type in dialect.inert_types]
    assert len(inert) > len(events) / 2  # text and progress: most of a stream


@pytest.mark.parametrize("name", STREAMS)
def test_an_inert_event_has_nothing_to_say(name: str) -> None:
    dialect, events = STREAMS[name]
    said = [(e.type, _answers(dialect, e)) for e in events if e.type in dialect.inert_types]
    assert said and [s for s in said if s[1] != NOTHING] == []


@pytest.mark.parametrize("name", STREAMS)
def test_the_types_asked_about_include_every_call_pause_and_end_in_the_fixture(
    name: str,
) -> None:
    dialect, events = STREAMS[name]
    asked = {e.type for e in events if _answers(dialect, e) != NOTHING}
    assert asked and not asked & dialect.inert_types


def test_the_default_asks_about_every_event() -> None:
    assert Dialect.inert_types == frozenset()


async def test_a_run_over_inert_events_still_answers_the_call_between_them() -> None:
    app = App(load_entrypoints=False)
    ran: list[str] = []

    @app.tool
    def lookup(key: str) -> str:
        """Look a key up."""
        ran.append(key)
        return key

    lines: list[dict[str, Any]] = [
        {"type": "agent.message", "id": "sevt_1", "content": [{"type": "text", "text": "a"}]},
        {"type": "agent.custom_tool_use", "id": "sevt_2", "name": "lookup",
         "input": {"key": "k"}},
        {"type": "agent.thinking", "id": "sevt_3"},
        {"type": "session.status_idle", "id": "sevt_4",
         "stop_reason": {"type": "requires_action", "event_ids": ["sevt_2"]}},
    ]  # fmt: skip
    for line in lines:
        line.setdefault("processed_at", "2026-01-01T00:00:00Z")
    ctx = await app.dispatch_many([parse_event(json.dumps(x)) for x in lines])
    assert ran == ["k"]
    assert [r["type"] for r in ctx.outbox] == ["user.custom_tool_result"]
