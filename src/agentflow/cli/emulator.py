"""``agentflow emulator``: serve the local Managed Agents emulator in the foreground.

::

    agentflow emulator --scenario demo.json --port 0
    # agentflow emulator listening on http://127.0.0.1:43127 (Ctrl+C to stop)
    #   key:  emulator-test-key (any non-empty key is accepted)
    #   try:  ... (a copy-paste example)

Point any client at the printed URL (the official SDK: ``base_url=URL``). Without
``--api-key`` any non-empty key is accepted; with it, exactly that key. The host must be a
loopback address. ``--dialect`` picks the wire: every emulator ``agentflow.testing.Emulator``
knows (``managed_agents`` by default; ``messages``, ``everruns``, ``m8tes``). Needs the
``emulator`` extra. The scenario format is in docs/scenarios.md.

``--webhook-url URL`` (loopback; Managed Agents only) also POSTs a signed session webhook
there on every status change, signed with the ``whsec_`` secret from
``$AGENTFLOW_WEBHOOK_SECRET`` (or ``--webhook-secret``, which other users of the machine can
see in the process list); it needs the ``standardwebhooks`` package (the ``cluster`` extra).
"""

from __future__ import annotations

import argparse
import os
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
  agentflow emulator --dialect messages              the Messages API (POST /v1/messages)
  agentflow emulator --dialect m8tes --port 8766     M8TES_BASE_URL=http://127.0.0.1:8766/api/v2

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
    parser.add_argument(
        "--dialect",
        default="managed_agents",
        help="the wire to serve: managed_agents (default), messages, everruns, m8tes (any "
        "emulator agentflow.testing provides)",
    )
    parser.add_argument(
        "--webhook-url", default=None, help="POST signed session webhooks to this loopback URL"
    )
    parser.add_argument(
        "--webhook-secret",
        default=None,
        help="the whsec_ signing secret (default: $AGENTFLOW_WEBHOOK_SECRET)",
    )
    parser.add_argument(
        "--webhook-duplicates",
        type=float,
        default=0.0,
        help="fraction (0..1) of webhooks to deliver twice",
    )
    parser.set_defaults(func=run)


_CLIENT_ENV = {
    "messages": ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"),
    "everruns": ("EVERRUNS_API_URL", "EVERRUNS_API_KEY"),
    "m8tes": ("M8TES_BASE_URL", "M8TES_API_KEY"),
}


def banner(base_url: str, key: str, required: bool, dialect: str = "managed_agents") -> str:
    """What the emulator prints once it listens: where, which key, and how to try it."""
    accepted = "required" if required else "any non-empty key is accepted"
    if dialect != "managed_agents":
        url_var, key_var = _CLIENT_ENV.get(dialect, ("BASE_URL", "API_KEY"))
        return (
            f"agentflow emulator ({dialect}) listening on {base_url} (Ctrl+C to stop)\n"
            f"  key:  {key} ({accepted})\n"
            f"  point the {dialect} client (or its own SDK) at it:\n"
            f"    export {url_var}={base_url} {key_var}={key}"
        )
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
        from ..testing.managed_agents.emulator import DIALECT_EMULATORS
        from ..testing.scenario import Scenario, ScenarioError
    except ModuleNotFoundError as exc:
        return fail(
            PROG,
            f"needs the emulator extra ({exc.name} is missing): "
            "pip install 'agentflow-events[emulator]'",
        )
    if args.host not in LOOPBACK:
        return fail(PROG, f"--host must be a loopback address, got {args.host!r}", EXIT_USAGE)
    if args.dialect != "managed_agents" and args.dialect not in DIALECT_EMULATORS:
        known = ", ".join(sorted(["managed_agents", *DIALECT_EMULATORS]))
        return fail(PROG, f"unknown --dialect {args.dialect!r}; expected one of: {known}", 2)
    if args.webhook_url is not None and args.dialect != "managed_agents":
        return fail(PROG, "--webhook-url needs --dialect managed_agents", EXIT_USAGE)
    try:
        scenario = Scenario.load(args.scenario) if args.scenario else Scenario()
    except (OSError, ScenarioError) as exc:
        return fail(PROG, f"cannot load scenario: {exc} (format: docs/scenarios.md)", EXIT_USAGE)
    options: dict[str, Any] = {}
    if args.webhook_url is not None:
        secret = args.webhook_secret or os.environ.get("AGENTFLOW_WEBHOOK_SECRET")
        options = {"webhook_url": args.webhook_url, "webhook_secret": secret}
        options["webhook_duplicates"] = args.webhook_duplicates
    try:
        emulator = Emulator(
            scenario, dialect=args.dialect, api_key=args.api_key, host=args.host,
            port=args.port, **options,
        )  # fmt: skip
    except (ValueError, ImportError) as exc:  # a dialect whose emulator is not installed too
        return fail(PROG, str(exc), EXIT_USAGE)
    how = {"code": EXIT_OK}

    async def serve() -> None:
        async with emulator:
            print(banner(emulator.base_url, emulator.api_key, args.api_key is not None,
                         args.dialect))  # fmt: skip
            agent_url = getattr(emulator, "agent_url", None)
            if agent_url:  # Everruns: its channel surface (agent key) has its own URL
                print(f"  channel surface: {agent_url}")
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
