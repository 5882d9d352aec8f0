"""The core's observer hooks (agentflow.core.observe and .observers), with a plain recording
observer: what each hook sees, that it wraps the work in the work's own context, and that it
costs and breaks nothing."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import anyio
import pytest
from otel_support import API_KEY, ids_of, one_turn, run_turn

from agentflow import Allow, App, Context, parse_event, tool_confirmation
from agentflow.core.actions.router import ActionsRouter
from agentflow.core.exceptions import BadRequestError, ServerError
from agentflow.core.observe import (
    Observer,
    PostObservation,
    ReconnectObservation,
    RunObservation,
)
from agentflow.core.observers import Observers
from agentflow.managed_agents.dialect import MANAGED_AGENTS
from agentflow.testing import CustomTool, Say, Scenario, Tool, Turn

MESSAGE = {
    "type": "agent.message",
    "id": "sevt_1",
    "content": [],
    "processed_at": "2026-01-01T00:00:00Z",
}
SCOPE: contextvars.ContextVar[str] = contextvars.ContextVar("scope", default="none")


class Recorder(Observer):
    """Notes each hook's entry and exit, and sets SCOPE inside it, as a tracer would."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str, Any]] = []
        self.reconnect_scopes: list[str] = []

    @contextmanager
    def _scope(self, name: str, seen: Any) -> Iterator[None]:
        self.log.append(("enter", name, seen))
        token = SCOPE.set(name)
        try:
            yield
        finally:
            SCOPE.reset(token)
            self.log.append(("exit", name, seen))

    def on_run(self, run: Any) -> Any:
        return self._scope("run", run)

    def on_tool(self, tool: Any) -> Any:
        return self._scope(f"tool {tool.call.name}", tool)

    def on_policy(self, policy: Any) -> Any:
        return self._scope("policy", policy)

    def on_post(self, post: Any) -> Any:
        return self._scope("post", post)

    def on_event(self, event: Any, ctx: Any) -> Any:
        return self._scope(f"event {event.type}", event)

    def on_reconnect(self, reconnect: Any) -> None:
        self.log.append(("call", "reconnect", reconnect))
        self.reconnect_scopes.append(SCOPE.get())

    def seen(self, name: str) -> list[Any]:
        return [s for what, n, s in self.log if n == name and what in ("exit", "call")]


def _app(*observers: object, **options: Any) -> App:
    app = App(observers=observers, **options)
    app.load_entrypoints = False
    return app


async def test_each_hook_sees_its_work_and_the_work_runs_inside_it() -> None:
    recorder = Recorder()
    app = _app(recorder)
    where: dict[str, str] = {}

    @app.tool
    def lookup(key: str) -> str:
        """Sync: runs in a worker thread."""
        where["lookup"] = SCOPE.get()
        return key

    @app.tool
    async def explode() -> str:
        """Always fails."""
        where["explode"] = SCOPE.get()
        raise KeyError("gone")

    @app.confirm("read*")
    def allow_reads(event: Any) -> Allow:
        where["policy"] = SCOPE.get()
        return Allow()

    @app.on("agent.message")
    def show(event: Any) -> None:
        where["handler"] = SCOPE.get()

    scen = one_turn(
        Say("Working."),
        CustomTool("lookup", {"key": "a"}),
        CustomTool("explode", {}),
        Tool("read_file", {"path": "x"}, permission="always_ask"),
        Say("Done."),
    )
    result, history = await run_turn(app, scen)
    assert where == {
        "lookup": "tool lookup",
        "explode": "tool explode",
        "policy": "policy",
        "handler": "run",
    }

    (run,) = recorder.seen("run")
    assert isinstance(run, RunObservation)
    assert (run.session_id, run.dialect, run.result) == (
        result.session_id,
        "managed_agents",
        result,
    )
    assert dict(run.counts) == result.counts  # the live counts, final
    assert recorder.log[0][:2] == ("enter", "run") and recorder.log[-1][:2] == ("exit", "run")

    (ok,) = recorder.seen("tool lookup")
    (failed,) = recorder.seen("tool explode")
    assert [ok.call.id, failed.call.id] == ids_of(history, "agent.custom_tool_use")
    assert (ok.reply.outcome, ok.reply.text) == ("ok", "a")
    assert failed.reply.outcome == "error" and isinstance(failed.reply.exception, KeyError)
    assert ok.session_id == result.session_id and ok.tool.name == "lookup"

    (policy,) = recorder.seen("policy")
    assert policy.call.id == ids_of(history, "agent.tool_use")[0]
    assert isinstance(policy.decision.verdict, Allow)

    (post,) = recorder.seen("post")
    assert (post.count, post.attempts, post.status, post.sent) == (3, 1, "sent", 3)
    assert post.dialect == "managed_agents"
    assert recorder.seen("reconnect") == [] and not any("event" in n for _, n, _ in recorder.log)


async def test_event_hooks_run_only_with_trace_events() -> None:
    recorder = Recorder()
    app = _app(recorder)
    where: list[str] = []

    @app.on("*")
    def note(event: Any) -> None:
        where.append(SCOPE.get())

    event = parse_event(
        {
            "type": "agent.message",
            "id": "sevt_1",
            "content": [],
            "processed_at": "2026-01-01T00:00:00Z",
        }
    )
    await app.dispatch(event)
    assert where == ["none"] and recorder.log == []
    app.trace_events = True
    await app.dispatch(event)
    assert where == ["none", "event agent.message"]
    assert [(w, n) for w, n, _ in recorder.log] == [
        ("enter", "event agent.message"),
        ("exit", "event agent.message"),
    ]


