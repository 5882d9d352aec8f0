"""Tool input is validated as the advertised schema says, and tool output as a tool result
may hold (content-block shapes)."""

from __future__ import annotations

import datetime
import enum
from typing import Any

import anyio
import pytest

from agentflow.tools import ToolRegistry
from agentflow.tools.content import block_problem, content_problem


class Unit(enum.Enum):
    C = "C"
    F = "F"


def _registry(strict: bool) -> tuple[ToolRegistry, list[dict[str, Any]]]:
    reg, seen = ToolRegistry(), []

    def book(count: int, express: bool = False, ratio: float = 1.0) -> str:
        """Book."""
        seen.append({"count": count, "express": express, "ratio": ratio})
        return "booked"

    reg.register(book, strict=strict)
    return reg, seen


@pytest.mark.parametrize(
    ("tool_input", "field"),
    [
        ({"count": True}, "count: Input should be a valid integer"),
        ({"count": "5"}, "count: Input should be a valid integer"),
        ({"count": 1, "express": "yes"}, "express: Input should be a valid boolean"),
        ({"count": 1, "express": 1}, "express: Input should be a valid boolean"),
        ({"count": 1.5}, "count: Input should be a valid integer"),
    ],
    ids=["bool-for-int", "string-for-int", "yes-for-bool", "one-for-bool", "fraction-for-int"],
)
async def test_strict_input_refuses_what_the_schema_does_not_allow(
    tool_input: dict[str, Any], field: str
) -> None:
    reg, seen = _registry(strict=True)
    with anyio.fail_after(5):
        reply = await reg.call("book", tool_input)
    assert (reply.is_error, reply.outcome) == (True, "invalid_input")
    assert field in reply.text and seen == []


async def test_strict_input_takes_what_the_schema_allows() -> None:
    reg, seen = _registry(strict=True)
    with anyio.fail_after(5):
        reply = await reg.call("book", {"count": 2, "express": True, "ratio": 3})
    assert not reply.is_error and seen == [{"count": 2, "express": True, "ratio": 3.0}]


async def test_lax_tools_opt_into_coercion() -> None:
    reg, seen = _registry(strict=False)
    with anyio.fail_after(5):
        reply = await reg.call("book", {"count": "5", "express": "yes"})
    assert not reply.is_error and seen == [{"count": 5, "express": True, "ratio": 1.0}]


async def test_strict_input_accepts_the_json_forms_of_rich_types() -> None:
    reg, seen = ToolRegistry(), []

    def plan(day: datetime.date, unit: Unit, span: tuple[int, int]) -> str:
        """Plan."""
        seen.append((day, unit, span))
        return "planned"

    reg.register(plan)
    with anyio.fail_after(5):
        reply = await reg.call("plan", {"day": "2026-05-14", "unit": "F", "span": [1, 2]})
    assert not reply.is_error
    assert seen == [(datetime.date(2026, 5, 14), Unit.F, (1, 2))]


VALID = [
    {"type": "text", "text": "hi"},
    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA=="}},
    {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}},
    {"type": "image", "source": {"type": "file", "file_id": "file_1"}},
    {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "d"}},
    {"type": "document", "source": {"type": "url", "url": "u"}, "title": "T", "context": "c"},
    {
        "type": "search_result",
        "source": "https://x.test",
        "title": "X",
        "content": [{"type": "text", "text": "found"}],
        "citations": {"enabled": True},
    },
]

INVALID = [
    ({"type": "text"}, "text must be a string"),
    ({"type": "text", "text": 5}, "text must be a string"),
    ({"type": "image"}, "source must be an object"),
    ({"type": "image", "source": {"type": "ftp"}}, "source.type must be one of base64, url"),
    ({"type": "image", "source": {"type": "url"}}, "source.url must be a string"),
    ({"type": "image", "source": {"type": "base64", "data": "AA=="}}, "source.media_type"),
    (
        {"type": "document", "source": {"type": "text", "media_type": "text/html", "data": "d"}},
        "source.media_type must be 'text/plain'",
    ),
    ({"type": "document", "source": {"type": "url", "url": "u"}, "title": 1}, "title must be"),
    ({"type": "search_result", "title": "X", "content": []}, "source must be a string"),
    ({"type": "search_result", "source": "s", "title": "X", "content": []}, "content must be"),
    (
        {"type": "search_result", "source": "s", "title": "X", "content": [{"type": "image"}]},
        "content[0] must be a text block",
    ),
    ({"type": "video"}, "type must be one of"),
    ("text", "a content block must be an object"),
]


@pytest.mark.parametrize("block", VALID, ids=lambda b: f"{b['type']}")
def test_valid_blocks_pass(block: dict[str, Any]) -> None:
    assert block_problem(block) is None


@pytest.mark.parametrize(("block", "problem"), INVALID)
def test_invalid_blocks_are_named(block: Any, problem: str) -> None:
    found = block_problem(block)
    assert found is not None and problem in found


def test_content_problem_names_the_block() -> None:
    assert content_problem(VALID) is None
    assert content_problem([VALID[0], {"type": "image"}]) == (
        "content[1] (image): source must be an object"
    )
    assert content_problem([]) == "content must be a non-empty list of content blocks"


async def test_a_tool_returning_an_invalid_block_gets_an_error_result() -> None:
    reg = ToolRegistry()

    def picture() -> list[dict[str, Any]]:
        """A picture."""
        return [{"type": "image", "source": {"type": "url"}}]

    reg.register(picture)
    with anyio.fail_after(5):
        reply = await reg.call("picture", {})
    assert (reply.is_error, reply.outcome) == (True, "invalid_output")
    assert reply.text == (
        "tool 'picture' returned content a tool result cannot hold: "
        "content[0] (image): source.url must be a string (source type 'url')"
    )
