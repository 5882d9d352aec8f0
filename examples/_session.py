"""Where the examples get their session: a local emulator by default, the real API on request.

(:func:`open_conversation` does the same for the Messages API examples: ``--api`` for the real
API, a local Messages emulator otherwise.)

Every example takes the same options::

    python examples/logging_handler.py                       # local emulator, scripted agent
    python examples/logging_handler.py --session sesn_...    # an existing session
    python examples/logging_handler.py --agent agent_... --environment env_...   # a new one

With ``--session`` or ``--agent`` the example talks to the real API: the key comes from
``ANTHROPIC_API_KEY`` and the base URL from ``ANTHROPIC_BASE_URL`` (default: the public API).
Without them it starts :class:`agentflow.testing.Emulator` on 127.0.0.1 with the example's
scenario (needs the ``emulator`` extra), so it runs with no key and no network.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from agentflow import Conversation, ManagedAgentsClient, MessagesClient
from agentflow.testing import Scenario


@asynccontextmanager
async def open_session(
    scenario: Scenario, description: str
) -> AsyncIterator[tuple[ManagedAgentsClient, str]]:
    """Yield ``(client, session_id)`` for the example, per the command-line options."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--session", help="use this existing session (real API)")
    parser.add_argument("--agent", help="create a session for this agent (real API)")
    parser.add_argument("--environment", help="the environment id for --agent")
    args = parser.parse_args()

    if args.session or args.agent:
        if not os.environ.get("ANTHROPIC_API_KEY"):
            parser.error("set ANTHROPIC_API_KEY to use the real API")
        if args.agent and not args.environment:
            parser.error("--agent needs --environment")
        async with ManagedAgentsClient() as client:
            session_id = args.session
            if session_id is None:
                session = await client.sessions.create(
                    agent=args.agent, environment_id=args.environment
                )
                session_id = session.id
            yield client, session_id
        return

    from agentflow.testing import Emulator

    async with Emulator(scenario) as emu:
        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            session = await client.sessions.create(
                agent="agent_example", environment_id="env_example"
            )
            yield client, session.id


@asynccontextmanager
async def open_conversation(
    scenario: Scenario, description: str, *, prompt: str
) -> AsyncIterator[tuple[MessagesClient, Conversation, str]]:
    """Yield ``(client, conversation, prompt)`` for a Messages API example.

    Options: ``--api`` talks to the real Messages API (key from ``ANTHROPIC_API_KEY``, base
    URL from ``ANTHROPIC_BASE_URL``), ``--model`` picks the model there, ``--conversation
    FILE`` keeps the conversation in a file across runs, and a positional argument replaces
    the default prompt. Without ``--api`` a local Messages emulator plays ``scenario``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("prompt", nargs="?", default=prompt, help="what to ask")
    parser.add_argument("--api", action="store_true", help="use the real Messages API")
    parser.add_argument("--model", default="claude-sonnet-4-5", help="the model (with --api)")
    parser.add_argument("--conversation", help="a JSON file the conversation is kept in")
    args = parser.parse_args()
    conversation = Conversation.open(args.conversation) if args.conversation else Conversation()

    if args.api:
        if not os.environ.get("ANTHROPIC_API_KEY"):
            parser.error("set ANTHROPIC_API_KEY to use the real API")
        async with MessagesClient(model=args.model, max_tokens=1024) as client:
            yield client, conversation, args.prompt
        return

    from agentflow.testing import Emulator

    async with Emulator(scenario, dialect="messages") as emu:
        async with MessagesClient(
            api_key=emu.api_key, base_url=emu.base_url, model="claude-emulated", max_tokens=1024
        ) as client:
            yield client, conversation, args.prompt
