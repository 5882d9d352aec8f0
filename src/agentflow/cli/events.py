"""``agentflow events [TYPE]``: the quick reference card of event types.

Without TYPE: every type of the dialect with its direction and ``kind``. With TYPE (a
type, or a pattern such as ``'agent.*'``): everything the card says about each match.
``--markdown`` prints ``docs/events.md`` (every dialect), generated from the models.
"""

from __future__ import annotations

import argparse
import sys
from fnmatch import fnmatchcase
from typing import Any

from ._common import EXIT_USAGE, fail

__all__ = ["register"]

PROG = "agentflow events"

EPILOG = """\
examples:
  agentflow events                          every Managed Agents event type
  agentflow events session.status_idle      one type: direction, kind, fields, when
  agentflow events 'agent.*'                a family
  agentflow events --markdown > docs/events.md
"""


def register(subparsers: Any) -> None:
    """Add the ``events`` command."""
    parser = subparsers.add_parser(
        "events",
        help="the event reference card: types, direction, key fields, kind",
        description="Show the event types of a dialect: who sends each, its key fields, "
        "its kind and when it fires.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("type", nargs="?", metavar="TYPE", help="a type or a pattern ('agent.*')")
    parser.add_argument(
        "--dialect", default="managed_agents", help="whose events (default: managed_agents)"
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print docs/events.md (every dialect)"
    )
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run ``agentflow events``."""
    from ..card import card, cards, render_markdown, render_row, render_table

    if args.markdown:
        sys.stdout.write(render_markdown(cards()))
        return 0
    try:
        rows = card(args.dialect)
    except ValueError as exc:
        return fail(PROG, str(exc), EXIT_USAGE)
    if args.type is None:
        print(render_table(rows))
        return 0
    found = [r for r in rows if fnmatchcase(r.type, args.type)]
    if not found:
        return fail(PROG, f"no {args.dialect} event type matches {args.type!r}", EXIT_USAGE)
    print("\n\n".join(render_row(r) for r in found))
    return 0
