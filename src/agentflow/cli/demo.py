"""``agentflow demo``: the whole product in a few seconds, with no key and no network.

It starts the emulator on a free loopback port with a built-in scenario, runs the example
app (:mod:`agentflow.cli.demo_app`) against a new session and shows the work as it
unfolds, then a summary.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import anyio

from ..managed_agents.builders import user_message
from ._choose import make_view
from ._common import (
    CommandError,
    add_view_args,
    fail,
    load_object,
    log_lines,
    log_to,
    run_async,
    seconds_arg,
)
from ._view import View
from ._web import add_web_args, page_opened, serve_web, settle

if TYPE_CHECKING:
    from ..core.chain import Next
    from ..core.context import Context
    from ..core.events import Event
    from ..core.results import RunResult
    from ..testing import Scenario
    from ..web import Relay

__all__ = [
    "DEMO_DIALECTS",
    "DEMO_MAINS",
    "DemoRun",
    "demo_scenario",
    "register",
    "run_demo",
    "view_middleware",
]

EPILOG = """\
examples:
  agentflow demo                 live view (colours in a terminal, plain lines when piped)
  agentflow demo --plain         plain lines, no escape codes
  agentflow demo --json | head   one event per line as JSON
  agentflow demo -v              also show spans, usage and the LoggingMiddleware lines
  agentflow demo --record demo.jsonl
  agentflow demo --dialect messages   the same app over the Messages API emulator
  agentflow demo --web           also show it on a live page (the address is printed)
  agentflow replay demo.jsonl --app agentflow.cli.demo_app:app   replay it offline
  agentflow demo --dialect everruns    the same app over a local Everruns emulator
  agentflow demo --dialect orxhestra   the same app over an orxhestra agent, in process
  agentflow demo --dialect m8tes       the same policies over an m8tes run (its emulator)

