"""Custom tools: plain functions the agent calls, run by your app.

``@app.tool`` turns a function (sync or async) into a custom tool: its JSON schema comes from
the signature and the docstring, and ``app.tools.definitions()`` gives the definitions to
create the agent with. When the agent calls the tool, agentflow validates the input against
the schema, runs the function, and sends its return value back as the
``user.custom_tool_result``. An exception, a timeout or invalid input becomes an error result
(``is_error``) with a useful message, so the agent can recover; your app keeps running.

    python examples/custom_tools.py                     # against a local emulator
    python examples/custom_tools.py --agent agent_... --environment env_...
                                     # a real agent created with these tool definitions
"""

from __future__ import annotations

import json
from typing import Literal

import anyio
from _session import open_session
from pydantic import BaseModel

from agentflow import App, user_message
from agentflow.testing import CustomTool, Say, Scenario, Turn

app = App()

_RATES = {("EUR", "USD"): 1.08, ("USD", "EUR"): 0.93}


@app.tool
def get_weather(city: str, unit: Literal["C", "F"] = "C") -> str:
    """Current weather for a city.

    Args:
        city: The city name, e.g. "Paris".
        unit: Temperature unit.
    """
    celsius = 21
    return f"Sunny in {city}, {celsius if unit == 'C' else celsius * 9 // 5 + 32} {unit}"


class Conversion(BaseModel):
    amount: float
    currency: str
    rate: float


@app.tool(timeout=5.0)
async def convert(amount: float, from_currency: str, to_currency: str) -> Conversion:
    """Convert an amount between currencies.

    Args:
        amount: How much to convert.
        from_currency: ISO code of the source currency, e.g. "EUR".
        to_currency: ISO code of the target currency, e.g. "USD".
    """
    await anyio.sleep(0.01)  # pretend to call a rates service
    rate = _RATES.get((from_currency, to_currency))
    if rate is None:
        raise ValueError(f"no rate for {from_currency} -> {to_currency}")
    return Conversion(amount=round(amount * rate, 2), currency=to_currency, rate=rate)


EUR_TO_USD = {"amount": 100, "from_currency": "EUR", "to_currency": "USD"}

SCENARIO = Scenario(
    [
        Turn(
            [
                Say("Let me check."),
                CustomTool("get_weather", {"city": "Paris"}),
                CustomTool("convert", EUR_TO_USD),
                CustomTool("convert", {"amount": 5, "from_currency": "EUR", "to_currency": "JPY"}),
                CustomTool("convert", {"amount": "lots", "from_currency": "EUR"}),
                Say("Paris is sunny, and 100 EUR is about 108 USD."),
            ]
        )
    ]
)


async def main() -> None:
    print("tool definitions to create the agent with:")
    for definition in app.tools.definitions():
        print(f"  {definition['name']}: {json.dumps(definition['input_schema']['properties'])}")
    async with open_session(SCENARIO, __doc__ or "") as (client, session_id):
        result = await app.run(
            client, session_id, send=[user_message("Weather in Paris? And 100 EUR in USD?")]
        )
    print("tool calls:")
    for call in result.tool_calls:
        reply = (call.reply or {}).get("content") or [{}]
        text = reply[0].get("text", "")
        print(f"  {call.name} {json.dumps(call.input)} -> {call.outcome}: {text}")
    print(f"turn ended: {result.stop_reason}")


if __name__ == "__main__":
    anyio.run(main)
