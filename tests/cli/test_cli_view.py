"""The live view: plain lines, streamed text, JSON lines, the tally and the summary."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import pytest

from agentflow.cli._choose import make_view
from agentflow.cli._output import Writer
from agentflow.cli._view import JsonView, PlainView
from agentflow.events import parse_event


def _feed(view: Any, *events: dict[str, Any]) -> None:
    for raw in events:
        view.show(parse_event(raw))


def _stamp(i: int) -> str:
    return f"2026-05-14T09:12:{i:02d}.000Z"


def _ev(i: int, type_: str, **fields: Any) -> dict[str, Any]:
    return {"type": type_, "id": f"sevt_{i}", "processed_at": _stamp(i), **fields}


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_view_draws_every_fixture_event_without_escape_codes(
    fixture_events: list[dict[str, Any]],
) -> None:
    out = io.StringIO()
    view = PlainView(out, verbose=True)
    _feed(view, *fixture_events)
    view.finish()
    text = out.getvalue()
    assert "\x1b" not in text
    assert view.tally.total == len(fixture_events)
    stored_types = {e["type"] for e in fixture_events if e.get("id")}
    for etype in stored_types - {"agent.message", "agent.thinking", "user.message"}:
        # verbose: every stored type is either described or named
        assert etype in text or _described(etype, text), etype
    assert "summary" in text and "by type" in text


def _described(etype: str, text: str) -> bool:
    tags = {
        "agent.tool_use": "tool ",
        "agent.custom_tool_use": "tool ",
        "agent.mcp_tool_use": "tool ",
        "agent.tool_result": "result ",
        "agent.mcp_tool_result": "result ",
        "user.custom_tool_result": "result ",
        "user.tool_result": "result ",
        "user.tool_confirmation": "confirm ",
        "session.status_idle": "idle",
        "session.status_running": "running",
        "session.status_rescheduled": "rescheduled",
        "session.status_terminated": "terminated",
        "session.deleted": "deleted",
        "session.error": "error ",
        "workflow_run.error": "error ",
        "user.interrupt": "interrupt",
        "user.define_outcome": "outcome:",
        "system.message": "system ",
        "session.thread_created": "thread ",
        "agent.thread_message_sent": "thread ",
        "agent.thread_message_received": "thread ",
        "span.outcome_evaluation_end": "outcome ",
    }
    return etype in tags and tags[etype] in text


def test_quiet_types_only_show_when_verbose() -> None:
    quiet = _ev(1, "span.model_request_start")
    out = io.StringIO()
    _feed(PlainView(out), quiet)
    assert out.getvalue() == ""
    out = io.StringIO()
    _feed(PlainView(out, verbose=True), quiet)
    assert "span.model_request_start sevt_1" in out.getvalue()


def test_streamed_text_is_written_as_it_arrives_and_not_repeated() -> None:
    out = io.StringIO()
    view = PlainView(out)
    _feed(view, {"type": "event_start", "event": {"type": "agent.message", "id": "m1"}})
    delta = {"type": "content_delta", "index": 0, "content": {"type": "text", "text": "Hel"}}
    _feed(view, {"type": "event_delta", "event_id": "m1", "delta": delta})
    assert out.getvalue() == "agent    Hel"  # no newline yet: the line grows as text streams
    delta = {**delta, "content": {"type": "text", "text": "lo!"}}
    _feed(view, {"type": "event_delta", "event_id": "m1", "delta": delta})
    _feed(view, _ev(2, "agent.message", id="m1", content=[{"type": "text", "text": "Hello!"}]))
    assert out.getvalue() == "agent    Hello!\n"


def test_final_text_that_differs_from_the_preview_is_printed_in_full() -> None:
    out = io.StringIO()
    view = PlainView(out)
    _feed(view, {"type": "event_start", "event": {"type": "agent.message", "id": "m1"}})
    delta = {"type": "content_delta", "index": 0, "content": {"type": "text", "text": "Hel"}}
    _feed(view, {"type": "event_delta", "event_id": "m1", "delta": delta})
    _feed(view, _ev(2, "agent.message", id="m1", content=[{"type": "text", "text": "Hello!"}]))
    assert out.getvalue() == "agent    Hel\nagent    Hello!\n"


def test_a_preview_the_final_event_never_completes_is_closed_by_the_span_end() -> None:
    out = io.StringIO()
    view = PlainView(out)
    _feed(view, {"type": "event_start", "event": {"type": "agent.message", "id": "m1"}})
    delta = {"type": "content_delta", "index": 0, "content": {"type": "text", "text": "Hal"}}
    _feed(view, {"type": "event_delta", "event_id": "m1", "delta": delta})
    _feed(view, _ev(3, "span.model_request_end", model_request_start_id="s", model_usage={
        "input_tokens": 1, "output_tokens": 1, "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0}))  # fmt: skip
    _feed(view, _ev(4, "session.status_running"))
    assert out.getvalue() == "agent    Hal\nstatus   running\n"


def test_tool_calls_decisions_and_results_are_named_and_summarised() -> None:
    out = io.StringIO()
    view = PlainView(out)
    _feed(
        view,
        _ev(1, "agent.tool_use", name="bash", input={"command": "ls"},
            evaluated_permission="ask", evaluation={"type": "always_ask"}),
        _ev(2, "agent.tool_use", name="read", input={"file_path": "a"},
            evaluated_permission="ask", evaluation={"type": "always_ask"}),
        _ev(3, "agent.custom_tool_use", name="get_weather", input={"city": "Paris"}),
        _ev(4, "session.status_idle", stop_reason={
            "type": "requires_action", "event_ids": ["sevt_1", "sevt_2", "sevt_3"]}),
        _ev(5, "user.tool_confirmation", tool_use_id="sevt_1", result="deny",
            deny_message="No shell."),
        _ev(6, "user.tool_confirmation", tool_use_id="sevt_2", result="allow"),
        _ev(7, "user.custom_tool_result", custom_tool_use_id="sevt_3",
            content=[{"type": "text", "text": "sunny"}]),
        _ev(8, "agent.tool_result", tool_use_id="sevt_2", content=[{"type": "text", "text": "x"}]),
        _ev(9, "session.error", error={"type": "model_overloaded_error", "message": "busy",
                                       "retry_status": {"type": "retrying"}}),
        _ev(10, "session.status_idle", stop_reason={"type": "end_turn"}),
    )  # fmt: skip
    view.finish([("extra", "row")])
    lines = out.getvalue().splitlines()
    assert 'tool     bash {"command": "ls"}  [needs confirmation (always_ask)]' in lines
    assert "status   idle: requires_action, waiting on 3 call(s)" in lines
    assert "confirm  bash: denied - No shell." in lines
    assert "confirm  read: allowed" in lines
    assert "result   get_weather: sunny" in lines
    assert "error    model_overloaded_error (retrying): busy" in lines
    summary = out.getvalue().split("\nsummary\n", 1)[1]
    assert "bash (tool, ask): denied: No shell." in summary
    assert "read (tool, ask): allowed -> ok: x" in summary
    assert "get_weather (custom): ok: sunny" in summary
    assert "errors" in summary and "model_overloaded_error" in summary
    assert "stopped      end_turn" in summary
    assert "extra        row" in summary
    assert "first event" in summary


def test_unknown_event_types_are_shown_not_dropped() -> None:
    out = io.StringIO()
    _feed(PlainView(out), _ev(1, "session.brand_new_thing", detail=1))
    assert "session.brand_new_thing (a type this version does not know)" in out.getvalue()


def test_json_view_prints_each_event_as_received_and_nothing_else(
    fixture_events: list[dict[str, Any]],
) -> None:
    out = io.StringIO()
    view = JsonView(out)
    view.note("not an event")
    _feed(view, *fixture_events)
    view.finish()
    lines = out.getvalue().splitlines()
    assert [json.loads(line) for line in lines] == fixture_events


def test_make_view_chooses_by_flags_and_terminal() -> None:
    assert type(make_view(io.StringIO())) is PlainView
    assert type(make_view(io.StringIO(), json_lines=True)) is JsonView
    assert type(make_view(_Tty(), plain=True)) is PlainView
    rich_view = make_view(_Tty())
    try:
        assert type(rich_view).__name__ == "RichView"
    finally:
        rich_view.close()


def test_without_rich_a_terminal_gets_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rich", None)  # import rich -> ImportError
    for name in [m for m in sys.modules if m.startswith("rich.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "agentflow.cli._rich_view", raising=False)
    assert type(make_view(_Tty())) is PlainView


def test_rich_view_draws_lines_and_a_summary_table() -> None:
    out = _Tty()
    view = make_view(out)
    try:
        _feed(view, _ev(1, "session.status_running"),
              _ev(2, "agent.message", content=[{"type": "text", "text": "Hi there"}]))  # fmt: skip
        view.finish()
    finally:
        view.close()
    text = out.getvalue()
    assert "Hi there" in text and "summary" in text and "\x1b[" in text


class _Broken(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_broken_pipe_closes_the_writer_once_and_drops_later_output() -> None:
    calls: list[str] = []
    writer = Writer(_Broken())
    writer.on_close = lambda: calls.append("closed")
    writer.write("a")
    writer.write("b")
    assert writer.closed
    assert calls == ["closed"]
