"""Follow an m8tes run that triages support tickets: policies answer its permission gates,
a question handler answers what it asks, and every frame is seen once.

An m8tes teammate runs its tools on the platform; some of them wait for a human first (a
permission gate: allow or deny), and it may ask the user a question (``AskUserQuestion``).
``app.run(client, run.id)`` answers each gate with the app's policies (``approve`` with the
verdict and the reason) and each question with ``@app.on_question``, and follows the run
to the end of its turn, re-attaching whenever the platform closes the stream at a gate.

    python examples/m8tes_triage.py                 # against a local m8tes emulator
    python examples/m8tes_triage.py --run 1234      # follow a real run (M8TES_API_KEY)
    python examples/m8tes_triage.py --message "Triage the new tickets" --teammate 42
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from agentflow import Allow, App, Deny, Event
from agentflow.m8tes import M8tesClient
from agentflow.testing import Question, Say, Scenario, Tool, Turn

app = App()

TEAM_CHANNELS = ("#billing", "#support")


@app.confirm("slack_post")
def team_channels_only(event: Event) -> Allow | Deny:
    """Posting is fine in the team's own channels, nowhere else."""
    channel = str((event.tool_input or {}).get("channel", ""))
    if channel in TEAM_CHANNELS:
        return Allow()  # (Allow(remember=True) would tell m8tes to stop asking for this tool)
    return Deny(f"Post in {' or '.join(TEAM_CHANNELS)}, not in {channel}.")


@app.confirm("zendesk_close")
def humans_close_tickets(event: Event) -> Deny:
    return Deny("Closing a ticket needs a person: leave it open and tag it for review.")


@app.on_question("*queue*")
def route_refunds(question: str, options: tuple[str, ...]) -> str | None:
    """Refunds go to billing; anything else is left to the next handler (declined)."""
    return "billing" if "billing" in options and "refund" in question.lower() else None


@app.on(kind="message.completed")
def show_text(event: Event) -> None:
    print(f"agent: {event.text}")


@app.on(kind="approval.resolved")
def show_gate(event: Event) -> None:
    print(f"  gate {event.call_id}: {getattr(event, 'resolved_status', '?')}")


@app.on(kind="tool.failed")
def show_failure(event: Event) -> None:
    print(f"  {event.tool_name} failed: {event.text}")


SCENARIO = Scenario(
    [
        Turn(
            [
                Say("I'll triage the three new tickets."),
                Tool("zendesk_list_tickets", {"status": "new"}, result="1041, 1042, 1043"),
                Question(
                    "Ticket 1042 asks for a refund: which queue should it go to?",
                    ("billing", "support"),
                    header="Queue",
                ),
                Tool(
                    "slack_post",
                    {"channel": "#billing", "text": "1042: refund request"},
                    permission="always_ask",
                    result="posted",
                ),
                Tool(
                    "slack_post",
                    {"channel": "#general", "text": "Triage done"},
                    permission="always_ask",
                ),
                Tool("zendesk_close", {"ticket": 1041}, permission="always_ask"),
                Say("1042 is with billing; 1041 is tagged for review; 1043 needs nothing."),
            ]
        )
    ]
)


@asynccontextmanager
async def open_run() -> AsyncIterator[tuple[M8tesClient, int]]:
    """``(client, run_id)``: a run on a local emulator, or on m8tes when asked to."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", type=int, help="follow this existing run (real API)")
    parser.add_argument("--message", help="start a run with this message (real API)")
    parser.add_argument("--teammate", type=int, help="the teammate for --message")
    args = parser.parse_args()
    if args.run or args.message:
        if not os.environ.get("M8TES_API_KEY"):
            parser.error("set M8TES_API_KEY to use the real API")
        async with M8tesClient() as client:
            if args.run:
                yield client, args.run
            else:
                run = await client.runs.create(
                    message=args.message, teammate_id=args.teammate, human_in_the_loop=True
                )
                yield client, run.id
        return

    from agentflow.testing import Emulator

    async with Emulator(SCENARIO, dialect="m8tes") as emu:
        async with M8tesClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            run = await client.runs.create(
                message="Triage the new tickets.", human_in_the_loop=True
            )
            yield client, run.id


async def main() -> None:
    async with open_run() as (client, run_id):
        result = await app.run(client, run_id)
    for call in result.tool_calls:
        reply = call.reply or {}
        if call.kind == "question":
            print(f"question {call.outcome}: {', '.join(reply.get('answers', {}).values())}")
            continue
        reason = reply.get("reason")
        print(f"{call.name} {call.input}: {call.outcome}" + (f" ({reason})" if reason else ""))
    print(f"turn ended: {result.stop_reason} after {result.events} events")


if __name__ == "__main__":
    anyio.run(main)