The demo needs no API key and no network: the agent is the built-in emulator, scripted to
stream text, ask to run `read` and `bash` under always_ask (one allowed, one denied by the
app's confirmation policies), call two custom tools in one turn, hit a retrying
session.error, and finish.
"""

DELTA_TYPES = ("agent.message",)
"""Preview types the demo asks the stream for (text as it streams)."""

DEMO_DIALECTS: dict[str, str] = {
    "managed_agents": "agentflow.cli.demo:run_demo",
    "messages": "agentflow.cli.demo_messages:run_demo",
    "everruns": "agentflow.cli.demo_everruns:run_demo",
    "m8tes": "agentflow.cli.demo_m8tes:run_demo",
}
"""``--dialect`` -> ``module:function`` running the demo over that wire (imported when chosen).

Each function takes ``(view, *, delay, record_to, relay=None, on_session=None)`` (the last
two for ``--web``: publish to the relay, await ``on_session(session_id)`` before sending) and
returns a :class:`DemoRun`; a new dialect adds its own small ``demo_<name>`` module and one
line here."""


DEMO_MAINS: dict[str, str] = {
    "orxhestra": "agentflow.cli.demo_orxhestra:main",
}
"""``--dialect`` -> ``module:function`` of dialects whose demo is a command of its own (taking
the parsed arguments, returning the exit status): an in-process agent needs no emulator."""


def register(subparsers: Any) -> None:
    """Add the ``demo`` command."""
    parser = subparsers.add_parser(
        "demo",
        help="run the example app against the built-in emulator (no key, no network)",
        description="Run the example app against a scripted agent on a local emulator and "
        "show the event stream live, then a summary.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_view_args(parser)
    parser.add_argument(
        "--dialect",
        choices=sorted({*DEMO_DIALECTS, *DEMO_MAINS}),
        default="managed_agents",
        help="the agent system the demo app runs over (default managed_agents; orxhestra "
        "runs an agent in this process and needs the 'orxhestra' extra)",
    )
    parser.add_argument(
        "--delay",
        type=seconds_arg,
        default=None,
        metavar="SECONDS",
        help="pause between the emulated agent's events (default 0.03; 0 = as fast as possible)",
    )
    parser.add_argument(
        "--record",
        metavar="FILE.jsonl",
        help="also save the session's events there (replay them with agentflow replay)",
    )
    add_web_args(parser)
    parser.set_defaults(func=main)


def demo_scenario(delay: float | None = None) -> Scenario:
    """The built-in scenario (``demo_scenario.json`` in this package), optionally re-paced."""
    from ..testing import Scenario

    text = resources.files(__package__).joinpath("demo_scenario.json").read_text("utf-8")
    data = json.loads(text)
    if delay is not None:
        if delay < 0:
            raise CommandError(f"--delay must be >= 0, got {delay!r}")
        data["step_delay"] = delay
    return Scenario.from_dict(data)


def view_middleware(view: View) -> Any:
    """A middleware drawing every event on ``view`` before the app's handlers run."""

    async def show(event: Event, ctx: Context, call_next: Next) -> None:
        view.show(event)
        await call_next(event, ctx)

    return show


@dataclass
class DemoRun:
    """What :func:`run_demo` did: the session, the run's result and the handler calls."""

    session_id: str
    result: RunResult | None
    trace: list[str] = field(default_factory=list)
    base_url: str = ""


async def run_demo(
    view: View,
    *,
    delay: float | None = None,
    trace: list[str] | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    record_to: IO[str] | None = None,
    relay: Relay | None = None,
    on_session: Callable[[str], Awaitable[None]] | None = None,
) -> DemoRun:
    """Run the demo app against the demo scenario and draw it on ``view``.

    Without ``base_url`` an emulator is started (and stopped) here; with one, the demo runs
    against that server (an emulator serving :func:`demo_scenario`). With ``record_to``, the
    session is then recorded there as ``agentflow record`` does (JSON lines). With ``relay``,
    the app also publishes its events and its result there (the ``--web`` page);
    ``on_session(session_id)`` is awaited once the session exists, before anything is sent.
    """
    from ..managed_agents.client import ManagedAgentsClient
    from ..testing import Emulator
    from .demo_app import PROMPT, make_app

    calls: list[str] = [] if trace is None else trace
    app = make_app(calls)
    app.use(view_middleware(view))
    if relay is not None:
        app.use(relay.middleware())

    async def drive(url: str, key: str) -> DemoRun:
        async with ManagedAgentsClient(api_key=key, base_url=url) as client:
            session = await client.sessions.create(
                agent={"type": "agent", "id": "agent_demo", "name": "demo-agent"},
                environment_id="env_demo",
                title="agentflow demo",
            )
            view.note(f"session {session.id} on {url}")
            if on_session is not None:
                await on_session(session.id)
            view.start()
            result = await app.run(
                client, session.id, send=[user_message(PROMPT)], event_deltas=DELTA_TYPES
            )
            if relay is not None:
                relay.publish_result(session.id, result)
        if record_to is not None:
            from .record import record

            done = await record(record_to, session.id, api_key=key, base_url=url)
            view.note(f"recorded {done.count} events of {session.id}")
        return DemoRun(session.id, result, calls, url)

    if base_url is not None:
        return await drive(base_url, api_key or "demo")
    async with Emulator(demo_scenario(delay)) as emu:
        view.note(f"emulator on {emu.base_url}: a scripted agent, no key, no network")
        return await drive(emu.base_url, emu.api_key)


def _extra_rows(run: DemoRun) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    counts: dict[str, int] = {}
    for call in run.trace:
        name = call.split(" ", 1)[0]
        counts[name] = counts.get(name, 0) + 1
    rows.append(
        ("handlers", f"{len(run.trace)} calls: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    )
    result = run.result
    if result is not None:
        sent = [c for c in result.tool_calls if c.sent]
        confirmations = sum(1 for c in sent if c.kind == "confirmation")
        rows.append(
            (
                "replies sent",
                f"{confirmations} confirmations, {len(sent) - confirmations} tool results",
            )
        )
        rows.append(("run result", f"stop_reason={result.stop_reason} ok={result.ok}"))
    return rows


def main(args: argparse.Namespace) -> int:
    """Run ``agentflow demo``."""
    own_main = DEMO_MAINS.get(getattr(args, "dialect", "managed_agents"))
    if own_main is not None:
        code: int = load_object(own_main)(args)
        return code
    missing = [name for name in ("starlette", "uvicorn") if find_spec(name) is None]
    if missing:
        return fail(
            "agentflow demo",
            f"the demo needs the 'demo' extra ({', '.join(missing)} missing): "
            "python -m pip install 'agentflow-events[demo]'",
        )
    if args.record is not None and args.dialect != "managed_agents":
        return fail("agentflow demo", "--record records Managed Agents sessions only")
    if args.record is None:
        return _main(args, None)
    path = Path(args.record)
    if not path.parent.is_dir():
        return fail("agentflow demo", f"no such directory: {str(path.parent)!r}")
    with path.open("w", encoding="utf-8") as out:
        return _main(args, out)


def _main(args: argparse.Namespace, record_to: IO[str] | None) -> int:
    view = make_view(sys.stdout, json_lines=args.json, plain=args.plain, verbose=args.verbose)

    async def go() -> int:
        with anyio.CancelScope() as scope:
            view.out.on_close = scope.cancel
            with log_to(log_lines(view, json_lines=args.json), verbose=args.verbose):
                runner = load_object(DEMO_DIALECTS[args.dialect])
                if args.web:
                    run = await _demo_on_the_web(view, args, record_to, runner)
                else:
                    run = await runner(view, delay=args.delay, record_to=record_to)
            view.finish(_extra_rows(run))
        if view.out.closed:
            return 0
        ok = run.result is None or run.result.stop_reason == "end_turn"
        return 0 if ok else 1

    return run_async("agentflow demo", go, close=view.close)


async def _demo_on_the_web(
    view: View, args: argparse.Namespace, record_to: IO[str] | None, runner: Any
) -> DemoRun:
    """The demo with ``--web``: it starts once the page is open, so the page shows it live."""
    from ..web import Relay

    relay = Relay()
    async with serve_web(relay, args.port) as server:
        opened = page_opened(server, view, "the demo starts when that page is open")
        run: DemoRun = await runner(
            view, delay=args.delay, record_to=record_to, relay=relay, on_session=opened
        )
        await settle(relay, run.session_id, view, wait_for_page=False)
    return run
