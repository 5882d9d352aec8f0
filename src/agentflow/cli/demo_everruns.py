"""``agentflow demo --dialect everruns``: the demo app against the Everruns emulator.

The same app as the Managed Agents demo (its tools and confirmation policies), with
handlers routed by ``kind`` and an ``@app.on_question`` handler, runs against a local
Everruns emulator: the tools are declared on the session as ``client_side`` tools, the two
``always_ask`` calls wait on the channel surface's approvals, and the agent asks one question.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from typing import IO, TYPE_CHECKING, Any, TypeVar

from ._common import CommandError
from ._kind_lines import show_by_kind

if TYPE_CHECKING:
    from ..app import App
    from ..core.chain import Next
    from ..core.context import Context
    from ..core.events import Event
    from ..core.results import RunResult
    from ..testing import Scenario
    from ._view import View

R = TypeVar("R")

__all__ = ["QUESTION", "everruns_app", "everruns_scenario", "run_everruns_demo"]

QUESTION = {"text": "Should I also email you the tracking link?", "options": ["yes", "no"]}


def everruns_scenario(delay: float | None = None) -> Scenario:
    """The demo scenario on this wire: the retrying error step left out (an Everruns turn
    ends at its first error), a question asked before the final answer."""
    from ..testing import Scenario

    text = resources.files(__package__).joinpath("demo_scenario.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    if delay is not None:
        if delay < 0:
            raise CommandError(f"--delay must be >= 0, got {delay!r}")
        data["step_delay"] = delay
    steps = [s for s in data["turns"][0]["steps"] if "error" not in s]
    steps.insert(len(steps) - 1, {"question": QUESTION})
    data["turns"][0]["steps"] = steps
    return Scenario.from_dict(data)


def everruns_app(calls: list[str]) -> App:
    """The demo app, with handlers by ``kind`` (they record into ``calls``)."""
    from .demo_app import make_app

    app = make_app(calls)

    def note(handler: str, event: Event) -> None:
        calls.append(f"{handler} {event.type} {event.id}")

    @app.on(kind="message.completed")
    def on_text(event: Event, ctx: Context) -> None:
        note("on_text", event)
        ctx.state.setdefault("transcript", []).append(event.text)

    @app.on(kind="tool.started")
    def on_tool_call(event: Event) -> None:
        note("on_tool_call", event)

    @app.on("tool.approval_resolved")
    def on_decision(event: Event) -> None:
        note("on_decision", event)

    @app.on("tool.completed")
    def on_result(event: Event) -> None:
        note("on_result", event)

    @app.on("turn.*")
    def on_status(event: Event) -> None:
        note("on_status", event)

    @app.on_question
    def answer(question: str, options: tuple[str, ...]) -> str:
        calls.append(f"on_question {question!r}")
        return "yes" if "yes" in options else (options[0] if options else "yes")

    return app


def _view_middleware(view: View) -> Any:
    async def show(event: Event, ctx: Context, call_next: Next) -> None:
        show_by_kind(view, event)
        await call_next(event, ctx)

    return show


async def run_everruns_demo(
    view: View,
    make_run: Callable[[str, RunResult | None, list[str], str], R],
    *,
    delay: float | None = None,
    trace: list[str] | None = None,
    record_to: IO[str] | None = None,
) -> R:
    """Run the demo app against an Everruns emulator (started and stopped here) on ``view``.

    Returns ``make_run(session_id, result, trace, base_url)`` (the demo command passes its
    ``DemoRun``). With ``record_to``, the session's events are then written there as JSON
    lines.
    """
    from ..everruns import EverrunsClient
    from ..testing.everruns import EverrunsEmulator
    from .demo_app import PROMPT

    calls: list[str] = [] if trace is None else trace
    app = everruns_app(calls)
    app.use(_view_middleware(view))
    async with EverrunsEmulator(everruns_scenario(delay)) as emu:
        view.note(f"Everruns emulator on {emu.base_url}: a scripted agent, no key, no network")
        client = EverrunsClient(
            api_key=emu.api_key, base_url=emu.base_url,
            agent_url=emu.agent_url, agent_key=emu.agent_key,
        )  # fmt: skip
        async with client:
            session = await client.sessions.create(
                title="agentflow demo", tools=client.tool_definitions(app)
            )
            view.note(f"session {session.id} on {emu.base_url}")
            view.start()
            result = await app.run(client, session.id, send=[PROMPT])
            if record_to is not None:
                count = 0
                async for event in client.events.list(session.id):
                    record_to.write(json.dumps(event.raw, ensure_ascii=False) + "\n")
                    count += 1
                view.note(f"recorded {count} events of {session.id}")
        return make_run(session.id, result, calls, emu.base_url)


async def run_demo(
    view: View,
    *,
    delay: float | None = None,
    record_to: IO[str] | None = None,
    relay: Any = None,
    on_session: Any = None,
) -> Any:
    """``agentflow demo --dialect everruns``: the runner the demo command calls."""
    from .demo import DemoRun

    if relay is not None:
        raise CommandError("--web is not available with --dialect everruns yet")
    return await run_everruns_demo(view, DemoRun, delay=delay, record_to=record_to)
