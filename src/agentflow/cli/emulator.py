"""``agentflow emulator``: serve the local Managed Agents emulator in the foreground.

::

    agentflow emulator --scenario demo.json --port 0
    # agentflow emulator listening on http://127.0.0.1:43127 (Ctrl+C to stop)
    #   key:  emulator-test-key (any non-empty key is accepted)
    #   try:  ... (a copy-paste example)

Point any client at the printed URL (the official SDK: ``base_url=URL``). Without
``--api-key`` any non-empty key is accepted; with it, exactly that key. The host must be a
loopback address. Needs the ``emulator`` extra. The scenario format is in docs/scenarios.md.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from ._common import EXIT_ERROR, EXIT_OK, EXIT_USAGE, fail, interrupted, key_arg, port_arg

__all__ = ["register", "run"]

PROG = "agentflow emulator"

EPILOG = """\
examples:
  agentflow emulator                                 any key, a free port, the default agent
  agentflow emulator --port 8765 --api-key sk-test   exactly this key
  agentflow emulator --scenario scenario.json        a scripted agent

then, in another terminal (the emulator prints these with its address):
  export ANTHROPIC_BASE_URL=http://127.0.0.1:8765 ANTHROPIC_API_KEY=sk-test
  agentflow send                        create a session; prints its id
  agentflow watch SESSION_ID            watch it (a third terminal, or after &)
  agentflow send --session SESSION_ID "Hello"

scenario file (JSON; every key optional; the full format is in docs/scenarios.md):
  {"turns": [{"steps": [{"say": "Looking."},
                        {"custom_tool": {"name": "lookup", "input": {"id": 1}}},
                        {"say": "Done.", "stream": true}]}],
   "faults": {"drop_every": 7, "keepalive_seconds": 15},
   "step_delay": 0.05, "fallback_reply": "OK"}
  Each user.message runs the next turn; once they run out it gets fallback_reply. Steps:
  say, thinking, custom_tool, tool (permission: always_allow | always_ask | auto | auto_ask |
  auto_deny | deny), mcp_tool, error (retry_status: retrying | exhausted | terminal), stop,
  burst, usage, emit, wait, question. Faults: drop_every, duplicate_every,
  malformed_every, stall_after + stall_seconds, keepalive_seconds, http_error_rate,
  http_error_statuses, retry_after_seconds, seed.

exit status: 0 stopped (SIGTERM), 1 runtime error (port in use), 2 bad arguments or
scenario, 130 Ctrl-C.
"""


def register(subparsers: Any) -> None:
    """Add the ``emulator`` sub-command to the ``agentflow`` parser."""
    parser = subparsers.add_parser(
        "emulator",
        help="serve a local Managed Agents emulator",
        description="Serve a local Managed Agents session API driven by a scripted scenario.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--scenario", metavar="FILE.json", help="scenario JSON file (format below; default: none)"
    )
    parser.add_argument(
        "--port", type=port_arg, default=0, help="port to listen on (0 = pick a free one)"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="loopback address to bind (127.0.0.1, localhost or ::1)"
    )
    parser.add_argument(
        "--api-key", type=key_arg, default=None, help="require exactly this API key"
    )
    parser.set_defaults(func=run)


def banner(base_url: str, key: str, required: bool) -> str:
    """What the emulator prints once it listens: where, which key, and how to try it."""
    accepted = "required" if required else "any non-empty key is accepted"
    return (
        f"agentflow emulator listening on {base_url} (Ctrl+C to stop)\n"
        f"  key:  {key} ({accepted})\n"
        f"  try it from another terminal:\n"
        f"    export ANTHROPIC_BASE_URL={base_url} ANTHROPIC_API_KEY={key}\n"
        f"    SID=$(agentflow send)            # create a session, print its id\n"
        f"    agentflow watch $SID &           # watch it (or in a third terminal)\n"
        f'    agentflow send --session $SID "Hello"'
    )


def run(args: argparse.Namespace) -> int:
    """Run the server until interrupted; returns the exit code."""
    try:
        import anyio
        import starlette  # noqa: F401  (checked here for a clear message)
        import uvicorn  # noqa: F401

        from ..testing._local_server import LOOPBACK
        from ..testing.managed_agents import Emulator
        from ..testing.scenario import Scenario, ScenarioError
    except ModuleNotFoundError as exc:
        return fail(
            PROG,
            f"needs the emulator extra ({exc.name} is missing): "
            "pip install 'agentflow-events[emulator]'",
        )
    if args.host not in LOOPBACK:
        return fail(PROG, f"--host must be a loopback address, got {args.host!r}", EXIT_USAGE)
    try:
        scenario = Scenario.load(args.scenario) if args.scenario else Scenario()
    except (OSError, ScenarioError) as exc:
        return fail(PROG, f"cannot load scenario: {exc} (format: docs/scenarios.md)", EXIT_USAGE)
    how = {"code": EXIT_OK}

    async def serve() -> None:
        emulator = Emulator(scenario, api_key=args.api_key, host=args.host, port=args.port)
        async with emulator:
            print(banner(emulator.base_url, emulator.api_key, args.api_key is not None))
            sys.stdout.flush()
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for signum in signals:
                    if signum == signal.SIGINT:
                        how["code"] = -1
                    break

    try:
        anyio.run(serve)
    except OSError as exc:
        return fail(PROG, f"cannot listen on {args.host}:{args.port}: {exc}", EXIT_ERROR)
    except KeyboardInterrupt:  # pragma: no cover - signal arrived before the receiver was set
        return interrupted(PROG)
    return interrupted(PROG) if how["code"] < 0 else EXIT_OK
