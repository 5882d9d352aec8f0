"""Routing and dispatch: App, Router, handler injection, ordering and error handlers."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from agentflow import App, Context, DispatchError, Router
from agentflow.core.routes import StopPropagation
from agentflow.events import Event, UnknownEvent, parse_event, user_message


def make(event_type: str, event_id: str = "sevt_1", **fields: Any) -> Event:
    return parse_event(
        {"type": event_type, "id": event_id, "processed_at": "2026-05-14T09:12:05.800Z", **fields}
    )


def message(text: str = "hi", event_id: str = "sevt_m") -> Event:
    return make("agent.message", event_id, content=[{"type": "text", "text": text}])


def tool_use(name: str = "bash", event_id: str = "sevt_t") -> Event:
    return make("agent.tool_use", event_id, name=name, input={"command": "ls"})


# -- handlers: sync, async, patterns, filters -------------------------------------------


async def test_sync_and_async_handlers_both_receive_the_event() -> None:
    app = App()
    seen: list[tuple[str, Event]] = []

    @app.on("agent.message")
    def sync_handler(event: Event) -> None:
        seen.append(("sync", event))

    @app.on("agent.message")
    async def async_handler(event: Event) -> None:
        seen.append(("async", event))

    event = message()
    await app.dispatch(event)
    assert seen == [("sync", event), ("async", event)]


async def test_on_returns_the_handler_unchanged() -> None:
    app = App()

    def handler(event: Event) -> str:
        return "same"

    assert app.on("*")(handler) is handler
    assert app.add_handler(handler, "agent.message") is handler


async def test_sync_handlers_run_on_the_event_loop_thread() -> None:
    app = App()
    threads: list[int] = []
    app.add_handler(lambda: threads.append(threading.get_ident()))
    await app.dispatch(message())
    assert threads == [threading.get_ident()]


async def test_awaitable_returned_by_a_sync_callable_is_awaited() -> None:
    app = App()
    seen: list[str] = []

    async def work() -> None:
        seen.append("awaited")

    app.add_handler(lambda: work(), "agent.message")
    await app.dispatch(message())
    assert seen == ["awaited"]


async def test_object_with_async_call_is_awaited() -> None:
    seen: list[Event] = []

    class Handler:
        async def __call__(self, event: Event) -> None:
            seen.append(event)

    app = App()
    app.add_handler(Handler())
    event = message()
    await app.dispatch(event)
    assert seen == [event]


ROUTING_CASES = [
    ("agent.tool_use", {}, True, "exact"),
    ("agent.*", {}, True, "glob"),
    ("*.tool_use", {}, True, "suffix-glob"),
    ("agent.message", {}, False, "other-type"),
    ("agent.tool_use", {"name": "bash"}, True, "literal-filter"),
    ("agent.tool_use", {"name": "web_*"}, False, "glob-filter-miss"),
    ("*", {"tool_name": "ba?h"}, True, "property-glob-filter"),
    ("*", {"name": lambda n: n.startswith("b")}, True, "predicate-filter"),
    ("*", {"name": "bash", "evaluated_permission": "ask"}, False, "second-filter-miss"),
    ("*", {"stop_reason": "x"}, False, "missing-field"),
]


@pytest.mark.parametrize(
    ("pattern", "filters", "called"),
    [case[:3] for case in ROUTING_CASES],
    ids=[case[3] for case in ROUTING_CASES],
)
async def test_routing_by_pattern_and_filters(
    pattern: str, filters: dict[str, Any], called: bool
) -> None:
    app = App()
    seen: list[Event] = []
    app.add_handler(lambda event: seen.append(event), pattern, **filters)
    await app.dispatch(tool_use("bash"))
    assert bool(seen) is called


async def test_filters_are_evaluated_for_every_event() -> None:
    app = App()
    seen: list[str | None] = []
    app.add_handler(lambda event: seen.append(event.tool_name), "agent.tool_use", name="web_*")
    for name in ["bash", "web_search", "read", "web_fetch"]:
        await app.dispatch(tool_use(name))
    assert seen == ["web_search", "web_fetch"]


async def test_unknown_event_reaches_star_handlers_only() -> None:
    app = App()
    seen: list[tuple[str, Event]] = []
    app.add_handler(lambda event: seen.append(("star", event)), "*")
    app.add_handler(lambda event: seen.append(("agent", event)), "agent.*")
    event = parse_event({"type": "vendor.new_thing", "id": "x1", "colour": "teal"})
    await app.dispatch(event)
    assert [label for label, _ in seen] == ["star"]
    received = seen[0][1]
    assert isinstance(received, UnknownEvent)
    assert received.raw == {"type": "vendor.new_thing", "id": "x1", "colour": "teal"}


# -- injection --------------------------------------------------------------------------


def _h_event(event):  # type: ignore[no-untyped-def]
    return {"event": event}


def _h_ctx(ctx):  # type: ignore[no-untyped-def]
    return {"ctx": ctx}


def _h_both(event, ctx):  # type: ignore[no-untyped-def]
    return {"event": event, "ctx": ctx}


def _h_reversed(ctx, event):  # type: ignore[no-untyped-def]
    return {"event": event, "ctx": ctx}


def _h_none():  # type: ignore[no-untyped-def]
    return {}


def _h_kwonly(*, ctx, event):  # type: ignore[no-untyped-def]
    return {"event": event, "ctx": ctx}


def _h_posonly(event, /, ctx):  # type: ignore[no-untyped-def]
    return {"event": event, "ctx": ctx}


def _h_default_between(event, extra=7, ctx=None):  # type: ignore[no-untyped-def]
    return {"event": event, "ctx": ctx, "extra": extra}


def _h_varargs(*args, **kwargs):  # type: ignore[no-untyped-def]
    return {"args": args, "kwargs": kwargs}


async def _h_async_both(event, ctx):  # type: ignore[no-untyped-def]
    return {"event": event, "ctx": ctx}


INJECTION_CASES: list[tuple[Callable[..., Any], set[str], str]] = [
    (_h_event, {"event"}, "event-only"),
    (_h_ctx, {"ctx"}, "ctx-only"),
    (_h_both, {"event", "ctx"}, "both"),
    (_h_reversed, {"event", "ctx"}, "both-reversed"),
    (_h_none, set(), "neither"),
    (_h_kwonly, {"event", "ctx"}, "keyword-only"),
    (_h_posonly, {"event", "ctx"}, "positional-only"),
    (_h_default_between, {"event", "ctx", "extra"}, "default-in-between"),
    (_h_varargs, {"args", "kwargs"}, "varargs-get-nothing"),
    (_h_async_both, {"event", "ctx"}, "async"),
]


@pytest.mark.parametrize(
    ("handler", "keys"),
    [case[:2] for case in INJECTION_CASES],
    ids=[case[2] for case in INJECTION_CASES],
)
async def test_parameters_are_injected_by_name(handler: Callable[..., Any], keys: set[str]) -> None:
    app = App()
    assert app.add_handler(handler) is handler
    (route,) = app.routes
    event, ctx = message(), Context()
    result = route.call(event, ctx)
    got = await result if hasattr(result, "__await__") else result
    assert set(got) == keys
    if "event" in keys:
        assert got["event"] is event
    if "ctx" in keys:
        assert got["ctx"] is ctx
    if "extra" in keys:
        assert got["extra"] == 7
    if "args" in keys:
        assert got == {"args": (), "kwargs": {}}


BAD_SIGNATURES: list[tuple[Any, str, str]] = [
    (lambda event, session: None, r"'session'", "unknown-required-param"),
    (lambda ctx, *, payload: None, r"'payload'", "unknown-keyword-only"),
    (lambda extra=1, event=None, /: None, r"positional-only", "posonly-after-default"),
]


@pytest.mark.parametrize(
    ("handler", "match"),
    [case[:2] for case in BAD_SIGNATURES],
    ids=[case[2] for case in BAD_SIGNATURES],
)
def test_bad_signature_fails_at_registration(handler: Any, match: str) -> None:
    app = App()
    with pytest.raises(TypeError, match=match):
        app.on("agent.message")(handler)
    assert app.routes == ()


def test_bad_signature_error_names_the_handler_and_parameter() -> None:
    app = App()

    def on_message(event: Event, client: Any) -> None: ...

    with pytest.raises(TypeError) as info:
        app.on("agent.message")(on_message)
    text = str(info.value)
    assert "on_message" in text
    assert "'client'" in text
    assert "'event'" in text and "'ctx'" in text  # says what can be injected


@pytest.mark.parametrize(
    ("handler", "match"),
    [
        (42, "callable"),
        (lambda: (yield), "generator"),
    ],
    ids=["not-callable", "generator"],
)
def test_non_handlers_are_rejected(handler: Any, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        App().add_handler(handler)


def test_on_without_parentheses_is_a_clear_error() -> None:
    app = App()

    def handler() -> None: ...

    with pytest.raises(TypeError, match=r"@router.on\(\)"):
        app.on(handler)  # type: ignore[arg-type]


@pytest.mark.parametrize("priority", ["high", 1.5, True], ids=["str", "float", "bool"])
def test_priority_must_be_an_int(priority: Any) -> None:
    with pytest.raises(TypeError, match="priority"):
        App().on("*", priority=priority)(lambda: None)


# -- order ------------------------------------------------------------------------------


async def test_handlers_run_by_priority_then_registration_order() -> None:
    app = App()
    order: list[str] = []
    for label, priority in [("a", 0), ("b", 5), ("c", 0), ("d", -1), ("e", 5)]:
        app.add_handler(lambda label=label: order.append(label), "*", priority=priority)
    await app.dispatch(message())
    assert order == ["b", "e", "a", "c", "d"]


async def test_included_router_handlers_take_the_place_of_include() -> None:
    app, first, second = App(), Router(name="first"), Router(name="second")
    order: list[str] = []

    def add(router: Router, label: str, priority: int = 0) -> None:
        router.add_handler(lambda: order.append(label), "agent.*", priority=priority)

    add(first, "first-1")
    add(app, "app-1")
    app.include(first)
    add(app, "app-2")
    app.include(second)
    add(second, "second-1")  # registered after include: still seen
    add(first, "first-2")
    add(second, "second-urgent", priority=10)
    await app.dispatch(message())
    assert order == ["second-urgent", "app-1", "first-1", "first-2", "app-2", "second-1"]
    assert [r.pattern for r in app.handlers_for("agent.message")] == ["agent.*"] * 6


async def test_nested_routers_are_flattened_in_order() -> None:
    app, outer, inner = App(), Router(), Router()
    order: list[str] = []
    inner.add_handler(lambda: order.append("inner"))
    outer.add_handler(lambda: order.append("outer"))
    outer.include(inner)
    app.include(outer)
    app.add_handler(lambda: order.append("app"))
    await app.dispatch(message())
    assert order == ["outer", "inner", "app"]


async def test_registration_after_dispatch_invalidates_the_cache() -> None:
    app, router = App(), Router()
    app.include(router)
    seen: list[str] = []
    app.add_handler(lambda: seen.append("first"), "agent.message")
    await app.dispatch(message())
    app.add_handler(lambda: seen.append("second"), "agent.*")
    router.add_handler(lambda: seen.append("router"), "*")
    await app.dispatch(message())
    # The router was included first, so its handler runs before the app's own.
    assert seen == ["first", "router", "first", "second"]


async def test_routes_are_resolved_once_per_event_type() -> None:
    app = App()
    app.add_handler(lambda: None, "agent.*")
    (route,) = app.routes
    matched: list[str] = []
    original = route.matches

    def counting(event_type: str) -> bool:
        matched.append(event_type)
        return original(event_type)

    route.matches = counting
    for _ in range(3):
        await app.dispatch(message())
        await app.dispatch(tool_use())
    assert matched == ["agent.message", "agent.tool_use"]
    assert app.handlers_for("agent.message") == (route,)
    assert app.handlers_for("session.error") == ()


@pytest.mark.parametrize(
    "case", ["self", "cycle", "twice", "not-a-router"], ids=["self", "cycle", "twice", "type"]
)
def test_include_rejects_bad_routers(case: str) -> None:
    app, router = App(), Router()
    if case == "self":
        with pytest.raises(ValueError, match="themselves"):
            app.include(app)
    elif case == "cycle":
        app.include(router)
        with pytest.raises(ValueError, match="themselves"):
            router.include(app)
    elif case == "twice":
        app.include(router)
        with pytest.raises(ValueError, match="twice"):
            app.include(router)
    else:
        with pytest.raises(TypeError, match="Router"):
            app.include(object())  # type: ignore[arg-type]


async def test_stop_propagation_skips_the_remaining_handlers() -> None:
    app = App()
    order: list[str] = []

    @app.on("*", priority=1)
    def gate(event: Event) -> None:
        order.append("gate")
        if event.type == "agent.tool_use":
            raise StopPropagation

    app.add_handler(lambda: order.append("later"))
    await app.dispatch(tool_use())
    await app.dispatch(message())
    assert order == ["gate", "gate", "later"]


# -- dispatch itself --------------------------------------------------------------------


async def test_dispatch_without_ctx_makes_a_detached_context() -> None:
    app = App()

    @app.on("agent.message")
    async def reply(ctx: Context) -> None:
        await ctx.send(user_message("thanks"))

    ctx = await app.dispatch(message())
    assert ctx.app is app
    assert ctx.detached
    assert ctx.outbox == [user_message("thanks")]


async def test_dispatch_uses_the_given_context() -> None:
    app = App()
    contexts: list[Context] = []
    app.add_handler(lambda ctx: contexts.append(ctx))
    ctx = Context("sesn_1")
    assert await app.dispatch(message(), ctx) is ctx
    assert contexts == [ctx]


async def test_dispatch_many_remembers_events_and_stops_when_asked() -> None:
    app = App()
    seen: list[str] = []

    @app.on("*")
    def handler(event: Event, ctx: Context) -> None:
        seen.append(event.type)
        if event.type == "agent.tool_use":
            assert ctx.event_by_id("sevt_m") is not None  # remembered earlier
            ctx.stop()

    ctx = await app.dispatch_many([message(), tool_use(), message(event_id="sevt_after")])
    assert seen == ["agent.message", "agent.tool_use"]
    assert ctx.stopped


async def test_dispatch_many_accepts_an_async_iterable() -> None:
    app = App()
    seen: list[str | None] = []
    app.add_handler(lambda event: seen.append(event.id))

    async def events() -> AsyncIterator[Event]:
        for n in range(3):
            yield message(event_id=f"sevt_{n}")

    ctx = await app.dispatch_many(events())
    assert seen == ["sevt_0", "sevt_1", "sevt_2"]
    assert ctx.event_by_id("sevt_2") is not None


# -- errors -----------------------------------------------------------------------------


async def test_unhandled_handler_exception_raises_dispatch_error() -> None:
    app = App()
    ran: list[str] = []

    @app.on("agent.message")
    def broken(event: Event) -> None:
        raise KeyError("missing")

    app.add_handler(lambda: ran.append("after"), "agent.message")
    event = message()
    with pytest.raises(DispatchError) as info:
        await app.dispatch(event)
    assert isinstance(info.value.__cause__, KeyError)
    assert info.value.event is event
    assert "broken" in str(info.value) and "KeyError" in str(info.value)
    assert "sevt_m" in str(info.value)
    assert ran == []  # without an error handler or ErrorEscalation the event stops there


async def test_error_handler_handles_and_the_other_handlers_still_run() -> None:
    app = App()
    calls: list[tuple[str, Any]] = []

    @app.on("agent.message")
    def broken() -> None:
        raise ValueError("bad")

    app.add_handler(lambda: calls.append(("after", None)), "agent.message")

    @app.on_error(ValueError)
    async def on_value_error(exc: Exception, event: Event, ctx: Context) -> None:
        calls.append(("error", (type(exc), event.type, ctx.detached)))

    await app.dispatch(message())
    assert calls == [("error", (ValueError, "agent.message", True)), ("after", None)]


@pytest.mark.parametrize("name", ["exc", "error", "exception"])
async def test_error_handler_exception_parameter_names(name: str) -> None:
    app = App()
    got: list[Any] = []
    namespace: dict[str, Any] = {"got": got}
    exec(f"def handler({name}):\n    got.append({name})", namespace)
    app.on_error(RuntimeError)(namespace["handler"])
    boom = RuntimeError("x")

    def broken() -> None:
        raise boom

    app.add_handler(broken)
    await app.dispatch(message())
    assert got == [boom]


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (KeyError("k"), ["Key/Index"]),
        (IndexError("i"), ["Key/Index"]),
        (LookupError("l"), ["LookupError", "LookupError-2"]),
        (UnicodeDecodeError("utf-8", b"", 0, 1, "x"), ["ValueError"]),
        (RuntimeError("r"), ["Exception"]),
    ],
    ids=["exact", "exact-second-type", "two-for-one-type", "via-mro", "fallback"],
)
async def test_most_specific_error_handler_wins(exc: Exception, expected: list[str]) -> None:
    app = App()
    calls: list[str] = []
    app.on_error()(lambda: calls.append("Exception"))
    app.on_error(LookupError)(lambda: calls.append("LookupError"))
    app.on_error(KeyError, IndexError)(lambda: calls.append("Key/Index"))
    app.on_error(LookupError)(lambda: calls.append("LookupError-2"))
    app.on_error(ValueError)(lambda: calls.append("ValueError"))

    def broken() -> None:
        raise exc

    app.add_handler(broken)
    await app.dispatch(message())
    assert calls == expected


async def test_error_handler_that_raises_ends_dispatch_with_dispatch_error() -> None:
    app = App()

    def broken() -> None:
        raise ValueError("first")

    app.add_handler(broken)

    @app.on_error(ValueError)
    def reraise(exc: Exception) -> None:
        raise RuntimeError("second") from exc

    with pytest.raises(DispatchError, match="reraise") as info:
        await app.dispatch(message())
    assert isinstance(info.value.__cause__, RuntimeError)


async def test_unmatched_error_handlers_leave_the_default() -> None:
    app = App()
    app.on_error(KeyError)(lambda: None)

    def broken() -> None:
        raise ValueError("v")

    app.add_handler(broken)
    with pytest.raises(DispatchError):
        await app.dispatch(message())


@pytest.mark.parametrize(
    "arg", [BaseException, KeyboardInterrupt, "ValueError", 3], ids=["base", "kbd", "str", "int"]
)
def test_on_error_rejects_non_exception_types(arg: Any) -> None:
    with pytest.raises(TypeError, match="Exception subclasses"):
        App().on_error(arg)


def test_on_error_without_parentheses_is_a_clear_error() -> None:
    def handler() -> None: ...

    with pytest.raises(TypeError, match=r"@app.on_error\(\)"):
        App().on_error(handler)  # type: ignore[arg-type]


def test_error_handler_with_bad_signature_fails_at_registration() -> None:
    with pytest.raises(TypeError, match="'payload'"):
        App().on_error(ValueError)(lambda exc, payload: None)


# -- the handler loop with and without middleware ---------------------------------------
# Without middleware (and without event tracing) dispatch runs the handler loop inline;
# with middleware the loop is the onion's innermost layer. Both must behave alike.


async def _passthrough(event: Event, ctx: Context, call_next: Any) -> None:
    await call_next(event, ctx)


@pytest.mark.parametrize("layered", [False, True], ids=["inline", "under-middleware"])
async def test_handler_loop_behaves_alike_inline_and_under_middleware(layered: bool) -> None:
    app = App()
    if layered:
        app.use(_passthrough)
    order: list[str] = []

    @app.on("*", priority=2)
    def gate(event: Event) -> None:
        order.append("gate")
        if event.id == "sevt_stop":
            raise StopPropagation

    @app.on("agent.message", priority=1, id=lambda value: value != "sevt_skip")
    async def filtered() -> None:
        order.append("filtered")

    @app.on("agent.message")
    def broken(event: Event) -> None:
        if event.id == "sevt_bad":
            raise ValueError("bad")
        order.append("last")

    @app.on_error(ValueError)
    def note(exc: Exception) -> None:
        order.append(f"error:{exc}")

    await app.dispatch(message(event_id="sevt_stop"))
    await app.dispatch(message(event_id="sevt_skip"))
    await app.dispatch(message(event_id="sevt_bad"))
    assert order == ["gate", "gate", "last", "gate", "filtered", "error:bad"]
    assert app._direct is not layered  # the path this case is about was taken

    @app.on_error(ValueError)
    def reraise(exc: Exception) -> None:
        raise RuntimeError("again") from exc

    with pytest.raises(DispatchError, match="reraise") as info:
        await app.dispatch(message(event_id="sevt_bad"))
    assert isinstance(info.value.__cause__, RuntimeError)
    assert order[-1] == "error:bad"  # the first error handler ran before the second raised


async def _later(seen: list[str], what: str) -> None:
    seen.append(what)


@pytest.mark.parametrize("layered", [False, True], ids=["inline", "under-middleware"])
async def test_every_handler_shape_gets_what_it_asked_for_on_both_paths(layered: bool) -> None:
    # Dispatch calls a handler of the event alone directly and the others through their
    # adapter, sync or async: each shape must still receive exactly its own arguments.
    app = App()
    if layered:
        app.use(_passthrough)
    seen: list[str] = []
    sent = message(event_id="sevt_shapes")
    ctx = Context(app=app)

    @app.on("agent.message", priority=6)
    def event_only(event: Event) -> None:
        seen.append(f"sync-event:{event.id}")

    @app.on("agent.message", priority=5)
    async def async_event_only(event: Event) -> None:
        seen.append(f"async-event:{event.id}")

    @app.on("agent.message", priority=4)
    def both(event: Event, ctx: Context) -> None:
        seen.append(f"sync-both:{event.id}:{ctx is ctx_seen}")

    @app.on("agent.message", priority=3)
    async def async_ctx_only(ctx: Context) -> None:
        seen.append(f"async-ctx:{ctx is ctx_seen}")

    @app.on("agent.message", priority=2)
    def returns_awaitable(event: Event) -> Any:  # a sync function handing back a coroutine
        return _later(seen, f"awaited:{event.id}")

    @app.on("agent.message", priority=1)
    def nothing() -> None:
        seen.append("nothing")

    ctx_seen = ctx
    assert await app.dispatch(sent, ctx) is ctx
    assert seen == [
        "sync-event:sevt_shapes",
        "async-event:sevt_shapes",
        "sync-both:sevt_shapes:True",
        "async-ctx:True",
        "awaited:sevt_shapes",
        "nothing",
    ]
    assert app._direct is not layered
    assert [r.kind for r in app.routes] == [1, 3, 0, 2, 1, 0]
