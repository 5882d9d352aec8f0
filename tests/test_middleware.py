"""Middleware: the onion, short-circuits, and the built-in middleware."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from agentflow import App, Context, DispatchError, SessionErrorRaised
from agentflow.core.routes import StopPropagation
from agentflow.events import Event, parse_event
from agentflow.middleware import (
    ErrorEscalation,
    LoggingMiddleware,
    Next,
    ToolNameFilter,
    redact,
    redact_text,
)


def make(event_type: str, event_id: str = "sevt_1", **fields: Any) -> Event:
    return parse_event(
        {"type": event_type, "id": event_id, "processed_at": "2026-05-14T09:12:05.800Z", **fields}
    )


def message(event_id: str = "sevt_m") -> Event:
    return make("agent.message", event_id, content=[{"type": "text", "text": "hi"}])


def tool_use(name: str, event_id: str = "sevt_t", event_type: str = "agent.tool_use") -> Event:
    extra = {"mcp_server_name": "github"} if event_type == "agent.mcp_tool_use" else {}
    return make(event_type, event_id, name=name, input={"q": 1}, **extra)


def session_error(retry_status: str | None, message: str = "overloaded") -> Event:
    error: dict[str, Any] = {"type": "model_overloaded_error", "message": message}
    if retry_status is not None:
        error["retry_status"] = {"type": retry_status}
    return make("session.error", "sevt_err", error=error)


def recording_app(*middleware: Any) -> tuple[App, list[str]]:
    app = App()
    app.use(*middleware)
    seen: list[str] = []
    app.add_handler(lambda event: seen.append(event.type))
    return app, seen


# -- the onion --------------------------------------------------------------------------


async def test_middleware_runs_outside_in() -> None:
    calls: list[str] = []

    def layer(label: str) -> Any:
        async def middleware(event: Event, ctx: Context, call_next: Next) -> None:
            calls.append(label)
            await call_next(event, ctx)
            calls.append(label)

        return middleware

    app = App()
    app.use(layer("outer"))
    app.use(layer("inner"))
    app.add_handler(lambda: calls.append("handler"))
    await app.dispatch(message())
    assert calls == ["outer", "inner", "handler", "inner", "outer"]


async def test_not_calling_call_next_short_circuits() -> None:
    calls: list[str] = []

    async def gate(event: Event, ctx: Context, call_next: Next) -> None:
        calls.append("gate")
        if event.type != "agent.tool_use":
            await call_next(event, ctx)

    async def inner(event: Event, ctx: Context, call_next: Next) -> None:
        calls.append("inner")
        await call_next(event, ctx)

    app = App()
    app.use(gate, inner)
    app.add_handler(lambda event: calls.append(f"handler:{event.type}"))
    ctx = await app.dispatch(tool_use("bash"))
    assert calls == ["gate"]
    assert ctx.outbox == []
    await app.dispatch(message())
    assert calls == ["gate", "gate", "inner", "handler:agent.message"]


async def test_middleware_may_pass_another_event_inward() -> None:
    async def rewrite(event: Event, ctx: Context, call_next: Next) -> None:
        await call_next(tool_use("web_search") if event.type == "agent.message" else event, ctx)

    app, seen = recording_app(rewrite)
    await app.dispatch(message())
    assert seen == ["agent.tool_use"]


async def test_stop_propagation_in_middleware_ends_the_event_quietly() -> None:
    async def drop(event: Event, ctx: Context, call_next: Next) -> None:
        raise StopPropagation

    app, seen = recording_app(drop)
    app.on_error()(lambda exc: seen.append(f"error handler saw {exc!r}"))
    await app.dispatch(message())
    assert seen == []


async def test_middleware_added_after_a_dispatch_is_used() -> None:
    calls: list[str] = []

    async def late(event: Event, ctx: Context, call_next: Next) -> None:
        calls.append("late")
        await call_next(event, ctx)

    app, seen = recording_app()
    await app.dispatch(message())
    app.use(late)
    await app.dispatch(message())
    assert (calls, seen) == (["late"], ["agent.message", "agent.message"])
    assert app.middleware == (late,)


async def test_middleware_exception_reaches_error_handlers() -> None:
    async def broken(event: Event, ctx: Context, call_next: Next) -> None:
        raise ConnectionError("redis down")

    app, seen = recording_app(broken)
    handled: list[tuple[type[Exception], str]] = []

    @app.on_error(ConnectionError)
    def on_connection_error(exc: Exception, event: Event) -> None:
        handled.append((type(exc), event.type))

    await app.dispatch(message())
    assert handled == [(ConnectionError, "agent.message")]
    assert seen == []


async def test_middleware_exception_without_handler_raises_dispatch_error() -> None:
    async def broken(event: Event, ctx: Context, call_next: Next) -> None:
        await call_next(event, ctx)
        raise ConnectionError("after")

    app, seen = recording_app(broken)
    with pytest.raises(DispatchError, match="middleware") as info:
        await app.dispatch(message())
    assert isinstance(info.value.__cause__, ConnectionError)
    assert seen == ["agent.message"]


def _sync_middleware(event: Any, ctx: Any, call_next: Any) -> Any:
    return call_next(event, ctx)


async def _two_params(event: Any, ctx: Any) -> None: ...


@pytest.mark.parametrize(
    ("middleware", "match"),
    [
        (LoggingMiddleware, r"LoggingMiddleware\(\)"),
        (_sync_middleware, "async"),
        (_two_params, "call_next"),
        ("not callable", "middleware"),
    ],
    ids=["class-not-instance", "sync-function", "wrong-arity", "not-callable"],
)
def test_use_rejects_what_cannot_be_middleware(middleware: Any, match: str) -> None:
    app = App()
    with pytest.raises(TypeError, match=match):
        app.use(middleware)
    assert app.middleware == ()


# -- LoggingMiddleware ------------------------------------------------------------------


async def test_logging_middleware_logs_one_structured_line_per_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="agentflow.events")
    app, _ = recording_app(LoggingMiddleware())
    await app.dispatch(tool_use("bash", event_id="sevt_tool"), Context("sesn_1"))
    await app.dispatch(message("sevt_msg"))
    records = [r for r in caplog.records if r.name == "agentflow.events"]
    assert len(records) == 2
    first, second = (r.__dict__ for r in records)
    assert {k: first[k] for k in ("event_type", "event_id", "tool_name", "session_id")} == {
        "event_type": "agent.tool_use",
        "event_id": "sevt_tool",
        "tool_name": "bash",
        "session_id": "sesn_1",
    }
    assert first["processed_at"] == "2026-05-14T09:12:05.800Z"
    assert first["outcome"] == "ok"
    assert isinstance(first["handler_ms"], float) and first["handler_ms"] >= 0
    assert second["tool_name"] is None
    assert records[0].getMessage().startswith("agent.tool_use sevt_tool tool=bash ")
    assert records[1].getMessage().startswith("agent.message sevt_msg ")


async def test_logging_middleware_records_errors_and_reraises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="agentflow.events")
    app, _ = recording_app(LoggingMiddleware())

    def broken() -> None:
        raise ValueError("x")

    app.add_handler(broken)
    with pytest.raises(DispatchError):
        await app.dispatch(message())
    (record,) = [r for r in caplog.records if r.name == "agentflow.events"]
    assert record.__dict__["outcome"] == "error"


async def test_logging_middleware_is_silent_below_its_level(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="agentflow.events")
    app, seen = recording_app(LoggingMiddleware(level=logging.INFO))
    await app.dispatch(message())
    assert seen == ["agent.message"]
    assert [r for r in caplog.records if r.name == "agentflow.events"] == []


SECRET = "sk-ant-api03-TOPSECRET-value_0123"
BEARER = "eyJhbGciOi.SECRETTOKEN"
PLAIN_SECRET = "hunter2-plain-secret"  # no key-like shape: only "never logged" protects it


def _secret_tool_use() -> Event:
    return make(
        "agent.tool_use",
        "sevt_secret",
        name="http_get",
        input={
            "url": "https://api.example.com",
            "headers": {"x-api-key": SECRET, "Authorization": f"Bearer {BEARER}"},
            "api_key": PLAIN_SECRET,
            "note": f"use {SECRET} with Bearer {BEARER}",
        },
        api_key=PLAIN_SECRET,  # an unknown extra field on the event itself
    )


def _secret_context() -> Context:
    return Context(
        "sesn_1",
        state={"api_key": PLAIN_SECRET, "x-api-key": SECRET, "authorization": f"Bearer {BEARER}"},
    )


def _assert_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    assert caplog.records  # something was logged, so the check means something
    for record in caplog.records:
        dumped = f"{record.getMessage()} {record.__dict__!r}"
        for secret in (SECRET, BEARER, PLAIN_SECRET):
            assert secret not in dumped
    for secret in (SECRET, BEARER, PLAIN_SECRET):
        assert secret not in caplog.text


async def test_secrets_in_events_and_ctx_never_reach_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    app = App()
    app.use(
        LoggingMiddleware(level=logging.DEBUG), ToolNameFilter(deny="http_*"), ErrorEscalation()
    )
    app.add_handler(lambda: None)
    ctx = _secret_context()
    await app.dispatch(_secret_tool_use(), ctx)
    await app.dispatch(message(), ctx)
    _assert_no_secret(caplog)


async def test_logged_fields_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app = App()
    app.use(LoggingMiddleware(level=logging.DEBUG, fields=("input", "name")))
    await app.dispatch(_secret_tool_use(), _secret_context())
    _assert_no_secret_shapes(caplog)
    (record,) = caplog.records
    logged = record.__dict__["input"]
    assert logged["headers"] == {"x-api-key": "[REDACTED]", "Authorization": "[REDACTED]"}
    assert logged["api_key"] == "[REDACTED]"
    assert logged["url"] == "https://api.example.com"
    assert logged["note"] == "use [REDACTED] with [REDACTED]"
    assert record.__dict__["event_name"] == "http_get"  # "name" is the LogRecord's own


def _assert_no_secret_shapes(caplog: pytest.LogCaptureFixture) -> None:
    assert caplog.records
    for record in caplog.records:
        dumped = f"{record.getMessage()} {record.__dict__!r}"
        assert SECRET not in dumped and BEARER not in dumped and PLAIN_SECRET not in dumped


async def test_error_logs_redact_secrets_in_exception_messages(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    app = App()
    app.use(ErrorEscalation(on_exception="log"))

    def leaky() -> None:
        raise RuntimeError(f"request failed with x-api-key {SECRET} / Bearer {BEARER}")

    app.add_handler(leaky)
    await app.dispatch(message(), _secret_context())
    await app.dispatch(session_error("retrying", message=f"bad key {SECRET}"))
    _assert_no_secret(caplog)
    assert any("RuntimeError" in r.getMessage() for r in caplog.records)


REDACT_CASES: list[tuple[Any, Any, str]] = [
    (
        {"x-api-key": "k", "X-Api-Key": "k", "keep": 1},
        {"x-api-key": "[REDACTED]", "X-Api-Key": "[REDACTED]", "keep": 1},
        "header-names",
    ),
    (
        {"Authorization": "Bearer abc", "proxy-authorization": "Basic x"},
        {"Authorization": "[REDACTED]", "proxy-authorization": "[REDACTED]"},
        "authorization",
    ),
    (
        {"api_key": "k", "anthropic_api_key": "k", "apiKey": "k"},
        {"api_key": "[REDACTED]", "anthropic_api_key": "[REDACTED]", "apiKey": "[REDACTED]"},
        "api-key-variants",
    ),
    (
        {"authorization_token": "t", "password": "p", "client_secret": "s"},
        {
            "authorization_token": "[REDACTED]",
            "password": "[REDACTED]",
            "client_secret": "[REDACTED]",
        },
        "tokens-passwords",
    ),
    (
        {"input_tokens": 5, "output_tokens": 7},
        {"input_tokens": 5, "output_tokens": 7},
        "token-counts-kept",
    ),
    (
        {"outer": [{"token": "t"}, "Bearer abc.def.ghi"]},
        {"outer": [{"token": "[REDACTED]"}, "[REDACTED]"]},
        "nested",
    ),
    ("key is sk-ant-api03-abc_DEF-123 ok", "key is [REDACTED] ok", "text-key"),
    ("curl -H 'x-api-key: abc123' url", "curl -H 'x-api-key: [REDACTED]' url", "text-header"),
    ("GET /?api_key=hunter2&page=2", "GET /?api_key=[REDACTED]&page=2", "text-query"),
    ("Authorization: Basic dXNlcjpw", "Authorization: [REDACTED]", "text-basic-auth"),
    ('{"password": "p4ss"}', '{"password": "[REDACTED]"}', "text-json"),
    (42, 42, "scalar"),
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [case[:2] for case in REDACT_CASES],
    ids=[case[2] for case in REDACT_CASES],
)
def test_redact(value: Any, expected: Any) -> None:
    assert redact(value) == expected


def test_redact_dumps_models() -> None:
    event = make("agent.tool_use", "e", name="t", input={"api_key": "k", "q": "x"})
    assert redact(event)["input"] == {"api_key": "[REDACTED]", "q": "x"}


def test_redact_text_leaves_plain_text_alone() -> None:
    assert redact_text("nothing to see: bearer of news") == "nothing to see: bearer of news"


# -- ToolNameFilter ---------------------------------------------------------------------

FILTER_CASES: list[tuple[Any, Any, str, str, bool, str]] = [
    (None, (), "agent.tool_use", "bash", True, "no-rules"),
    ("web_*", (), "agent.tool_use", "web_search", True, "allow-glob-hit"),
    ("web_*", (), "agent.tool_use", "bash", False, "allow-glob-miss"),
    (["bash", "read"], (), "agent.tool_use", "read", True, "allow-list"),
    (None, "bash", "agent.tool_use", "bash", False, "deny-exact"),
    (None, ["rm_*", "bash"], "agent.custom_tool_use", "rm_rf", False, "deny-custom-tool"),
    ("*", "create_*", "agent.mcp_tool_use", "create_pull_request", False, "deny-mcp-tool"),
    ("*", "create_*", "agent.mcp_tool_use", "get_status", True, "mcp-passes"),
    ("web_*", "web_fetch", "agent.tool_use", "web_fetch", False, "deny-wins"),
    ("Bash", (), "agent.tool_use", "bash", False, "case-sensitive"),
]


@pytest.mark.parametrize(
    ("allow", "deny", "event_type", "name", "passes"),
    [case[:5] for case in FILTER_CASES],
    ids=[case[5] for case in FILTER_CASES],
)
async def test_tool_name_filter(
    allow: Any, deny: Any, event_type: str, name: str, passes: bool
) -> None:
    app, seen = recording_app(ToolNameFilter(allow=allow, deny=deny))
    await app.dispatch(tool_use(name, event_type=event_type))
    assert seen == ([event_type] if passes else [])


async def test_tool_name_filter_lets_non_tool_events_through() -> None:
    app, seen = recording_app(ToolNameFilter(allow=[], deny="*"))
    await app.dispatch(message())
    await app.dispatch(session_error("retrying"))
    assert seen == ["agent.message", "session.error"]


RESULT_CASES = [
    ("agent.tool_result", {"tool_use_id": "sevt_call"}, "agent.tool_use"),
    ("agent.mcp_tool_result", {"mcp_tool_use_id": "sevt_call"}, "agent.mcp_tool_use"),
    ("user.custom_tool_result", {"custom_tool_use_id": "sevt_call"}, "agent.custom_tool_use"),
    ("user.tool_confirmation", {"tool_use_id": "sevt_call", "result": "allow"}, "agent.tool_use"),
    ("user.tool_result", {"tool_use_id": "sevt_call"}, "agent.tool_use"),
]


@pytest.mark.parametrize(
    ("result_type", "fields", "call_type"),
    RESULT_CASES,
    ids=[case[0] for case in RESULT_CASES],
)
async def test_tool_name_filter_judges_replies_by_the_call_they_answer(
    result_type: str, fields: dict[str, Any], call_type: str
) -> None:
    app, seen = recording_app(ToolNameFilter(deny="secret_*"))
    reply = make(result_type, "sevt_reply", **fields)
    await app.dispatch(reply)  # the call is unknown: the reply passes
    assert seen == [result_type]

    ctx = Context()
    ctx.remember(tool_use("secret_tool", event_id="sevt_call", event_type=call_type))
    await app.dispatch(reply, ctx)
    assert seen == [result_type]  # blocked: it answers a denied tool

    allowed_ctx = Context()
    allowed_ctx.remember(tool_use("public_tool", event_id="sevt_call", event_type=call_type))
    await app.dispatch(reply, allowed_ctx)
    assert seen == [result_type, result_type]


def test_tool_name_filter_validates_patterns() -> None:
    with pytest.raises(ValueError, match="ToolNameFilter deny"):
        ToolNameFilter(deny=["ok", ""])
    with pytest.raises(TypeError, match="ToolNameFilter allow"):
        ToolNameFilter(allow=[3])  # type: ignore[list-item]
    assert ToolNameFilter(allow="a*").allows("abc")


# -- ErrorEscalation --------------------------------------------------------------------

SESSION_ERROR_CASES = [
    ("retrying", "log"),
    ("exhausted", "log"),
    ("terminal", "raise"),
    ("brand_new_status", "raise"),
    (None, "raise"),
]


@pytest.mark.parametrize(
    ("retry_status", "outcome"),
    SESSION_ERROR_CASES,
    ids=[str(case[0]) for case in SESSION_ERROR_CASES],
)
async def test_error_escalation_defaults_for_session_errors(
    retry_status: str | None, outcome: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="agentflow.errors")
    app, seen = recording_app(ErrorEscalation())
    event = session_error(retry_status)
    if outcome == "raise":
        with pytest.raises(SessionErrorRaised) as info:
            await app.dispatch(event)
        assert info.value.event is event
        assert info.value.retry_status == retry_status
        assert info.value.error_type == "model_overloaded_error"
    else:
        await app.dispatch(event)
        (record,) = caplog.records
        assert record.levelno == logging.WARNING
        assert f"retry_status {retry_status!r}" in record.getMessage()
    assert seen == ["session.error"]  # the handlers saw it before the escalation


@pytest.mark.parametrize(
    ("action", "outbox", "stopped", "logged"),
    [
        ("ignore", [], False, 0),
        ("log", [], False, 1),
        ("interrupt", [{"type": "user.interrupt"}], False, 1),
        ("stop", [], True, 1),
    ],
    ids=["ignore", "log", "interrupt", "stop"],
)
async def test_error_escalation_session_error_actions(
    action: Any, outbox: list[Any], stopped: bool, logged: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="agentflow.errors")
    app, _ = recording_app(ErrorEscalation(retrying=action))
    ctx = await app.dispatch(session_error("retrying"))
    assert (ctx.outbox, ctx.stopped, len(caplog.records)) == (outbox, stopped, logged)


async def test_error_escalation_ignores_other_events() -> None:
    app, seen = recording_app(ErrorEscalation(retrying="raise", terminal="raise"))
    ctx = await app.dispatch(message())
    assert (seen, ctx.outbox) == (["agent.message"], [])


@pytest.mark.parametrize(
    ("action", "outbox", "stopped", "logged"),
    [
        ("ignore", [], False, 0),
        ("log", [], False, 1),
        ("interrupt", [{"type": "user.interrupt"}], False, 1),
        ("stop", [], True, 1),
    ],
    ids=["ignore", "log", "interrupt", "stop"],
)
async def test_error_escalation_handler_exception_actions(
    action: Any, outbox: list[Any], stopped: bool, logged: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="agentflow.errors")
    app = App()
    app.use(ErrorEscalation(on_exception=action))
    ran: list[str] = []

    def broken() -> None:
        raise ValueError("boom")

    app.add_handler(broken)
    app.add_handler(lambda: ran.append("next handler"))
    ctx = await app.dispatch(message())
    assert (ctx.outbox, ctx.stopped, len(caplog.records)) == (outbox, stopped, logged)
    assert ran == ["next handler"]  # one failing handler does not starve the others
    if logged:
        assert "handler" in caplog.records[0].getMessage()
        assert "ValueError: boom" in caplog.records[0].getMessage()


async def test_error_escalation_raise_wraps_handler_exceptions() -> None:
    app = App()
    app.use(ErrorEscalation(on_exception="raise"))
    ran: list[str] = []

    def broken() -> None:
        raise ValueError("boom")

    app.add_handler(broken)
    app.add_handler(lambda: ran.append("next"))
    with pytest.raises(DispatchError, match="broken") as info:
        await app.dispatch(message())
    assert isinstance(info.value.__cause__, ValueError)
    assert ran == []


async def test_error_escalation_applies_to_middleware_exceptions(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="agentflow.errors")

    async def broken(event: Event, ctx: Context, call_next: Next) -> None:
        raise ConnectionError("down")

    app, seen = recording_app(broken, ErrorEscalation(on_exception="interrupt"))
    ctx = await app.dispatch(message())
    assert ctx.outbox == [{"type": "user.interrupt"}]
    assert seen == []
    assert "middleware raised ConnectionError" in caplog.records[0].getMessage()


async def test_error_handlers_come_before_error_escalation() -> None:
    app = App()
    app.use(ErrorEscalation(on_exception="raise"))
    handled: list[type[Exception]] = []

    def broken() -> None:
        raise KeyError("k")

    app.add_handler(broken)
    app.on_error(KeyError)(lambda exc: handled.append(type(exc)))
    await app.dispatch(message())
    assert handled == [KeyError]


def test_error_escalation_rejects_unknown_actions() -> None:
    with pytest.raises(ValueError, match="terminal"):
        ErrorEscalation(terminal="panic")  # type: ignore[arg-type]


def test_only_one_error_escalation_per_app() -> None:
    app = App()
    app.use(ErrorEscalation())
    with pytest.raises(ValueError, match="one ErrorEscalation"):
        app.use(ErrorEscalation())
    assert len(app.middleware) == 1


def test_error_escalation_action_for_unknown_status_is_terminal() -> None:
    escalation = ErrorEscalation(terminal="interrupt")
    assert escalation.action_for("whatever") == "interrupt"
    assert escalation.action_for(None) == "interrupt"
    assert escalation.action_for("retrying") == "log"
