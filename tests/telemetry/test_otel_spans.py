"""The OpenTelemetry observer's spans, recorded by the SDK's in-memory exporter, for runs
against the Managed Agents emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from opentelemetry.trace import StatusCode
from otel_support import API_KEY, Telemetry, ids_of, one_turn, parent_id, run_turn, span_id

from agentflow import Allow, Deny, DispatchError, MemoryCheckpointStore
from agentflow.testing import CustomTool, Say, Tool


@pytest.fixture
def otel() -> Iterator[Telemetry]:
    telemetry = Telemetry()
    yield telemetry
    telemetry.shutdown()


async def test_a_run_with_two_tools_and_a_confirmation_makes_nested_spans(otel: Telemetry) -> None:
    # acceptance 1
    app = otel.app()

    @app.tool
    def lookup(key: str) -> str:
        """Look a key up (sync: runs in a worker thread)."""
        with otel.tracer.start_as_current_span("user.lookup"):
            return f"value of {key}"

    @app.tool
    async def explode(reason: str) -> str:
        """Always fails."""
        with otel.tracer.start_as_current_span("user.explode"):
            raise ValueError(f"cannot: {reason}")

    @app.confirm("read*")
    def allow_reads(event: Any) -> Allow:
        return Allow()

    @app.on("agent.message")
    def show(event: Any) -> None:
        with otel.tracer.start_as_current_span("user.handler"):
            pass

    scen = one_turn(
        Say("Working."),
        CustomTool("lookup", {"key": "a"}),
        CustomTool("explode", {"reason": "no"}),
        Tool("read_file", {"path": "notes.txt"}, permission="always_ask"),
        Say("Done."),
    )
    result, history = await run_turn(app, scen)
    assert result.stop_reason == "end_turn"
    lookup_id, explode_id = ids_of(history, "agent.custom_tool_use")
    (read_id,) = ids_of(history, "agent.tool_use")

    run = otel.one("agentflow.run")
    assert parent_id(run) is None
    assert run.attributes is not None
    assert run.attributes["agentflow.session.id"] == result.session_id
    assert run.attributes["agentflow.dialect"] == "managed_agents"
    assert run.attributes["agentflow.run.stop_reason"] == "end_turn"
    assert run.attributes["agentflow.run.events"] == result.events
    assert run.attributes["agentflow.run.tool_calls"] == 3
    assert run.attributes["gen_ai.usage.output_tokens"] == result.usage.output_tokens
    assert run.status.status_code is StatusCode.UNSET

    ok, failed = otel.one("execute_tool lookup"), otel.one("execute_tool explode")
    for span, call_id, name in ((ok, lookup_id, "lookup"), (failed, explode_id, "explode")):
        assert span.attributes is not None
        assert span.attributes["gen_ai.operation.name"] == "execute_tool"
        assert span.attributes["gen_ai.tool.name"] == name
        assert span.attributes["gen_ai.tool.call.id"] == call_id
        assert span.attributes["gen_ai.tool.type"] == "function"
        assert parent_id(span) == span_id(run)
    assert ok.status.status_code is StatusCode.UNSET
    assert ok.attributes is not None and ok.attributes["agentflow.tool.outcome"] == "ok"
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.status.description == "ValueError: cannot: no"
    assert failed.attributes is not None and failed.attributes["error.type"] == "ValueError"
    (exception,) = [e for e in failed.events if e.name == "exception"]
    assert exception.attributes is not None
    assert exception.attributes["exception.type"] == "ValueError"
    assert "cannot: no" in str(exception.attributes["exception.stacktrace"])

    policy = otel.one("agentflow.policy")
    assert policy.attributes is not None
    assert policy.attributes["gen_ai.tool.call.id"] == read_id
    assert policy.attributes["agentflow.policy.verdict"] == "allow"
    assert policy.attributes["agentflow.policy.name"] == result.tool_calls[2].policy
    assert parent_id(policy) == span_id(run)

    post = otel.one("agentflow.reply.post")
    assert post.attributes is not None
    assert {k: v for k, v in post.attributes.items() if k.startswith("agentflow.reply.")} == {
        "agentflow.reply.count": 3,
        "agentflow.reply.sent": 3,
        "agentflow.reply.attempts": 1,
        "agentflow.reply.status": "sent",
    }
    assert parent_id(post) == span_id(run)

    # users' spans nest: in a sync tool (a worker thread), an async tool and a handler
    assert parent_id(otel.one("user.lookup")) == span_id(ok)
    assert parent_id(otel.one("user.explode")) == span_id(failed)
    handler_spans = otel.named("user.handler")
    assert len(handler_spans) == 2 and {parent_id(s) for s in handler_spans} == {span_id(run)}
    assert {s.context.trace_id for s in otel.spans() if s.context} == {run.context.trace_id}


async def test_a_tool_that_times_out_gets_an_error_span_with_its_exception(otel: Telemetry) -> None:
    app = otel.app()

    @app.tool(timeout=0.05)
    async def slow() -> str:
        """Never finishes in time."""
        await anyio.sleep(5)
        return "late"

    result, _ = await run_turn(app, one_turn(CustomTool("slow", {}), Say("Gave up.")))
    assert result.tool_calls[0].outcome == "timeout"
    span = otel.one("execute_tool slow")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None and span.attributes["error.type"] == "timeout"
    (exception,) = [e for e in span.events if e.name == "exception"]
    assert exception.attributes is not None
    assert exception.attributes["exception.type"] == "TimeoutError"


async def test_a_denied_confirm_tool_has_a_policy_span_and_no_execution(otel: Telemetry) -> None:
    app = otel.app()
    ran: list[str] = []

    @app.tool(confirm=True)
    def wipe(path: str) -> str:
        """Delete a path."""
        ran.append(path)
        return "gone"

    @app.confirm("wipe")
    def never(event: Any) -> Deny:
        return Deny("Not on this machine.")

    result, _ = await run_turn(app, one_turn(CustomTool("wipe", {"path": "/"}), Say("Ok.")))
    assert ran == [] and result.tool_calls[0].outcome == "denied"
    assert otel.named("execute_tool wipe") == []
    policy = otel.one("agentflow.policy")
    assert policy.attributes is not None
    assert policy.attributes["agentflow.policy.verdict"] == "deny"
    assert policy.attributes["agentflow.policy.message"] == "Not on this machine."
    assert policy.attributes["agentflow.call.kind"] == "tool"
    assert parent_id(policy) == span_id(otel.one("agentflow.run"))


def _all_values(spans: list[Any]) -> list[str]:
    values: list[str] = []
    for span in spans:
        for attributes in [span.attributes, *(e.attributes for e in span.events)]:
            values.extend(str(v) for v in (attributes or {}).values())
        values.append(str(span.status.description))
    return values


@pytest.mark.parametrize("capture", [False, True], ids=["default", "capture_tool_input"])
async def test_tool_input_is_recorded_only_when_asked_and_the_key_never(
    otel: Telemetry, capture: bool
) -> None:
    app = otel.app(capture_tool_input=capture, trace_events=True)
    secret = "patient-4711-diagnosis"

    @app.tool
    def store(note: str) -> str:
        """Store a note."""
        return "stored"

    await run_turn(app, one_turn(CustomTool("store", {"note": secret}), Say("Stored.")))
    spans = otel.spans()
    assert len(spans) > 5
    values = _all_values(spans)
    assert not any(API_KEY in v for v in values)
    assert any(secret in v for v in values) is capture
    tool = otel.one("execute_tool store")
    assert tool.attributes is not None
    if capture:
        assert json.loads(str(tool.attributes["gen_ai.tool.call.arguments"])) == {"note": secret}
    else:
        assert "gen_ai.tool.call.arguments" not in tool.attributes


@pytest.mark.parametrize("how", ["App(trace_events=True)", "app.trace_events = True"])
async def test_event_spans_only_when_asked_each_under_the_run(otel: Telemetry, how: str) -> None:
    app = otel.app(trace_events=how.startswith("App"))

    @app.on("agent.message")
    def show(event: Any) -> None:
        with otel.tracer.start_as_current_span("user.handler"):
            pass

    if how.startswith("app"):
        result, _ = await run_turn(app, one_turn(Say("One.")))
        assert otel.named("agentflow.run") and otel.named("user.handler")
        assert [s for s in otel.spans() if s.name.startswith("agentflow.event")] == []
        otel.exporter.clear()
        app.trace_events = True
        app.actions.checkpoint = MemoryCheckpointStore()  # the new emulator reuses the ids

    result, _ = await run_turn(app, one_turn(Say("One.")))
    events = [s for s in otel.spans() if s.name.startswith("agentflow.event ")]
    assert len(events) == result.events
    run = otel.one("agentflow.run")
    assert {parent_id(s) for s in events} == {span_id(run)}
    message = otel.one("agentflow.event agent.message")
    assert message.attributes is not None
    assert message.attributes["agentflow.event.kind"] == "message.completed"
    assert message.attributes["agentflow.session.id"] == result.session_id
    assert parent_id(otel.one("user.handler")) == span_id(message)


async def test_a_run_that_raises_ends_its_span_in_error_with_the_partial_result(
    otel: Telemetry,
) -> None:
    app = otel.app()

    @app.on("agent.message")
    def fail(event: Any) -> None:
        raise LookupError("handler bug")

    with pytest.raises(DispatchError) as raised:
        await run_turn(app, one_turn(Say("One.")))
    run = otel.one("agentflow.run")
    assert run.status.status_code is StatusCode.ERROR
    assert run.attributes is not None
    assert run.attributes["agentflow.run.stop_reason"] == "error"
    assert run.attributes["agentflow.run.events"] == raised.value.run_result.events
    assert [e.name for e in run.events] == ["exception"]
