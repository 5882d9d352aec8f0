"""Tool registration: names, descriptions and the JSON schema built from a signature."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from agentflow import ToolError
from agentflow.tools import ToolRegistry
from agentflow.tools.schema import parse_docstring


class Address(BaseModel):
    street: str
    postcode: str = Field(description="Postal code")


class Node(BaseModel):
    value: int
    children: list[Node] = []


def test_schema_from_signature_hints_and_google_docstring() -> None:
    reg = ToolRegistry()

    def get_weather(city: str, days: int = 1, unit: Literal["c", "f"] = "c") -> str:
        """Current weather for a city.

        Uses the cached forecast.

        Args:
            city: City name,
                as the user wrote it.
            days (int): How many days.

        Returns:
            A sentence.
        """
        return ""

    tool = reg.register(get_weather)
    assert tool.definition() == {
        "type": "custom",
        "name": "get_weather",
        "description": "Current weather for a city.",
        "input_schema": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "city": {"type": "string", "description": "City name, as the user wrote it."},
                "days": {"type": "integer", "default": 1, "description": "How many days."},
                "unit": {"type": "string", "enum": ["c", "f"], "default": "c"},
            },
            "required": ["city"],
        },
    }


def test_nested_models_are_inlined_without_refs_or_titles() -> None:
    reg = ToolRegistry()

    def ship(to: Address, items: list[Address]) -> str:
        """Ship things."""
        return ""

    schema = reg.register(ship).input_schema
    assert "$defs" not in schema and "$ref" not in str(schema) and "title" not in schema
    to = schema["properties"]["to"]
    assert to["type"] == "object"
    assert to["properties"]["postcode"] == {"type": "string", "description": "Postal code"}
    assert schema["properties"]["items"]["items"]["required"] == ["street", "postcode"]


def test_recursive_model_keeps_defs_and_refs() -> None:
    reg = ToolRegistry()

    def walk(root: Node) -> str:
        """Walk a tree."""
        return ""

    schema = reg.register(walk).input_schema
    assert schema["properties"]["root"]["$ref"] == "#/$defs/Node"
    assert schema["$defs"]["Node"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}


def test_a_property_called_title_is_kept() -> None:
    reg = ToolRegistry()

    def note(title: str) -> str:
        """Make a note."""
        return ""

    assert reg.register(note).input_schema["properties"] == {"title": {"type": "string"}}


def test_local_model_with_string_annotations_resolves() -> None:
    class Point(BaseModel):
        x: float
        y: float

    reg = ToolRegistry()

    def move(to: Point) -> str:
        """Move."""
        return ""

    assert reg.register(move).input_schema["properties"]["to"]["required"] == ["x", "y"]


def test_ctx_parameter_is_injected_not_in_schema() -> None:
    reg = ToolRegistry()

    def who(ctx: Any, name: str) -> str:
        """Greet."""
        return name

    tool = reg.register(who)
    assert tool.wants_ctx
    assert list(tool.input_schema["properties"]) == ["name"]


def test_name_and_description_overrides() -> None:
    reg = ToolRegistry()

    def f(x: int) -> int:
        return x

    tool = reg.register(f, name="double-it", description="Doubles.")
    assert (tool.name, tool.description) == ("double-it", "Doubles.")
    assert reg.names() == ["double-it"] and "double-it" in reg and len(reg) == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "bad name"}, "invalid tool name 'bad name'"),
        ({"name": "x" * 129}, "invalid tool name"),
        ({"timeout": 0}, "timeout must be positive"),
        ({"max_concurrency": 0}, "max_concurrency must be >= 1"),
    ],
    ids=["space", "too-long", "timeout", "concurrency"],
)
def test_bad_registrations_fail_at_registration(kwargs: dict[str, Any], match: str) -> None:
    def ok(x: int) -> int:
        """Ok."""
        return x

    with pytest.raises(ToolError, match=match):
        ToolRegistry().register(ok, **kwargs)


def test_missing_description_is_a_registration_error() -> None:
    def nodoc(x: int) -> int:
        return x

    with pytest.raises(ToolError, match="has no description"):
        ToolRegistry().register(nodoc)


def test_var_args_are_rejected() -> None:
    def star(*args: int) -> int:
        """Star."""
        return 0

    with pytest.raises(ToolError, match="parameter 'args'"):
        ToolRegistry().register(star)


def test_duplicate_name_is_a_tool_error() -> None:
    reg = ToolRegistry()

    def a(x: int) -> int:
        """A."""
        return x

    reg.register(a)
    with pytest.raises(ToolError, match="already registered"):
        reg.register(a)
    with pytest.raises(ToolError, match="already registered"):
        reg.register(lambda y: y, name="a", description="other")
    assert len(reg) == 1


def test_unresolvable_annotation_is_a_tool_error() -> None:
    def broken(x: NoSuchType) -> int:  # type: ignore[name-defined]  # noqa: F821
        """Broken."""
        return 0

    with pytest.raises(ToolError, match="cannot resolve the type hints"):
        ToolRegistry().register(broken)


@pytest.mark.parametrize(
    ("doc", "summary", "params"),
    [
        (None, "", {}),
        ("One line.", "One line.", {}),
        (
            "Summary\nspans.\n\nParameters\n----------\nx : int\n    The x.\n    More.\ny : str\n",
            "Summary spans.",
            {"x": "The x. More.", "y": ""},
        ),
        (
            "Do it.\n\n:param int x: the x\n:param y: the y\n:returns: nothing",
            "Do it.",
            {"x": "the x", "y": "the y"},
        ),
        (
            "Do.\n\nArgs:\n    a: first\n    b: second\n        continued\n\nRaises:\n    E: no",
            "Do.",
            {"a": "first", "b": "second continued"},
        ),
    ],
    ids=["none", "one-line", "numpy", "rst", "google"],
)
def test_parse_docstring(doc: str | None, summary: str, params: dict[str, str]) -> None:
    assert parse_docstring(doc) == (summary, params)
