"""``agentflow worker --app module:app --redis URL``: one scale-out worker in the foreground.

::

    export ANTHROPIC_API_KEY=sk-ant-...  AGENTFLOW_REDIS_URL=redis://:pw@10.0.0.5:6379/0
    agentflow worker --app myproject.bot:app --concurrency 32

The worker joins the Redis consumer group of wake-ups (``agentflow webhooks`` queues them
from signed session webhooks), and for each one leases the session, reads it from its
checkpoint and answers it as ``app.run`` would, then acknowledges. Run as many as you like,
on as many machines: see docs/scale-out.md. The client is a ``ManagedAgentsClient`` from the
environment (``ANTHROPIC_API_KEY``, ``ANTHROPIC_BASE_URL``) or ``--base-url``/``--api-key``;
``--client module:factory`` names another source. SIGTERM or Ctrl-C stops taking wake-ups
and finishes the sessions in progress (a second one stops at once: their leases lapse and
other workers take them over). Needs the ``cluster`` extra.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ._common import CommandError, fail, load_object, run_async

__all__ = ["register", "run"]

EPILOG = """\
examples:
  agentflow worker --app bot:app --redis redis://127.0.0.1:6379/0
  AGENTFLOW_REDIS_URL=redis://:secret@10.0.0.5:6379/0 agentflow worker --app bot:app -c 32

The Redis URL comes from --redis, else $AGENTFLOW_REDIS_URL (a password in it is safer in the
environment than on the command line, which other users can see).
"""


def register(subparsers: Any) -> None:
    """Add the ``worker`` sub-command to the ``agentflow`` parser."""
    parser = subparsers.add_parser(
        "worker",
        help="work sessions woken by webhooks, with other workers, on Redis",
        description="Join the Redis consumer group and answer the sessions it wakes up.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--app", required=True, metavar="MODULE:APP", help="the agentflow App")
    parser.add_argument(
        "--redis", default=None, metavar="URL", help="Redis URL (default: $AGENTFLOW_REDIS_URL)"
    )
    parser.add_argument(
        "-c", "--concurrency", type=int, default=16, help="sessions worked at once (default 16)"
    )
    parser.add_argument(
        "--lease-ttl",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds a session's lease lives unrenewed: a dead worker's sessions are taken "
        "over after about 1.5x this (default 30)",
    )
    parser.add_argument(
        "--sweep-interval",
        type=float,
        default=60.0,
        metavar="S",
        help="how often sessions left not idle are woken anyway (default 60)",
    )
    parser.add_argument("--name", default=None, help="consumer name (default: host-pid-random)")
    parser.add_argument("--prefix", default="agentflow", help="Redis key prefix")
    parser.add_argument(
        "--base-url", default=None, help="API base URL (default: $ANTHROPIC_BASE_URL)"
    )
    parser.add_argument(
        "--api-key",
        default=None,
        help="API key (default: $ANTHROPIC_API_KEY, which other users cannot see)",
    )
    parser.add_argument(
        "--client",
        default=None,
        metavar="MODULE:FACTORY",
        help="a callable returning the app's source, instead of a ManagedAgentsClient",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every session read")
    parser.set_defaults(func=run)


@contextmanager
def _logging(verbose: bool) -> Iterator[None]:
    """agentflow's log lines on stderr while the command runs (restored after)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root, cluster = logging.getLogger("agentflow"), logging.getLogger("agentflow.cluster")
    saved = root.level, root.propagate, cluster.level
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    root.propagate = False
    # Takeovers, lost leases and fenced-out writes are what an operator wants to see.
    cluster.setLevel(logging.DEBUG if verbose else logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        root.propagate = saved[1]
        cluster.setLevel(saved[2])


def _factory(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The source factory, and the run options that suit it."""
    if args.client is not None:
        factory = load_object(args.client)
        if not callable(factory):
            raise CommandError(f"--client {args.client!r} is not callable")
        return factory, {}
    from ..managed_agents.client import ManagedAgentsClient

    key = args.api_key or os.environ.get("ANTHROPIC_API_KEY", "").strip()
    if not key:
        raise CommandError("ANTHROPIC_API_KEY is not set (or pass --api-key)")

    def make() -> ManagedAgentsClient:
        return ManagedAgentsClient(api_key=key, base_url=args.base_url)

    # A read of what is stored needs no open stream: history pages (one request fewer per
    # wake-up, no connection held while the session's tools run).
    return make, {"poll": 1.0}


def run(args: argparse.Namespace) -> int:
    """Run the worker until SIGTERM or Ctrl-C; returns the exit code."""
    prog = "agentflow worker"
    try:
        import anyio

        from ..cluster import Worker
        from ..cluster._redis import redacted
    except ModuleNotFoundError as exc:
        return fail(
            prog, f"needs the cluster extra ({exc.name} is missing): "
            "pip install 'agentflow-events[cluster]'",
        )  # fmt: skip
    url = args.redis or os.environ.get("AGENTFLOW_REDIS_URL")
    if not url:
        return fail(prog, "no Redis URL: pass --redis URL or set AGENTFLOW_REDIS_URL", 2)
    if args.concurrency < 1 or args.lease_ttl <= 0 or args.sweep_interval <= 0:
        return fail(prog, "--concurrency, --lease-ttl and --sweep-interval must be positive", 2)

    async def main() -> int:
        app = load_object(args.app)
        if not callable(getattr(app, "run", None)):
            raise CommandError(f"--app {args.app!r} is not an agentflow App")
        factory, run_options = _factory(args)
        worker = Worker(
            app=app,
            client_factory=factory,
            run_options=run_options,
            redis=url,
            name=args.name,
            concurrency=args.concurrency,
            lease_ttl=args.lease_ttl,
            prefix=args.prefix,
            sweep_interval=args.sweep_interval,
        )
        print(
            f"agentflow worker {worker.name} on {redacted(url)}: concurrency "
            f"{args.concurrency}, lease TTL {args.lease_ttl:g}s (SIGTERM to stop)",
            file=sys.stderr,
            flush=True,
        )
        async with anyio.create_task_group() as tg:

            async def stop_on_signal() -> None:
                with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                    async for _ in signals:
                        if worker.stopping:
                            tg.cancel_scope.cancel()  # the second signal: stop now
                            return
                        worker.stop()

            tg.start_soon(stop_on_signal)
            await worker.run()
            tg.cancel_scope.cancel()
        print(f"agentflow worker {worker.name}: stopped", file=sys.stderr, flush=True)
        return 0

    with _logging(args.verbose):
        return run_async(prog, main)
