"""``agentflow demo --dialect orxhestra``: the demo app over an orxhestra agent, in process.

The same App as the Managed Agents demo (:mod:`agentflow.cli.demo_app`: its tools, its
confirmation policies, its middleware) follows a real orxhestra ``Runner`` whose model plays
the demo scenario, with no key and no network. The agent has two tools of its own, ``read``
and ``bash``, which agentflow gates: the App's policies allow the one and deny the other
(it never runs). The App's ``get_weather`` and ``lookup_order`` are given to the agent and
run by the run's actions router. Needs the ``orxhestra`` extra.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from importlib import resources
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from ._choose import make_view
from ._common import EXIT_USAGE, CommandError, fail, log_lines, log_to, run_async
from ._tally import ToolCall, clip
from ._view import JsonView, View

if TYPE_CHECKING:
    from ..core.chain import Next
    from ..core.context import Context
    from ..core.events import Event
    from ..core.results import RunResult
    from ..testing import Scenario

__all__ = ["OrxhestraDemo", "main", "orxhestra_scenario", "run_orxhestra_demo"]

SESSION = "demo-session"
"""The orxhestra session the demo runs in."""


def orxhestra_scenario(delay: float | None = None) -> Scenario:
    """The demo scenario as the scripted model plays it (re-paced by ``delay``).

    Its ``Error`` step is left out: orxhestra retries a failed model call after a second of
    its own, with no event to show for it.
    """
    from ..testing import Error, Scenario, Turn

    text = resources.files(__package__).joinpath("demo_scenario.json").read_text("utf-8")
    data = json.loads(text)
    if delay is not None:
        if delay < 0:
            raise CommandError(f"--delay must be >= 0, got {delay!r}")
        data["step_delay"] = delay
    scenario = Scenario.from_dict(data)
    turns = [Turn([s for s in t.steps if not isinstance(s, Error)]) for t in scenario.turns]
    return Scenario(turns, step_delay=scenario.step_delay)


def agent_tools(ran: list[str]) -> list[Any]:
    """The agent's own tools: ``read`` (a canned host name) and ``bash``."""
    from langchain_core.tools import StructuredTool

    async def read(file_path: str) -> str:
        """Read a file."""
        ran.append(f"read {file_path}")
        return "build-7" if file_path == "/etc/hostname" else ""

    async def bash(command: str) -> str:
        """Run a shell command."""
        ran.append(f"bash {command}")
        return "done"

    return [StructuredTool.from_function(coroutine=f) for f in (read, bash)]


@dataclass
class OrxhestraDemo:
    """What :func:`run_orxhestra_demo` did: the run's result, the handler calls, the tools
    the agent ran itself."""

    result: RunResult | None
    trace: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)


def _draw(view: View, event: Any) -> None:
    """One orxhestra event on a plain or rich view (the JSON view prints ``raw``).

    ``event`` is an :class:`~agentflow.orxhestra.OrxhestraEvent`: orxhestra's own fields
    (``tool_calls``, ``content``, ``llm_response``) are read through it.
    """
    tally = view.tally
    tally.add(event)
    kind = event.kind
    if kind == "tool.started":
        said = getattr(event.llm_response, "text", "")
        if said:
            view.line("agent", said, "agent")
        for part in event.tool_calls:
            tally.tools[part.tool_call_id] = ToolCall(part.tool_call_id, part.tool_name, "tool")
            args = json.dumps(part.args, ensure_ascii=False)
            view.line("tool", f"{part.tool_name} {clip(args, 70)}", "tool")
    elif kind in ("tool.completed", "tool.failed"):
        for part in event.content.tool_responses:
            call = tally.tools.get(part.tool_call_id)
            if call is not None:
                call.result = "error" if part.error is not None else "ok"
                call.result_text = part.error if part.error is not None else part.result
            text = clip(part.result if part.error is None else f"error: {part.error}", 90)
            view.line(
                "result", f"{part.tool_name}: {text}", "ok" if part.error is None else "error"
            )
    elif kind == "message.completed":
        view.line("agent", event.text or "(no text)", "agent")
    elif kind == "error":
        view.line("error", str(event.error), "error")


def _settle(view: View, result: RunResult) -> None:
    """What the run decided, onto the tally the summary is made from."""
    tally = view.tally
    for record in result.tool_calls:
        call = tally.tools.get(record.id)
        if call is None:
            continue
        if record.kind == "confirmation":
            call.decision = record.outcome
            if record.outcome == "denied":
                call.deny_message = call.result_text
        else:
            call.kind = "app tool"
    tally.stop_reason = result.stop_reason


async def run_orxhestra_demo(
    view: View, *, delay: float | None = None, trace: list[str] | None = None
) -> OrxhestraDemo:
    """Run the demo app over the scripted orxhestra agent and draw it on ``view``."""
    from ..orxhestra import OrxhestraSource
    from ..testing.orxhestra import scenario_runner
    from .demo_app import PROMPT, make_app

    calls: list[str] = [] if trace is None else trace
    ran: list[str] = []
    app = make_app(calls)

    async def show(event: Event, ctx: Context, call_next: Next) -> None:
        if isinstance(view, JsonView):
            view.show(event)
        else:
            _draw(view, event)
        await call_next(event, ctx)

    app.use(show)

    @app.on(kind="tool.started")
    def on_tool_call(event: Event) -> None:
        calls.append(f"on_tool_call {event.type} {event.id}")

    @app.on(kind="message.completed")
    def on_answer(event: Event) -> None:
        calls.append(f"on_answer {event.type} {event.id}")

    runner = scenario_runner(orxhestra_scenario(delay), agent_tools(ran), name="demo-agent")
    source = OrxhestraSource(runner, user_id="demo", app_tools=True)
    view.note("an orxhestra agent in this process: a scripted model, no key, no network")
    view.line("you", PROMPT, "user")
    view.start()
    result = await app.run(source, SESSION, send=[PROMPT])
    _settle(view, result)
    return OrxhestraDemo(result, calls, ran)


def _rows(run: OrxhestraDemo) -> list[tuple[str, str]]:
    result = run.result
    rows = [("handlers", f"{len(run.trace)} calls"), ("agent ran", ", ".join(run.ran) or "-")]
    if result is not None:
        usage = result.usage
        rows.append(("tokens", f"{usage.input_tokens} in, {usage.output_tokens} out"))
        rows.append(("run result", f"stop_reason={result.stop_reason} ok={result.ok}"))
    return rows


def main(args: argparse.Namespace) -> int:
    """Run ``agentflow demo --dialect orxhestra``."""
    prog = "agentflow demo"
    if find_spec("orxhestra") is None:
        return fail(
            prog,
            "--dialect orxhestra needs the 'orxhestra' extra: "
            "python -m pip install 'agentflow-events[orxhestra]'",
        )
    for option in ("record", "web"):
        if getattr(args, option, None):
            return fail(prog, f"--{option} is not available with --dialect orxhestra", EXIT_USAGE)
    view = make_view(sys.stdout, json_lines=args.json, plain=args.plain, verbose=args.verbose)

    async def go() -> int:
        with log_to(log_lines(view, json_lines=args.json), verbose=args.verbose):
            run = await run_orxhestra_demo(view, delay=args.delay)
        view.finish(_rows(run))
        ok = run.result is not None and run.result.stop_reason == "end_turn"
        return 0 if ok or view.out.closed else 1

    return run_async(prog, go, close=view.close)
