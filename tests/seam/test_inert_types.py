"""``Dialect.inert_types``: the run loop skips asking about these types, so for each of them
every question of the dialect must have the answer "nothing" (else a call would be lost)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentflow import App, Event
from agentflow.core.dialect import Dialect
from agentflow.events import parse_event
from agentflow.managed_agents.dialect import EVENT_TYPES, MANAGED_AGENTS

FIXTURE = Path(__file__).parent.parent / "fixtures" / "managed_agents_events.jsonl"
LINES = [line for line in FIXTURE.read_bytes().splitlines() if line.strip()]
EVENTS: list[Event] = [parse_event(line) for line in LINES]


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


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.type)
def test_an_inert_event_has_nothing_to_say(event: Event) -> None:
    answers = _answers(MANAGED_AGENTS, event)
    if event.type in MANAGED_AGENTS.inert_types:
        assert answers == [(), None, None, None, None, None, None]


def test_the_types_asked_about_include_every_call_pause_and_end_in_the_fixture() -> None:
    asked = {
        e.type
        for e in EVENTS
        if _answers(MANAGED_AGENTS, e) != [(), None, None, None, None, None, None]
    }
    assert asked and not asked & MANAGED_AGENTS.inert_types


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
