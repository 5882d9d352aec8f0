"""The common vocabulary: ``.kind`` on every event, ``isinstance``, ``@app.on(kind=...)``."""

from __future__ import annotations

from typing import Any

import pytest

import agentflow
from agentflow import App, Event, parse_event
from agentflow.core.events import KINDS, split_type
from agentflow.events import UnknownEvent

TS = "2026-05-14T09:12:05.800Z"


def _ev(kind: str, **fields: Any) -> Any:
    return parse_event({"type": kind, "id": "e1", "processed_at": TS, **fields})


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        (_ev("agent.message", content=[{"type": "text", "text": "hi"}]), "message.completed"),
        (_ev("agent.custom_tool_use", name="f", input={}), "tool.started"),
        (
            _ev(
                "session.error",
                error={"type": "x", "message": "m", "retry_status": {"type": "retrying"}},
            ),
            "error",
        ),  # fmt: skip
        (_ev("agent.tool_use", name="bash", input={}), "tool.started"),
        (_ev("agent.tool_result", tool_use_id="t", is_error=True), "tool.failed"),
        (_ev("user.custom_tool_result", custom_tool_use_id="c", content=[]), "tool.completed"),
        (_ev("user.tool_confirmation", tool_use_id="t", result="allow"), "approval.resolved"),
        (_ev("session.status_running"), "turn.started"),
        (_ev("session.status_idle", stop_reason={"type": "end_turn"}), "turn.completed"),
        (
            _ev("session.status_idle", stop_reason={"type": "requires_action", "event_ids": []}),
            "tool.requested",
        ),
        (_ev("session.status_idle", stop_reason={"type": "retries_exhausted"}), "turn.failed"),
        (_ev("session.usage", usage={}), "usage.updated"),
        (_ev("span.model_request_start"), None),
        (_ev("brand.new_type"), None),
    ],
    ids=lambda v: v if isinstance(v, str) or v is None else v.type,
)
def test_every_managed_agents_event_names_its_kind(event: Any, kind: str | None) -> None:
    assert event.kind == kind
    assert kind is None or kind in KINDS
    assert isinstance(event, agentflow.Event)


def test_event_is_a_class_usable_with_isinstance() -> None:
    assert isinstance(Event, type)
    assert not isinstance(object(), Event)
    delta = parse_event(
        {"type": "event_delta", "event_id": "m", "delta": {"type": "content_delta",
         "content": {"type": "text", "text": "Hel"}}}
    )  # fmt: skip
    assert isinstance(delta, Event) and delta.kind == "message.delta" and delta.text == "Hel"


@pytest.mark.parametrize(
    ("type_", "parts"),
    [
        ("agent.tool_use", ("agent", "tool_use")),
        ("output.message.delta", ("output.message", "delta")),
        ("reason.thinking.delta", ("reason.thinking", "delta")),
        ("text-delta", ("text-delta", "")),
        ("content_block_delta", ("content_block_delta", "")),
    ],
)
def test_domain_and_action_split_at_the_last_dot(type_: str, parts: tuple[str, str]) -> None:
    assert split_type(type_) == parts
    event = UnknownEvent(type=type_)
    assert (event.domain, event.action) == parts


async def test_on_kind_routes_without_a_pattern() -> None:
    app = App(load_entrypoints=False)
    seen: list[str] = []

    @app.on(kind="tool.started")
    def started(event: Event) -> None:
        seen.append(f"started {event.tool_name}")

    @app.on("agent.*", kind="message.completed")
    def said(event: Event) -> None:
        seen.append(f"said {event.text}")

    await app.dispatch(_ev("agent.custom_tool_use", name="lookup", input={}))
    await app.dispatch(_ev("agent.tool_use", name="bash", input={}))
    await app.dispatch(_ev("agent.message", content=[{"type": "text", "text": "hi"}]))
    await app.dispatch(_ev("session.status_running"))
    assert seen == ["started lookup", "started bash", "said hi"]


def test_every_event_has_the_conveniences() -> None:
    unknown = parse_event({"type": "x.y", "error": {"type": "boom"}})
    running = _ev("session.status_running")
    for event in (unknown, running):
        assert event.text == "" and event.tool_name is None and event.tool_input is None
        assert event.call_id is None and isinstance(event.raw, dict)
        assert event.is_final_response() is False
    assert running.error is None and unknown.error == {"type": "boom"}
    use = _ev("agent.custom_tool_use", name="f", input={"a": 1})
    result = _ev("user.custom_tool_result", custom_tool_use_id="e9", content=[])
    assert (use.call_id, result.call_id) == ("e1", "e9")
