"""``agentflow send [MESSAGE]``: create a session, or send a message to one.

With no ``--session``, a session is created (``--agent`` and ``--environment``; the local
emulator accepts any) and its id is printed on stdout, alone, so ``SID=$(agentflow send)``
works. With a MESSAGE, a ``user.message`` is sent to the session (the new one or
``--session``). Together with ``agentflow watch`` in another terminal, this tries a session
end to end without writing any code.
"""

from __future__ import annotations

import argparse
from typing import Any

from ._common import EXIT_USAGE, add_connection_args, api_key_from_env, fail, run_async

__all__ = ["register", "send"]

PROG = "agentflow send"

EPILOG = """\
examples:  (against `agentflow emulator`, which prints the two exports)
  export ANTHROPIC_BASE_URL=http://127.0.0.1:8765 ANTHROPIC_API_KEY=emulator-test-key
  SID=$(agentflow send)                          create a session, print its id
  agentflow watch $SID                           in another terminal
  agentflow send --session $SID "Hello"          send a message to it
  agentflow send "Hello"                         create a session and send at once

against the API: pass your agent and environment ids (--agent agent_..., --environment
env_...). The key comes from ANTHROPIC_API_KEY only.
"""


def register(subparsers: Any) -> None:
    """Add the ``send`` command."""
    parser = subparsers.add_parser(
        "send",
        help="create a session and/or send it a user message",
        description="Create a session (printing its id), or send a user message to one.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("message", nargs="?", metavar="MESSAGE", help="the text to send")
    parser.add_argument(
        "--session", metavar="SESSION_ID", help="send to this session (default: create one)"
    )
    parser.add_argument(
        "--agent", default="agent", help="agent id for a new session (default: 'agent')"
    )
    parser.add_argument(
        "--environment",
        default="env",
        help="environment id for a new session (default: 'env')",
    )
    add_connection_args(parser)
    parser.set_defaults(func=main)


async def send(
    message: str | None,
    *,
    api_key: str,
    base_url: str | None = None,
    session_id: str | None = None,
    agent: str = "agent",
    environment: str = "env",
) -> str:
    """Create a session unless ``session_id`` is given, send ``message`` if any; the id."""
    from ..managed_agents.builders import user_message
    from ..managed_agents.client import ManagedAgentsClient

    async with ManagedAgentsClient(api_key=api_key, base_url=base_url) as client:
        if session_id is None:
            session = await client.sessions.create(agent=agent, environment_id=environment)
            session_id = session.id
        if message is not None:
            await client.events.send(session_id, [user_message(message)])
    return session_id


def main(args: argparse.Namespace) -> int:
    """Run ``agentflow send``."""
    if args.session is not None and args.message is None:
        return fail(PROG, "give a MESSAGE to send to --session", EXIT_USAGE)

    async def go() -> int:
        sid = await send(
            args.message, api_key=api_key_from_env(), base_url=args.base_url,
            session_id=args.session, agent=args.agent, environment=args.environment,
        )  # fmt: skip
        print(sid, flush=True)
        return 0

    return run_async(PROG, go)
