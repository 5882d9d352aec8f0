"""Where the examples get their session: a local emulator by default, the real API on request.

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

from agentflow import ManagedAgentsClient
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
