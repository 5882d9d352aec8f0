"""Running tools: validation, result conversion, errors, timeouts, threads and limits."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

from agentflow import UnknownToolError
from agentflow.core.context import Context
from agentflow.tools import PLACEHOLDER, ToolRegistry, to_content

BLOCKS = [{"type": "text", "text": "a"}, {"type": "image", "source": {"type": "url", "url": "u"}}]


class Item(BaseModel):
    sku: str
    qty: int = 1


class Order(BaseModel):
    customer: str
    items: list[Item]


def _text(reply: Any) -> str:
    assert len(reply.content) == 1 and reply.content[0]["type"] == "text"
    return str(reply.content[0]["text"])


async def test_valid_input_is_converted_to_models_before_the_call() -> None:
    reg = ToolRegistry()
    seen: list[Order] = []

    def place(order: Order, note: str = "") -> str:
        """Place an order."""
        seen.append(order)
        return f"{order.customer}:{sum(i.qty for i in order.items)}"

    reg.register(place)
    with anyio.fail_after(5):
        reply = await reg.call(
            "place", {"order": {"customer": "ana", "items": [{"sku": "a", "qty": 3}]}}
        )
    assert (reply.is_error, reply.outcome, _text(reply)) == (False, "ok", "ana:3")
    assert seen == [Order(customer="ana", items=[Item(sku="a", qty=3)])]


@pytest.mark.parametrize(
    ("tool_input", "expected"),
    [
        ({}, "order: Field required"),
        ({"order": {"customer": "x", "items": [{"qty": 2}]}}, "order.items.0.sku: Field required"),
        ({"order": {"customer": "x", "items": []}, "extra": 1}, "extra: Extra inputs"),
        ("not an object", "expected a JSON object of arguments, got a string"),
    ],
    ids=["missing", "nested", "extra-key", "not-a-dict"],
)
async def test_invalid_input_names_the_field_and_never_runs(tool_input: Any, expected: str) -> None:
    reg = ToolRegistry()
    calls: list[Any] = []

    def place(order: Order) -> str:
        """Place an order."""
        calls.append(order)
        return "placed"

    reg.register(place)
    with anyio.fail_after(5):
        reply = await reg.call("place", tool_input)
    assert reply.is_error and reply.outcome == "invalid_input"
    assert _text(reply).startswith("invalid input for tool 'place': ")
    assert expected in _text(reply)
    assert calls == []


async def test_exception_becomes_is_error_with_type_and_message() -> None:
    reg = ToolRegistry()

    def boom(x: int) -> str:
        """Boom."""
        raise ValueError(f"cannot handle {x}")

    async def bare() -> str:
        """Bare."""
        raise KeyError

    reg.register(boom)
    reg.register(bare)
    with anyio.fail_after(5):
        reply = await reg.call("boom", {"x": 7})
        bare_reply = await reg.call("bare", {})
    assert (reply.is_error, reply.outcome) == (True, "error")
    assert _text(reply) == "ValueError: cannot handle 7"
    assert _text(bare_reply) == "KeyError"


async def test_async_timeout_becomes_is_error() -> None:
    reg = ToolRegistry()

    async def slow() -> str:
        """Slow."""
        await anyio.sleep(30)
        return "never"

    reg.register(slow, timeout=0.05)
    with anyio.fail_after(5):
        reply = await reg.call("slow", {})
    assert (reply.is_error, reply.outcome) == (True, "timeout")
    assert _text(reply) == "tool 'slow' timed out after 0.05s"


async def test_sync_timeout_gives_up_on_the_thread() -> None:
    reg = ToolRegistry()
    release = threading.Event()

    def stuck() -> str:
        """Stuck."""
        release.wait(10)
        return "late"

    reg.register(stuck, timeout=0.05)
    try:
        with anyio.fail_after(5):
            reply = await reg.call("stuck", {})
    finally:
        release.set()
    assert reply.outcome == "timeout" and _text(reply) == "tool 'stuck' timed out after 0.05s"


async def test_sync_tools_run_in_a_worker_thread() -> None:
    reg = ToolRegistry()
    loop_thread = threading.get_ident()
    ran_in: list[int] = []

    def where() -> str:
        """Where."""
        ran_in.append(threading.get_ident())
        return "ok"

    reg.register(where)
    with anyio.fail_after(5):
        await reg.call("where", {})
    assert ran_in and ran_in[0] != loop_thread


async def test_ctx_is_injected() -> None:
    reg = ToolRegistry()

    def whoami(ctx: Context) -> str:
        """Who."""
        return str(ctx.session_id)

    reg.register(whoami)
    with anyio.fail_after(5):
        reply = await reg.call("whoami", {}, Context("sesn_1"))
    assert _text(reply) == "sesn_1"


async def test_max_concurrency_bounds_parallel_calls() -> None:
    reg = ToolRegistry()
    active = 0
    peak = 0

    async def work(n: int) -> str:
        """Work."""
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await anyio.sleep(0.02)
        active -= 1
        return str(n)

    reg.register(work, max_concurrency=2)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for n in range(6):
                tg.start_soon(reg.call, "work", {"n": n})
    assert peak == 2


async def test_unknown_tool_raises() -> None:
    with pytest.raises(UnknownToolError, match="no tool named 'nope'"):
        await ToolRegistry().call("nope", {})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hi", [{"type": "text", "text": "hi"}]),
        (None, [{"type": "text", "text": PLACEHOLDER}]),
        ("", [{"type": "text", "text": PLACEHOLDER}]),
        ([], [{"type": "text", "text": PLACEHOLDER}]),
        ([{"type": "text", "text": "  "}], [{"type": "text", "text": PLACEHOLDER}]),
        ({"a": 1, "b": [1, 2]}, [{"type": "text", "text": '{"a":1,"b":[1,2]}'}]),
        (Item(sku="x"), [{"type": "text", "text": '{"sku":"x","qty":1}'}]),
        (42, [{"type": "text", "text": "42"}]),
        ([1, 2], [{"type": "text", "text": "[1,2]"}]),
        (BLOCKS, BLOCKS),
        ({"type": "text", "text": "x"}, [{"type": "text", "text": '{"type":"text","text":"x"}'}]),
        (object, [{"type": "text", "text": "<class 'object'>"}]),
    ],
    ids=[
        "str", "none", "empty-str", "empty-list", "blank-block", "dict", "model", "int",
        "list-of-values", "blocks", "single-dict", "unserialisable",
    ],
)  # fmt: skip
def test_to_content(value: Any, expected: list[dict[str, Any]]) -> None:
    assert to_content(value) == expected


async def test_empty_result_is_replaced_by_placeholder_in_a_call() -> None:
    reg = ToolRegistry()

    def nothing() -> None:
        """Nothing."""

    reg.register(nothing)
    with anyio.fail_after(5):
        reply = await reg.call("nothing", {})
    assert (reply.is_error, _text(reply)) == (False, PLACEHOLDER)


def test_definitions_lists_every_tool_in_order() -> None:
    reg = ToolRegistry()

    def a() -> str:
        """A."""
        return ""

    def b() -> str:
        """B."""
        return ""

    reg.register(a)
    reg.register(b)
    assert [d["name"] for d in reg.definitions()] == ["a", "b"]
    assert [t.name for t in reg] == ["a", "b"]
