"""``--web`` for ``agentflow demo`` and ``agentflow watch``: the relay and its page on loopback.

The server binds 127.0.0.1 only, on ``--port`` (default: a free port), with a token made for
this run; the page's address, token included, is printed once the session is known.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib.util import find_spec
from typing import Any
from urllib.parse import urlencode

import anyio

from ..testing._local_server import LocalServer
from ..web import Relay
from ._common import CommandError, port_arg
from ._view import JsonView, View

__all__ = ["WebServer", "add_web_args", "announce", "page_opened", "serve_web", "settle"]

SETTLE_SECONDS = 5.0
"""How long a finished command waits for open pages to receive the last events."""


def add_web_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--web`` and ``--port``."""
    group = parser.add_argument_group("web view")
    group.add_argument(
        "--web",
        action="store_true",
        help="also serve a live page of the session on 127.0.0.1 (the address is printed)",
    )
    group.add_argument(
        "--port",
        type=port_arg,
        default=0,
        metavar="PORT",
        help="port of the --web page (default: a free port)",
    )


class WebServer(LocalServer):
    """A relay and its page, served on loopback (uvicorn in the caller's event loop)."""

    def __init__(self, relay: Relay, *, port: int = 0, **app_options: Any) -> None:
        super().__init__(port=port)
        from ..web import relay_app

        self.relay = relay
        self.app = relay_app(relay, **app_options)
        """The :func:`~agentflow.web.relay_app` served (``app_options`` are its keywords)."""

    def build_app(self) -> object:
        return self.app

    def close_streams(self) -> None:
        self.relay.close()

    @property
    def token(self) -> str:
        """The token every request must carry."""
        return self.app.token

    def page_url(self, session_id: str | None = None) -> str:
        """The page's address, token (and session) included."""
        query = {"token": self.token, **({"session": session_id} if session_id else {})}
        return f"{self.base_url}/?{urlencode(query)}"


@asynccontextmanager
async def serve_web(relay: Relay, port: int) -> AsyncIterator[WebServer]:
    """Serve ``relay`` on 127.0.0.1:``port`` for the duration of the block."""
    missing = [name for name in ("starlette", "uvicorn") if find_spec(name) is None]
    if missing:
        raise CommandError(
            f"--web needs the 'web' extra ({', '.join(missing)} missing): "
            "python -m pip install 'agentflow-events[web]'"
        )
    if not 0 <= port <= 65535:
        raise CommandError(f"--port must be between 0 and 65535, got {port!r}")
    server = WebServer(relay, port=port)
    try:
        await server.start()
    except (OSError, RuntimeError) as exc:
        raise CommandError(f"cannot serve the web view on 127.0.0.1:{port}: {exc}") from exc
    try:
        yield server
    finally:
        await server.aclose()


def announce(view: View, text: str) -> None:
    """Tell the user ``text``: on the view, or on stderr when stdout carries JSON lines."""
    if isinstance(view, JsonView):
        print(f"agentflow: {text}", file=sys.stderr, flush=True)
    else:
        view.note(text)


def page_opened(server: WebServer, view: View, why: str) -> Callable[[str], Awaitable[None]]:
    """A callback for a new session: print the page's address, then wait for it to open."""

    async def opened(session_id: str) -> None:
        announce(view, f"web view: {server.page_url(session_id)}")
        announce(view, f"{why} (Ctrl-C to stop)")
        await server.relay.wait_for_browser(session_id)

    return opened


async def settle(relay: Relay, session_id: str, view: View, *, wait_for_page: bool) -> None:
    """Give open pages the session's last events (and, if asked, wait for a page to open)."""
    relay.finish(session_id)
    if wait_for_page and not relay.seen_by_browser(session_id):
        announce(view, "waiting for the page to open (Ctrl-C to stop)")
        await relay.wait_for_browser(session_id)
    with anyio.move_on_after(SETTLE_SECONDS):
        await relay.wait_delivered(session_id)