def test_an_app_without_observers_or_hooks_adds_no_layer() -> None:
    app = App(trace_events=True)
    assert len(app.observers) == 0 and not app.observers.traces_events
    assert isinstance(app.observers.run(RunObservation("s", "d", {})), nullcontext)
    assert app._build_chain() == app._run_handlers  # no dispatch wrapper without on_event

    class RunsOnly(Observer):
        def on_run(self, run: Any) -> None:
            return None

    app.observe(RunsOnly())
    assert not app.observers.traces_events
    assert app._build_chain() == app._run_handlers


def test_an_object_with_no_hook_is_refused() -> None:
    with pytest.raises(TypeError, match="an observer needs at least one of on_run"):
        App(observers=[object()])


class Broken(Observer):
    """Fails everywhere it can."""

    def on_run(self, run: Any) -> Any:
        raise RuntimeError("entry fails")

    @contextmanager
    def _fails_on_exit(self) -> Iterator[None]:
        yield
        raise RuntimeError("exit fails")

    def on_tool(self, tool: Any) -> Any:
        return self._fails_on_exit()

    def on_post(self, post: Any) -> Any:
        return self._fails_on_exit()

    def on_reconnect(self, reconnect: Any) -> None:
        raise RuntimeError("call fails")


async def test_a_failing_observer_is_logged_and_the_run_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    app = _app(Broken(), recorder)

    @app.tool
    def lookup(key: str) -> str:
        """Look a key up."""
        return key

    with caplog.at_level(logging.ERROR, logger="agentflow.observe"):
        result, history = await run_turn(app, one_turn(CustomTool("lookup", {"k": 1}), Say("ok")))
        app.observers.reconnect(ReconnectObservation("s", "d", 1, 0.0, "x"))
    assert result.stop_reason == "end_turn" and result.tool_calls[0].sent
    messages = [r.getMessage() for r in caplog.records]
    assert any("Broken.on_run failed on entry" in m for m in messages)
    assert sum("failed on exit" in m for m in messages) == 2  # tool and post
    assert any("Broken.on_reconnect failed" in m for m in messages)
    assert len(recorder.seen("run")) == 1 and len(recorder.seen("reconnect")) == 1  # others ran


def _router(observers: Observers, answer: Any, history: Any = None) -> ActionsRouter:
    return ActionsRouter(
        session_id="sesn_1",
        dialect=MANAGED_AGENTS,
        answer=answer,
        history=history,
        observers=observers,
        send_attempts=2,
        retry_delay=0.001,
    )


async def test_a_post_that_fails_or_finds_its_replies_on_the_server_says_so() -> None:
    recorder = Recorder()
    replies = [tool_confirmation("sevt_1", "allow")]

    async def fails(batch: list[dict[str, Any]]) -> None:
        raise ServerError("try later", status=503)

    with pytest.raises(ServerError):
        await _router(Observers([recorder]), fails).poster.post(replies)
    (failed,) = recorder.seen("post")
    assert isinstance(failed, PostObservation)
    assert (failed.count, failed.attempts, failed.status, failed.sent) == (1, 2, "failed", 0)

    async def rejects(batch: list[dict[str, Any]]) -> None:
        raise BadRequestError("already answered", status=400)

    async def history() -> Any:
        yield parse_event(
            {"type": "user.tool_confirmation", "id": "sevt_2", "tool_use_id": "sevt_1",
             "result": "allow"}
        )  # fmt: skip

    await _router(Observers([recorder]), rejects, history).poster.post(replies)
    skipped = recorder.seen("post")[1]
    assert (skipped.attempts, skipped.status, skipped.sent) == (1, "skipped", 0)


async def test_reconnects_reach_the_observers_without_the_key() -> None:
    recorder = Recorder()
    app = _app(recorder)
    scen = Scenario([Turn([Say(f"part {i}") for i in range(12)])]).with_faults(drop_every=5)
    with anyio.fail_after(20):
        result, _ = await run_turn(app, scen, timeout=20)
    assert result.stop_reason == "end_turn"
    reconnects = recorder.seen("reconnect")
    assert reconnects, "the dropped connection was not reported"
    first = reconnects[0]
    assert (first.session_id, first.dialect, first.attempt) == (
        result.session_id,
        "managed_agents",
        1,
    )
    assert first.error and API_KEY not in first.error
    # a reconnect happens in the run loop's task: inside the run's scope
    assert set(recorder.reconnect_scopes) == {"run"}


def test_a_detached_dispatch_and_dispatch_many_work_with_observers() -> None:
    recorder = Recorder()
    app = _app(recorder, trace_events=True)
    ctx = Context(app=app)
    event = parse_event(
        {
            "type": "agent.message",
            "id": "sevt_1",
            "content": [],
            "processed_at": "2026-01-01T00:00:00Z",
        }
    )

    async def main() -> None:
        await app.dispatch_many([event, event], ctx)

    anyio.run(main)
    assert len(recorder.seen("event agent.message")) == 2
