"""app.tools.definitions() is accepted by the official SDK (anthropic 2.10.0) as custom tools."""

from __future__ import annotations

import json
from enum import Enum
from typing import Any, Literal

import anyio
import httpx2
from anthropic import AsyncAnthropic
from anthropic.types.beta import BetaManagedAgentsCustomTool, agent_create_params
from anthropic.types.beta.beta_managed_agents_custom_tool_params import (
    BetaManagedAgentsCustomToolParams,
)
from pydantic import BaseModel, Field, TypeAdapter
from router_support import new_app


class Priority(str, Enum):
    LOW = "low"
    HIGH = "high"


class Item(BaseModel):
    sku: str = Field(description="Stock keeping unit")
    quantity: int = Field(1, ge=1)


class Address(BaseModel):
    street: str
    city: str
    country: Literal["NO", "SE", "DK"] = "NO"


class Order(BaseModel):
    items: list[Item]
    ship_to: Address
    bill_to: Address | None = None
    notes: dict[str, str] = {}


def _app_with_nested_tool() -> Any:
    app = new_app()

    @app.tool(timeout=30)
    async def place_order(order: Order, priority: Priority = Priority.LOW) -> str:
        """Place an order for a customer.

        Args:
            order: What to send, and where.
            priority: How urgent it is.
        """
        return "ok"

    return app


def _refs_and_required(schema: Any) -> None:
    """No ``$ref`` left, and every required name is a declared property (recursively)."""
    if isinstance(schema, dict):
        assert "$ref" not in schema and "$defs" not in schema
        if "required" in schema:
            assert set(schema["required"]) <= set(schema["properties"])
        for value in schema.values():
            _refs_and_required(value)
    elif isinstance(schema, list):
        for value in schema:
            _refs_and_required(value)


def test_definitions_validate_as_sdk_custom_tool_params() -> None:
    (definition,) = _app_with_nested_tool().tools.definitions()
    params = TypeAdapter(BetaManagedAgentsCustomToolParams).validate_python(definition)
    assert params == definition  # nothing unknown was dropped
    tool: object = TypeAdapter(agent_create_params.Tool).validate_python(definition)
    assert tool == definition  # and the agent-creation union picks the custom member
    parsed = BetaManagedAgentsCustomTool.model_validate(definition)  # the response model too
    assert (parsed.type, parsed.name, parsed.input_schema.type) == (
        "custom",
        "place_order",
        "object",
    )
    schema = definition["input_schema"]
    _refs_and_required(schema)
    order = schema["properties"]["order"]
    assert order["description"] == "What to send, and where."
    assert order["properties"]["items"]["items"]["properties"]["quantity"] == {
        "type": "integer",
        "minimum": 1,
        "default": 1,
    }
    assert order["properties"]["ship_to"]["properties"]["country"]["enum"] == ["NO", "SE", "DK"]
    assert schema["properties"]["priority"]["enum"] == ["low", "high"]
    assert json.loads(json.dumps(definition)) == definition  # plain JSON


def test_sdk_sends_the_definitions_unchanged_when_creating_an_agent() -> None:
    definitions = _app_with_nested_tool().tools.definitions()
    sent: list[dict[str, Any]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        sent.append(body)
        return httpx2.Response(200, json={"id": "agent_1", "type": "agent", **body})

    async def create() -> Any:
        transport = httpx2.MockTransport(handler)
        async with httpx2.AsyncClient(transport=transport) as http:
            client = AsyncAnthropic(api_key="test", base_url="http://sdk.test", http_client=http)
            return await client.beta.agents.create(
                model="claude-opus-5-5", name="orders", tools=definitions
            )

    agent = anyio.run(create)
    assert sent[0]["tools"] == definitions
    assert agent.tools[0].name == "place_order"
