"""``agentflow emulator``: serve a local emulator in the foreground.

::

    agentflow emulator --scenario demo.json --port 0
    # agentflow emulator listening on http://127.0.0.1:43127 (Ctrl+C to stop)
    agentflow emulator --dialect messages     # the Messages API (POST /v1/messages)

Point any client at the printed URL (the official SDK: ``base_url=URL``). Without
``--api-key`` any non-empty key is accepted; with it, exactly that key. The host must be a
loopback address. ``--dialect`` picks the wire: every emulator ``agentflow.testing.Emulator``
knows (``managed_agents`` by default). Needs the ``emulator`` extra.

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

__all__ = ["register", "run"]

EPILOG = """\
examples:
  agentflow emulator --scenario scenario.json --port 0
  agentflow emulator --port 8765 --api-key sk-test   # then point a client at it:
  ANTHROPIC_BASE_URL=http://127.0.0.1:8765 ANTHROPIC_API_KEY=sk-test python my_app.py
  agentflow emulator --dialect messages --scenario scenario.json   # the Messages API
  agentflow emulator --dialect m8tes --port 8766   # M8TES_BASE_URL=http://127.0.0.1:8766/api/v2
"""


def register(subparsers: Any) -> None:
    """Add the ``emulator`` sub-command to the ``agentflow`` parser."""
    parser = subparsers.add_parser(
        "emulator",
        help="serve a local emulator (Managed Agents, the Messages API, ...)",
        description="Serve a local agent API (Managed Agents sessions by default) driven by a "
        "scripted scenario.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--scenario", metavar="FILE.json", help="scenario JSON file (default: empty)"
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port to listen on (0 = pick a free one)"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="loopback address to bind (127.0.0.1, localhost or ::1)"
    )
    parser.add_argument("--api-key", default=None, help="require exactly this API key")
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
        print(
            f"agentflow emulator needs the emulator extra ({exc.name} is missing): "
            "pip install 'agentflow-events[emulator]'",
            file=sys.stderr,
        )
        return 1
    if args.host not in LOOPBACK:
        print(
            f"agentflow emulator: --host must be a loopback address, got {args.host!r}",
            file=sys.stderr,
        )
        return 2
    if args.dialect != "managed_agents" and args.dialect not in DIALECT_EMULATORS:
        known = ", ".join(sorted(["managed_agents", *DIALECT_EMULATORS]))
        print(
            f"agentflow emulator: unknown --dialect {args.dialect!r}; expected one of: {known}",
            file=sys.stderr,
        )
        return 2
    try:
        scenario = Scenario.load(args.scenario) if args.scenario else Scenario()
    except (OSError, ScenarioError) as exc:
        print(f"agentflow emulator: cannot load scenario: {exc}", file=sys.stderr)
        return 2

    webhooks: dict[str, Any] = {}
    if args.webhook_url is not None and args.dialect != "managed_agents":
        print("agentflow emulator: --webhook-url needs --dialect managed_agents", file=sys.stderr)
        return 2
    if args.webhook_url is not None:
        secret = args.webhook_secret or os.environ.get("AGENTFLOW_WEBHOOK_SECRET")
        webhooks = {"webhook_url": args.webhook_url, "webhook_secret": secret}
        webhooks["webhook_duplicates"] = args.webhook_duplicates
    try:
        emulator = Emulator(
            scenario,
            dialect=args.dialect,
            api_key=args.api_key,
            host=args.host,
            port=args.port,
            **webhooks,
        )
    except (ValueError, ImportError) as exc:  # a dialect whose emulator is not installed too
        print(f"agentflow emulator: {exc}", file=sys.stderr)
        return 2

    async def serve() -> None:
        async with emulator:
            print(
                f"agentflow emulator listening on {emulator.base_url} (Ctrl+C to stop)", flush=True
            )
            if args.dialect == "everruns":  # its channel surface (agent key) has its own URL
                agent_url = getattr(emulator, "agent_url", "")
                print(f"everruns channel surface: {agent_url}", flush=True)
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for _ in signals:
                    break

    try:
        anyio.run(serve)
    except OSError as exc:
        print(
            f"agentflow emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr
        )
        return 1
    except KeyboardInterrupt:  # pragma: no cover - signal arrived before the receiver was set
        pass
    return 0
