"""``agentflow webhooks``: serve the signed-webhook receiver that queues wake-ups.

::

    export AGENTFLOW_WEBHOOK_SECRET=whsec_...  AGENTFLOW_REDIS_URL=redis://...
    agentflow webhooks --port 8080 --host 0.0.0.0
    # agentflow webhooks listening on http://0.0.0.0:8080/ (Ctrl+C to stop)

The receiver (:func:`agentflow.cluster.webhook_app`, under uvicorn) verifies each Standard
Webhooks signature with the endpoint's ``whsec_`` secret, read from the environment variable
``--secret-env`` names (never from the command line), and queues a wake-up per session in
Redis for ``agentflow worker`` processes. It keeps no state: run any number behind any load
balancer. It listens on 127.0.0.1 unless ``--host`` says otherwise; every request is
authenticated by its signature. The receiver and the workers are separate commands because
they scale apart: receivers take bursts of HTTP, workers hold sessions. Needs the
``cluster`` extra.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from typing import Any

from ._common import fail

__all__ = ["register", "run"]

EPILOG = """\
examples:
  AGENTFLOW_WEBHOOK_SECRET=whsec_... agentflow webhooks --redis redis://127.0.0.1:6379/0
  agentflow webhooks --secret-env MY_SECRET --port 8080 --host 0.0.0.0 --path /hooks
"""


def register(subparsers: Any) -> None:
    """Add the ``webhooks`` sub-command to the ``agentflow`` parser."""
    parser = subparsers.add_parser(
        "webhooks",
        help="receive signed session webhooks and queue wake-ups in Redis",
        description="Serve the signed-webhook receiver that wakes agentflow workers.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--redis", default=None, metavar="URL", help="Redis URL (default: $AGENTFLOW_REDIS_URL)"
    )
    parser.add_argument(
        "--secret-env",
        default="AGENTFLOW_WEBHOOK_SECRET",
        metavar="NAME",
        help="the environment variable holding the whsec_ secret (default "
        "AGENTFLOW_WEBHOOK_SECRET)",
    )
    parser.add_argument("--port", type=int, default=8080, help="port (0 = pick a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--path", default="/", help="the URL path webhooks are POSTed to")
    parser.add_argument("--prefix", default="agentflow", help="Redis key prefix")
    parser.set_defaults(func=run)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    return sock


def run(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or Ctrl-C; returns the exit code."""
    prog = "agentflow webhooks"
    try:
        import anyio
        import uvicorn

        from ..cluster import webhook_app
    except ModuleNotFoundError as exc:
        return fail(
            prog, f"needs the cluster extra ({exc.name} is missing): "
            "pip install 'agentflow-events[cluster]'",
        )  # fmt: skip
    url = args.redis or os.environ.get("AGENTFLOW_REDIS_URL")
    if not url:
        return fail(prog, "no Redis URL: pass --redis URL or set AGENTFLOW_REDIS_URL", 2)
    secret = os.environ.get(args.secret_env, "").strip()
    if not secret:
        return fail(prog, f"${args.secret_env} is not set: it must hold the whsec_ secret", 2)
    path = args.path if args.path.startswith("/") else "/" + args.path
    try:
        app = webhook_app(secret=secret, redis=url, prefix=args.prefix, path=path)
        sock = _bind(args.host, args.port)
    except (ValueError, OSError) as exc:
        return fail(prog, str(exc), 2)
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    config = uvicorn.Config(app, log_level="warning", access_log=False, ws="none")
    server = uvicorn.Server(config)
    # Listening already: requests wait in the backlog until uvicorn starts, so say so now.
    print(f"{prog} listening on http://{host}:{port}{path} (Ctrl+C to stop)", flush=True)
    try:
        anyio.run(server.serve, [sock])  # uvicorn stops cleanly on SIGINT and SIGTERM
    except KeyboardInterrupt:  # pragma: no cover - uvicorn handles the signal itself
        pass
    finally:
        sock.close()
    print(f"{prog}: stopped", file=sys.stderr, flush=True)
    return 0
