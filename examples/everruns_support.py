"""A support agent on Everruns: client-side tools, a platform approval and a question.

The same ``App`` that runs over Managed Agents runs over an Everruns session:

- ``@app.tool`` functions are declared on the session as ``client_side`` tools
  (``client.tool_definitions(app)``); when the agent calls them the turn pauses with
  ``tool.call_requested`` and agentflow runs them and posts the results;
- ``refund`` is ``confirm=True``: the app's policy decides before it runs;
- ``send_email`` is a tool the platform runs behind an approval gate: the same policies
  answer it, on the channel surface (``agent_url`` + agent key);
- the agent asks the user a question: ``@app.on_question`` answers it.

    python examples/everruns_support.py                  # against a local Everruns emulator
    python examples/everruns_support.py --session session_...   # a real session
    python examples/everruns_support.py --new            # a new real session with these tools

With ``--session`` / ``--new`` it uses everruns-sdk's environment variables:
``EVERRUNS_API_KEY`` (and ``EVERRUNS_API_URL``, ``EVERRUNS_ORG_ID``), plus
``EVERRUNS_AGENT_URL`` / ``EVERRUNS_AGENT_KEY`` for approvals and questions.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio

from agentflow import Allow, App, Deny, Event
from agentflow.everruns import EverrunsClient
from agentflow.testing import CustomTool, Question, Say, Scenario, Tool, Turn

app = App()
app.load_entrypoints = False

ORDERS = {"A-1042": {"status": "shipped", "eta": "Friday", "total": 42.0}}


@app.tool
def lookup_order(order_id: str) -> dict[str, Any]:
    """Status of an order.

    Args:
        order_id: The order number, e.g. "A-1042".
    """
    order = ORDERS.get(order_id)
    if order is None:
        raise LookupError(f"no order {order_id!r}")
    return {"order_id": order_id, **order}


@app.tool(confirm=True)
def refund(order_id: str, amount: float) -> str:
    """Refund part of an order.

    Args:
        order_id: The order number.
        amount: How much to refund.
    """
    return f"refunded {amount:.2f} on {order_id}"


@app.confirm("refund")
def small_refunds_only(event: Event) -> Allow | Deny:
    amount = float((event.tool_input or {}).get("amount", 0))
    return Allow() if amount <= 50 else Deny(f"refunds over 50 need a human; {amount:.2f} asked")


@app.confirm("send_email")
def emails_to_the_customer(event: Event) -> Allow | Deny:
    to = str((event.tool_input or {}).get("to", ""))
    return Allow() if to.endswith("@example.com") else Deny(f"not sending mail to {to!r}")


@app.on_question
def answer(question: str, options: tuple[str, ...]) -> str:
    return "email" if "email" in options else (options[0] if options else "yes")


def not_a_question(name: Any) -> bool:
    return name != "ask_user"  # the agent's questions are shown by show_question


@app.on(kind="tool.started", tool_name=not_a_question)
def show_call(event: Event) -> None:
    print(f"tool     {event.tool_name} {event.tool_input}")


@app.on(kind="tool.completed", tool_name=not_a_question)
@app.on(kind="tool.failed", tool_name=not_a_question)
def show_result(event: Event) -> None:
    error = event.error
    print(f"result   {event.tool_name}: {error.message if error else event.text}")


@app.on(kind="approval.resolved")
def show_decision(event: Event) -> None:
    data = getattr(event, "data", None)
    print(f"approval {getattr(data, 'decision', '?')} {getattr(data, 'reason', '') or ''}".rstrip())


@app.on(kind="input.requested")
def show_question(event: Event) -> None:
    print(f"question {event.text}")


@app.on(kind="message.completed")
def show_text(event: Event) -> None:
    print(f"agent    {event.text}")


SCENARIO = Scenario(
    [
        Turn(
            [
                Say("Let me look at your order."),
                CustomTool("lookup_order", {"order_id": "A-1042"}),
                CustomTool("refund", {"order_id": "A-1042", "amount": 10}),
                CustomTool("refund", {"order_id": "A-1042", "amount": 400}),
                Tool(
                    "send_email", {"to": "ana@example.com"}, permission="always_ask", result="sent"
                ),
                Tool("send_email", {"to": "all@lists.example.org"}, permission="always_ask"),
                Question("How should we send the receipt?", ("email", "post")),
                Say("Your order ships Friday; 10.00 was refunded and the receipt is on its way."),
            ]
        )
    ]
)
PROMPT = "Where is order A-1042? Please refund 10 and, if you can, 400 more."


@asynccontextmanager
async def open_session() -> AsyncIterator[tuple[EverrunsClient, str]]:
    """``(client, session_id)``: a local emulator, or the real platform on request."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--session", help="use this existing Everruns session")
    parser.add_argument("--new", action="store_true", help="create a session with the tools")
    args = parser.parse_args()
    if args.session or args.new:
        if not (os.environ.get("EVERRUNS_API_KEY") or os.environ.get("EVERRUNS_AGENT_KEY")):
            parser.error("set EVERRUNS_API_KEY (or EVERRUNS_AGENT_URL and EVERRUNS_AGENT_KEY)")
        async with EverrunsClient() as client:
            session_id = args.session
            if session_id is None:
                session = await client.sessions.create(tools=client.tool_definitions(app))
                session_id = session.id
            yield client, session_id
        return

    from agentflow.testing.everruns import EverrunsEmulator

    async with EverrunsEmulator(SCENARIO) as emu:
        client = EverrunsClient(
            api_key=emu.api_key, base_url=emu.base_url,
            agent_url=emu.agent_url, agent_key=emu.agent_key,
        )  # fmt: skip
        async with client:
            session = await client.sessions.create(
                title="support", tools=client.tool_definitions(app)
            )
            yield client, session.id


async def main() -> None:
    async with open_session() as (client, session_id):
        result = await app.run(client, session_id, send=[PROMPT])
    print(f"turn ended: {result.stop_reason}")
    for call in result.tool_calls:
        print(f"  {call.kind:<12} {call.name:<13} {call.outcome}")


if __name__ == "__main__":
    anyio.run(main)
