"""``agentflow replay FILE.jsonl --app module:attr``: feed a recorded session through an app.

Offline: nothing is sent anywhere. Each event takes the path it takes in ``app.run``
(remembered, seen by the actions router, dispatched through the middleware and handlers,
with a detached :class:`~agentflow.Context`), in the file's order. What handlers send is
printed instead (``ctx.outbox``), and so are the replies the app's tools and confirmation
policies give at each pause, compared with the replies the recording holds.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from ..core.context import Context
from ..core.events import Event
from ..core.exceptions import DecodeError
from ..core.replay import run_events
from ..managed_agents.dialect import MANAGED_AGENTS
from ..managed_agents.events import parse_event
from ._choose import make_view
from ._common import CommandError, add_view_args, load_object, log_lines, log_to, run_async
from ._view import View

__all__ = ["ReplayReport", "load_app", "read_events", "register", "replay"]

EPILOG = """\
examples:
  agentflow record sesn_011CZkZmTQqQ6V -o session.jsonl
  agentflow replay session.jsonl                                 only show the recording
  agentflow replay session.jsonl --app myapp.main:app
  agentflow replay session.jsonl --app myapp.main:create_app --no-router
  agentflow replay session.jsonl --app agentflow.cli.demo_app:app     (the demo's app)

MODULE is imported from the current directory first (like `python -m`). ATTRIBUTE is an
App, or a function with no arguments that returns one. Exit status 1 when a line could not
be decoded or a handler raised (the rest is still replayed).
"""


def register(subparsers: Any) -> None:
    """Add the ``replay`` command."""
    parser = subparsers.add_parser(
        "replay",
        help="feed a recorded JSONL session through your app, offline",
        description="Replay a recorded session through an app's middleware and handlers; "
        "replies are printed instead of sent.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", metavar="FILE.jsonl", help="a recording (agentflow record)")
    parser.add_argument(
        "--app",
        metavar="MODULE:ATTR",
        help="the app to replay through (default: none; the recording is only shown)",
    )
    parser.add_argument(
        "--session-id",
        default="replay",
        help="the session id handlers see in ctx.session_id (default: 'replay')",
    )
    parser.add_argument(
        "--no-router",
        action="store_true",
        help="do not run the requires_action router (no custom tools, no policies)",
    )
    add_view_args(parser)
    parser.set_defaults(func=main)


@dataclass
class ReplayReport:
    """What a replay did."""

    events: int = 0
    skipped: list[str] = field(default_factory=list)
    """``line N: why`` for each line that could not be decoded."""
    handler_errors: list[str] = field(default_factory=list)
    handler_replies: list[dict[str, Any]] = field(default_factory=list)
    router_replies: list[dict[str, Any]] = field(default_factory=list)
    matching: int = 0
    """Router replies equal to the reply the recording holds for the same call."""
    differing: int = 0


def read_events(path: Path, report: ReplayReport) -> Iterator[Event]:
    """Decode the file line by line; bad lines are noted in ``report.skipped`` and skipped."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise CommandError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield parse_event(line)
            except DecodeError as exc:
                report.skipped.append(f"line {number}: {exc}")


def load_app(spec: str) -> Any:
    """The :class:`~agentflow.App` named by ``module:attr`` (an app or a factory of one)."""
    from ..app import App

    obj = load_object(spec)
    if not isinstance(obj, App) and inspect.isfunction(obj) and _no_required_args(obj):
        try:
            obj = obj()
        except Exception as exc:
            raise CommandError(f"{spec}() raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(obj, App):
        raise CommandError(f"{spec!r} is {type(obj).__name__}, not an agentflow App")
    return obj


def _no_required_args(fn: Any) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params
    )


def _recorded_replies(events: list[Event]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for event in events:
        call_id = MANAGED_AGENTS.settled(event)
        if call_id is not None:
            found.setdefault(call_id, event.raw)
    return found


def _same(produced: dict[str, Any], recorded: dict[str, Any]) -> bool:
    server_only = {"id", "processed_at", "session_thread_id"}

    def norm(reply: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in reply.items() if k not in server_only and v is not None}
        if out.get("is_error") is False:
            del out["is_error"]
        return out

    return norm(produced) == norm(recorded)


def _compact(reply: dict[str, Any]) -> str:
    return json.dumps(reply, ensure_ascii=False, separators=(",", ":"))


async def replay(
    app: Any,
    events: list[Event],
    view: View,
    *,
    session_id: str = "replay",
    router: bool = True,
    report: ReplayReport | None = None,
) -> ReplayReport:
    """Send ``events`` down the app's event path, drawing events and replies on ``view``.

    This is the path ``app.run`` takes (:func:`agentflow.core.replay.run_events`): the
    actions router sees every event, so the app's tools run and its policies decide at
    each pause; their replies are printed (and compared with the recording) instead of sent.
    """
    done = report if report is not None else ReplayReport()
    recorded = _recorded_replies(events)
    ctx = Context(session_id, app=app)  # detached: what handlers send lands in ctx.outbox
    target = MANAGED_AGENTS.reply_target

    async def show_router_batch(batch: list[dict[str, Any]]) -> None:
        for reply in batch:
            done.router_replies.append(reply)
            before = recorded.get(target(reply))
            if before is None:
                verdict = "not in the recording"
            elif _same(reply, before):
                done.matching += 1
                verdict = "same as recorded"
            else:
                done.differing += 1
                verdict = f"recorded: {_compact(before)}"
            view.line("router", f"would send {_compact(reply)}  [{verdict}]", "tool")

    shown = 0

    def show_handler_replies() -> None:
        nonlocal shown
        for reply in ctx.outbox[shown:]:
            done.handler_replies.append(reply)
            view.line("handler", f"would send {_compact(reply)}", "tool")
        shown = len(ctx.outbox)

    def on_event(event: Event) -> None:
        show_handler_replies()
        done.events += 1
        view.show(event)

    def on_error(exc: Exception) -> None:
        done.handler_errors.append(str(exc))
        view.line("raised", str(exc), "error")

    await run_events(
        app, events, ctx, dialect=MANAGED_AGENTS, actions=router and hasattr(app, "actions"),
        answer=show_router_batch, on_event=on_event, on_error=on_error,
    )  # fmt: skip
    show_handler_replies()
    if ctx.stopped:
        view.line("stopped", "ctx.stop() was called; the rest is not replayed", "status")
    return done


def _rows(report: ReplayReport, path: str) -> list[tuple[str, str]]:
    rows = [("replayed", f"{report.events} events from {path}")]
    if report.skipped:
        rows.append(("skipped", f"{len(report.skipped)} undecodable line(s)"))
        rows.extend(("", why) for why in report.skipped[:10])
    rows.append(("handler errors", str(len(report.handler_errors))))
    rows.append(("replies", f"{len(report.handler_replies)} from handlers, "
                 f"{len(report.router_replies)} from the router ({report.matching} same as "
                 f"recorded, {report.differing} different)"))  # fmt: skip
    return rows


def main(args: argparse.Namespace) -> int:
    """Run ``agentflow replay``."""
    view = make_view(sys.stdout, json_lines=args.json, plain=args.plain, verbose=args.verbose)
    report = ReplayReport()

    async def go() -> int:
        if args.app is None:
            from ..app import App

            app, router = App(), False  # no handlers, no tools: show the recording
        else:
            app, router = load_app(args.app), not args.no_router
        events = list(read_events(Path(args.file), report))
        for why in report.skipped:
            view.line("skipped", why, "error")
        with anyio.CancelScope() as scope:
            view.out.on_close = scope.cancel
            with log_to(log_lines(view, json_lines=args.json), verbose=args.verbose):
                view.start()
                await replay(
                    app, events, view, session_id=args.session_id, router=router,
                    report=report,
                )  # fmt: skip
            view.finish(_rows(report, args.file))
        return 1 if report.skipped or report.handler_errors else 0

    return run_async("agentflow replay", go, close=view.close)
