"""``agentflow record SESSION_ID -o FILE.jsonl``: a session's events, one JSON object a line.

The file holds every stored event of the session in history order (``event.raw``, exactly
as the server sent it), then the live events until the turn under way ends (``--follow``:
until the session ends or Ctrl-C). Each line is flushed as it is written, so an interrupted
recording is still a valid file. ``agentflow replay`` reads it back.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ._common import (
    EXIT_INTERRUPTED,
    TurnEnd,
    add_connection_args,
    api_key_from_env,
    fail,
    latest_event_id,
    run_async,
)

__all__ = ["Recording", "record", "register"]

EPILOG = """\
examples:
  export ANTHROPIC_API_KEY=sk-ant-...
  agentflow record sesn_011CZkZmTQqQ6V -o session.jsonl             until the turn ends
  agentflow record sesn_011CZkZmTQqQ6V -o session.jsonl --follow    until Ctrl-C / the end
  agentflow record sesn_011CZkZmTQqQ6V -o - | jq -c .type           to stdout
  agentflow replay session.jsonl --app myapp:app                     then replay it

It stops by itself when the session is terminated or deleted.
"""


def register(subparsers: Any) -> None:
    """Add the ``record`` command."""
    parser = subparsers.add_parser(
        "record",
        help="save a session's events to a JSONL file (history, then live events)",
        description="Write a session's events to a file, one JSON object per line: the "
        "history, then live events until the current turn ends.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("session_id", metavar="SESSION_ID", help="the session to record")
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="the JSONL file to write ('-' for stdout)",
    )
    parser.add_argument(
        "--follow",
        action="store_true",
        help="keep recording after the turn ends, until the session ends or Ctrl-C",
    )
    add_connection_args(parser)
    parser.set_defaults(func=main)


@dataclass
class Recording:
    """Progress of one recording: events written so far (kept if it is interrupted)."""

    count: int = 0
    last_type: str | None = None


async def record(
    out: IO[str],
    session_id: str,
    *,
    api_key: str,
    base_url: str | None = None,
    follow: bool = False,
    progress: Recording | None = None,
) -> Recording:
    """Write ``session_id``'s events to ``out`` (one JSON object a line, flushed each time)."""
    from ..managed_agents.client import ManagedAgentsClient

    done = progress if progress is not None else Recording()
    async with ManagedAgentsClient(api_key=api_key, base_url=base_url) as client:
        session = await client.sessions.retrieve(session_id)
        idle = session.status == "idle"
        until = None
        if not follow:
            until = TurnEnd(await latest_event_id(client, session_id), idle=idle)
            if until.nothing_to_wait_for:
                return done  # an idle session with no events: the empty history is all
        elif idle:
            _say(f"{session_id} is idle: recording new events as they come (Ctrl-C to stop)")
        async with client.events.stream(session_id, replay=True, until=until) as stream:
            async for event in stream:
                out.write(json.dumps(event.raw, ensure_ascii=False, separators=(",", ":")))
                out.write("\n")
                out.flush()
                done.count += 1
                done.last_type = event.type
    return done


def _say(text: str) -> None:
    try:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # pragma: no cover - stderr gone
        pass


def main(args: argparse.Namespace) -> int:
    """Run ``agentflow record``."""
    done = Recording()
    if args.output == "-":
        return _finish(args, done, _record_to(sys.stdout, args, done))
    path = Path(args.output)
    if not path.parent.is_dir():
        return fail("agentflow record", f"no such directory: {str(path.parent)!r}")
    with path.open("w", encoding="utf-8") as out:
        return _finish(args, done, _record_to(out, args, done))


def _record_to(out: IO[str], args: argparse.Namespace, done: Recording) -> int:
    async def go() -> int:
        key = api_key_from_env()
        await record(
            out, args.session_id, api_key=key, base_url=args.base_url, follow=args.follow,
            progress=done,
        )  # fmt: skip
        return 0

    return run_async("agentflow record", go)


def _finish(args: argparse.Namespace, done: Recording, code: int) -> int:
    if code not in (0, EXIT_INTERRUPTED):
        return code
    last = f" (last: {done.last_type})" if done.last_type else ""
    _say(f"recorded {done.count} events of {args.session_id} to {args.output}{last}")
    return code  # 130 after Ctrl-C: the file is still complete up to there
