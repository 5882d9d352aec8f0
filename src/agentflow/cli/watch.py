"""``agentflow watch SESSION_ID``: the live view of a real session's events."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

import anyio

from ._choose import make_view
from ._common import (
    EXIT_INTERRUPTED,
    TurnEnd,
    add_connection_args,
    add_view_args,
    api_key_from_env,
    latest_event_id,
    log_lines,
    log_to,
    run_async,
)
from ._view import View
from ._web import add_web_args, announce, serve_web, settle

if TYPE_CHECKING:
    from ..web import Relay

__all__ = ["register", "watch"]

EPILOG = """\
examples:
  export ANTHROPIC_API_KEY=sk-ant-...
  agentflow watch sesn_011CZkZmTQqQ6V                  history, then live until Ctrl-C
  agentflow watch sesn_011CZkZmTQqQ6V --until-idle     stop when the current turn ends
  agentflow watch sesn_011CZkZmTQqQ6V --json | jq .type
  agentflow watch sesn_011CZkZmTQqQ6V --web            also on a live page (address printed)

The key comes from ANTHROPIC_API_KEY; the base URL from --base-url, else ANTHROPIC_BASE_URL,
else the public API. Watching only reads: nothing is sent to the session.
"""


def register(subparsers: Any) -> None:
    """Add the ``watch`` command."""
    parser = subparsers.add_parser(
        "watch",
        help="live view of a session's events (key from ANTHROPIC_API_KEY)",
        description="Show a session's events as they happen, then a summary.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("session_id", metavar="SESSION_ID", help="the session to watch (sesn_...)")
    add_connection_args(parser)
    add_view_args(parser)
    parser.add_argument(
        "--no-history",
        action="store_true",
        help="start with new events only (default: the history first, then live events)",
    )
    parser.add_argument(
        "--until-idle",
        action="store_true",
        help="stop at the end of the turn (an idle that is not requires_action)",
    )
    parser.add_argument(
        "--no-deltas",
        action="store_true",
        help="do not ask for message previews (text then appears when each message is done)",
    )
    add_web_args(parser)
    parser.set_defaults(func=main)


async def watch(
    view: View,
    session_id: str,
    *,
    api_key: str,
    base_url: str | None = None,
    history: bool = True,
    until_idle: bool = False,
    deltas: bool = True,
    relay: Relay | None = None,
) -> None:
    """Draw ``session_id``'s events on ``view`` until the session ends (or the turn, or Ctrl-C).

    With ``relay``, every event is also published there (the ``--web`` page).
    """
    from ..managed_agents.client import ManagedAgentsClient

    async with ManagedAgentsClient(api_key=api_key, base_url=base_url) as client:
        session = await client.sessions.retrieve(session_id)
        view.note(f"session {session.id} ({session.status}) on {client.base_url}")
        view.start()
        until = None
        if until_idle:
            mark = await latest_event_id(client, session_id) if history else None
            until = TurnEnd(mark, idle=history and session.status == "idle")
            if until.nothing_to_wait_for:
                view.note("the session is idle and has no events yet: nothing to wait for")
                return
            if not history and session.status == "idle":
                view.note("the session is idle: waiting for the next turn to end")
        elif session.status == "idle" and await latest_event_id(client, session_id) is None:
            view.note("the session is idle and has no events yet: waiting for new ones")
        stream = client.events.stream(
            session_id,
            event_deltas=("agent.message",) if deltas else None,
            replay=history,
            until=until,
        )
        async with stream:
            async for event in stream:
                view.show(event)
                if relay is not None:
                    relay.publish(session_id, event)


async def _watch_on_the_web(
    view: View, session_id: str, port: int, options: dict[str, Any]
) -> None:
    """``watch`` with ``--web``: the page replays what it missed, so it may open at any time."""
    from ..web import Relay

    relay = Relay()
    async with serve_web(relay, port) as server:
        announce(view, f"web view: {server.page_url(session_id)}")
        await watch(view, session_id, relay=relay, **options)
        await settle(relay, session_id, view, wait_for_page=True)


def main(args: argparse.Namespace) -> int:
    """Run ``agentflow watch``."""
    view = make_view(sys.stdout, json_lines=args.json, plain=args.plain, verbose=args.verbose)

    async def go() -> int:
        key = api_key_from_env()
        options: dict[str, Any] = {
            "api_key": key,
            "base_url": args.base_url,
            "history": not args.no_history,
            "until_idle": args.until_idle,
            "deltas": not args.no_deltas,
        }
        with anyio.CancelScope() as scope:
            view.out.on_close = scope.cancel
            with log_to(log_lines(view, json_lines=args.json), verbose=args.verbose):
                if args.web:
                    await _watch_on_the_web(view, args.session_id, args.port, options)
                else:
                    await watch(view, args.session_id, **options)
        view.finish()
        return 0

    code = run_async("agentflow watch", go, close=view.close)
    if code == EXIT_INTERRUPTED and not view.out.closed:
        view.finish()  # Ctrl-C is the usual way to stop watching: still show the summary
    return code
