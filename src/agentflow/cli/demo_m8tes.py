"""``agentflow demo --dialect m8tes``: the demo's agent as an m8tes run, on the m8tes emulator.

The same built-in scenario plays as m8tes frames: streamed reasoning and text, ``read``
and ``bash`` behind permission gates (one allowed, one denied by the app's policies), a
retried error, the platform running the other tools itself, and the end of the turn. The
app is the demo app's m8tes twin: the same policies, handlers that route by ``kind`` (m8tes
runs every tool on the platform, so the app's own tools have nothing to answer).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import IO, TYPE_CHECKING, Any

from ..app import App
from ..core.events import Event
from ..middleware import ErrorEscalation, LoggingMiddleware
from ..plugins import Allow, Deny
from ._common import CommandError
from ._tally import clip
from ._view import JsonView, View
from .demo import DemoRun, demo_scenario

if TYPE_CHECKING:
    from ..core.chain import Next
    from ..core.context import Context
    from ..web import Relay

__all__ = ["make_m8tes_app", "run_demo"]


def make_m8tes_app(trace: list[str]) -> App:
    """The demo app for m8tes runs; its handlers record their calls in ``trace``."""
    app = App(name="demo-m8tes")
    app.load_entrypoints = False
    app.use(LoggingMiddleware(), ErrorEscalation())

    def note(handler: str, event: Event) -> None:
        trace.append(f"{handler} {event.type} {event.id}")

    @app.on(kind="message.completed")
    def on_text(event: Event, ctx: Context) -> None:
        note("on_text", event)
        ctx.state.setdefault("transcript", []).append(event.text)

    @app.on(kind="tool.started")
    def on_tool_call(event: Event, ctx: Context) -> None:
        note("on_tool_call", event)
        ctx.state.setdefault("tools_called", []).append(event.tool_name)

    @app.on("permission_*")
    def on_gate(event: Event) -> None:
        note("on_gate", event)

    @app.on("tool-result-end")
    def on_result(event: Event) -> None:
        note("on_result", event)

    @app.on(kind="error")
    def on_error(event: Event, ctx: Context) -> None:
        note("on_error", event)
        ctx.state["errors"] = ctx.state.get("errors", 0) + 1

    @app.confirm("read*")
    def allow_reading(event: Event) -> Allow:
        return Allow()

    @app.confirm("bash")
    def no_shell(event: Event) -> Deny:
        return Deny("Shell commands are not allowed in this demo.")

    return app


def _line(event: Event, names: dict[str, str]) -> tuple[str, str, str] | None:
    """The view line of an m8tes event, or ``None`` for those only ``-v`` shows."""
    kind, etype = event.kind, event.type
    if kind == "message.completed":
        return "agent", event.text or "(no text)", "agent"
    if kind == "reasoning.completed":
        return "thinking", "...", "dim"
    if etype == "tool-call-end":
        name = event.tool_name or "?"
        args = json.dumps(event.tool_input or {}, ensure_ascii=False)
        return "tool", f"{name} {clip(args, 70)}  [run by the platform]", "tool"
    if etype == "permission_request":
        names[str(getattr(event, "request_id", ""))] = event.tool_name or "?"
        what = "question" if kind == "input.requested" else "allow / deny"
        return "gate", f"{event.tool_name}: waiting for {what}", "status"
    if etype == "permission_resolved":
        name = names.get(str(getattr(event, "request_id", "")), "?")
        status = str(getattr(event, "resolved_status", None) or "resolved")
        return "confirm", f"{name}: {status}", "ok" if status == "allowed" else "deny"
    if kind in ("tool.completed", "tool.failed"):
        text = clip(event.text or json.dumps(getattr(event, "result", None)), 90)
        if kind == "tool.failed":
            return "result", f"{event.tool_name}: error: {text}", "error"
        return "result", f"{event.tool_name}: {text}", "ok"
    if kind == "error":
        return "error", f"{event.error}", "error"
    if kind == "turn.completed":
        return "status", f"done ({getattr(event, 'stop_reason', None) or 'end_turn'})", "status"
    return None


def view_m8tes(view: View) -> Any:
    """A middleware drawing m8tes events on ``view`` (by kind) before the app's handlers."""
    names: dict[str, str] = {}

    async def show(event: Event, ctx: Context, call_next: Next) -> None:
        if isinstance(view, JsonView):
            view.show(event)
        else:
            view.tally.add(event)
            line = _line(event, names)
            if line is not None:
                view.line(*line)
            elif view.verbose:
                view.line("event", f"{event.type} {event.id or ''}".rstrip(), "dim")
        await call_next(event, ctx)

    return show


async def run_demo(
    view: View,
    *,
    delay: float | None = None,
    record_to: IO[str] | None = None,
    relay: Relay | None = None,
    on_session: Callable[[str], Awaitable[None]] | None = None,
    trace: list[str] | None = None,
) -> DemoRun:
    """Start the m8tes emulator, create a run of the demo scenario and follow it with the app.

    With ``relay``, the app also publishes its events and result there (``--web``);
    ``on_session(run_id)`` is awaited once the run exists, before it is followed.
    ``record_to`` is refused: recording follows Managed Agents sessions only.
    """
    from ..m8tes import M8tesClient
    from ..testing import Emulator
    from .demo_app import PROMPT

    if record_to is not None:
        raise CommandError("--record records Managed Agents sessions only")

    calls: list[str] = [] if trace is None else trace
    app = make_m8tes_app(calls)
    app.use(view_m8tes(view))
    if relay is not None:
        app.use(relay.middleware())
    async with Emulator(demo_scenario(delay), dialect="m8tes") as emu:
        view.note(f"m8tes emulator on {emu.base_url}: a scripted agent, no key, no network")
        async with M8tesClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            run = await client.runs.create(message=PROMPT, human_in_the_loop=True)
            view.note(f"run {run.id} on {emu.base_url}")
            if on_session is not None:
                await on_session(str(run.id))
            view.start()
            result = await app.run(client, run.id)
        if relay is not None:
            relay.publish_result(str(run.id), result)
        return DemoRun(str(run.id), result, calls, emu.base_url)
