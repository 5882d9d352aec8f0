"""An order-status agent on the Messages API: live tool display, parallel tools, TTFT.

The app's tools (``search_orders``, ``get_shipping_status``) are offered to the model; the
agent loop streams each response token by token, shows a tool call the moment the model names
it ("Searching order database…"), runs the calls the model makes together concurrently, sends
the results back and goes on until the model has answered.

    python examples/order_status.py                      # a local Messages emulator
    python examples/order_status.py --api "Where is my order? I'm ana@example.com"
                                                         # the real API (ANTHROPIC_API_KEY)
"""

from __future__ import annotations

import sys
import time
from typing import Any

import anyio
from _session import open_conversation

from agentflow import App, Event
from agentflow.testing import CustomTool, Say, Scenario, Turn

app = App(load_entrypoints=False)

_ORDERS = {
    "ana@example.com": [
        {"order_id": "A-1042", "item": "espresso machine", "placed": "Monday"},
        {"order_id": "A-1043", "item": "coffee grinder", "placed": "Tuesday"},
    ]
}
_SHIPPING = {
    "A-1042": {"status": "in transit", "carrier": "DHL", "eta": "Friday"},
    "A-1043": {"status": "label created", "carrier": "UPS", "eta": "next Tuesday"},
}
_STATUS_LINES = {
    "search_orders": "Searching order database…",
    "get_shipping_status": "Checking shipping status…",
}


@app.tool
async def search_orders(customer_email: str) -> list[dict[str, str]]:
    """Find a customer's orders.

    Args:
        customer_email: The email address the customer ordered with.
    """
    await anyio.sleep(0.05)  # pretend to query the order database
    return _ORDERS.get(customer_email.lower(), [])


@app.tool
async def get_shipping_status(order_id: str) -> dict[str, str]:
    """Where an order is: shipping status, carrier and expected delivery.

    Args:
        order_id: The order number, e.g. "A-1042".
    """
    await anyio.sleep(0.05)  # pretend to ask the carrier
    status = _SHIPPING.get(order_id)
    if status is None:
        raise LookupError(f"no shipment for order {order_id!r}")
    return {"order_id": order_id, **status}


def say(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


@app.on(kind="message.delta")
def stream_text(event: Event) -> None:
    say(event.text)


@app.on(kind="message.completed")
def end_text(event: Event) -> None:
    say("\n")


@app.on(kind="tool.started")
def show_tool(event: Event) -> None:
    # content_block_start names the tool before its input has streamed: show it at once
    say(f"  [{_STATUS_LINES.get(event.tool_name or '', f'Running {event.tool_name}…')}]\n")


@app.on(kind="tool.requested")
def show_batch(event: Any) -> None:
    names = ", ".join(str(block["name"]) for block in event.tool_uses)
    say(f"  [running {len(event.tool_uses)} tool call(s) at once: {names}]\n")


SCENARIO = Scenario(
    [
        Turn(
            [
                Say("Let me look up your orders."),
                CustomTool("search_orders", {"customer_email": "ana@example.com"}),
                Say("You have two orders; checking where both are."),
                CustomTool("get_shipping_status", {"order_id": "A-1042"}),
                CustomTool("get_shipping_status", {"order_id": "A-1043"}),
                Say(
                    "Your espresso machine (A-1042) is in transit with DHL and should arrive "
                    "on Friday. The coffee grinder (A-1043) has a UPS label and should arrive "
                    "next Tuesday."
                ),
            ]
        )
    ]
)


async def main() -> None:
    started = time.perf_counter()
    prompt = "Where are my orders? My email is ana@example.com."
    async with open_conversation(SCENARIO, __doc__ or "", prompt=prompt) as opened:
        client, conversation, question = opened
        say(f"you: {question}\n")
        result = await app.run(client, conversation, send=[question])
    ttft = result.time_to_first_token
    print(f"stop: {result.stop_reason}")
    print(f"time to first token: {ttft:.3f} s" if ttft is not None else "no text streamed")
    print(f"tokens: {result.usage.input_tokens} in, {result.usage.output_tokens} out")
    for call in result.tool_calls:
        print(f"  {call.name} {call.input} -> {call.outcome} in {call.duration_s * 1000:.0f} ms")
    print(f"total: {time.perf_counter() - started:.2f} s, {len(conversation)} messages")


if __name__ == "__main__":
    anyio.run(main)
