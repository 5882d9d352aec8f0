"""``agentflow demo --dialect messages``: the demo app over the Messages API emulator.

The same app and scenario as the Managed Agents demo, on the wire where the client runs every
tool: the model's ``read`` and ``bash`` calls reach the app too, so the demo gives it those
two tools with ``confirm=True``, and the same confirmation policies decide (``read`` allowed,
``bash`` denied: the model gets the deny message as an error result). The overloaded error is
an ``error`` event mid-stream, which the client asks again for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import IO, TYPE_CHECKING

from ..app import App
from ..core.context import Context
from ..core.events import Event
from ._common import CommandError
from .demo import DemoRun, demo_scenario, view_middleware

if TYPE_CHECKING:
    from ..core.results import RunResult
    from ..web import Relay
    from ._tally import Tally
    from ._view import View

__all__ = ["MODEL", "add_client_tools", "run_demo"]

MODEL = "claude-demo"
"""The model name the demo asks the emulator for (any name works there)."""

_FILES = {"/etc/hostname": "build-7"}


def add_client_tools(app: App, trace: list[str]) -> None:
    """The tools the Messages model may call besides the app's own, and kind handlers."""

    @app.tool(confirm=True)
    def read(file_path: str) -> str:
        """Read a file on the build host (canned for the demo).

        Args:
            file_path: Absolute path of the file.
        """
        return _FILES.get(file_path, f"no such file: {file_path}")

    @app.tool(confirm=True)
    def bash(command: str) -> str:
        """Run a shell command on the build host (the demo's policy never allows it).

        Args:
            command: The command line.
        """
        raise RuntimeError("the demo never runs shell commands")

    def note(handler: str, event: Event) -> None:
        trace.append(f"{handler} {event.type} {event.call_id or event.id}")

    @app.on(kind="message.completed")
    def on_text(event: Event, ctx: Context) -> None:
        note("on_text", event)
        ctx.state.setdefault("transcript", []).append(event.text)

    @app.on(kind="tool.started")
    def on_tool_call(event: Event, ctx: Context) -> None:
        note("on_tool_call", event)
        ctx.state.setdefault("tools_called", []).append(event.tool_name)

    @app.on(kind="tool.requested")
    def on_tool_request(event: Event) -> None:
        note("on_tool_request", event)

    @app.on(kind="error")
    def on_error(event: Event) -> None:
        note("on_error", event)


def _settle(tally: Tally, result: RunResult) -> None:
    """Give the summary's tool lines the outcomes the run recorded (results are local)."""
    for record in result.tool_calls:
        tool = tally.tools.get(record.id)
        if tool is None:
            continue
        if record.outcome == "denied":
            tool.decision, tool.deny_message = "denied", record.error
            continue
        if record.policy is not None:
            tool.decision = "allowed"
        tool.result = "error" if record.is_error else "ok"
        content = (record.reply or {}).get("content") or []
        tool.result_text = " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))


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
    """Run the demo app over the Messages emulator (or ``base_url``) and draw it on ``view``.

    With ``relay`` the app also publishes its events and result there (``--web``);
    ``on_session(conversation_id)`` is awaited before anything is sent.
    """
    from ..messages import Conversation, MessagesClient
    from ..testing import Emulator
    from .demo_app import PROMPT, make_app

    if record_to is not None:
        raise CommandError("--record records Managed Agents sessions; use the default dialect")
    calls: list[str] = [] if trace is None else trace
    app = make_app(calls)
    add_client_tools(app, calls)
    app.use(view_middleware(view))
    if relay is not None:
        app.use(relay.middleware())

    async def drive(url: str, key: str) -> DemoRun:
        conversation = Conversation()
        async with MessagesClient(
            api_key=key, base_url=url, model=MODEL, max_tokens=1024
        ) as client:
            view.note(f"conversation {conversation.id} on {url}")
            if on_session is not None:
                await on_session(conversation.id)
            view.start()
            result = await app.run(client, conversation, send=[PROMPT])
            if relay is not None:
                relay.publish_result(conversation.id, result)
        _settle(view.tally, result)
        return DemoRun(conversation.id, result, calls, url)

    if base_url is not None:
        return await drive(base_url, api_key or "demo")
    async with Emulator(demo_scenario(delay), dialect="messages") as emu:
        view.note(f"Messages API emulator on {emu.base_url}: a scripted model, no key, no network")
        return await drive(emu.base_url, emu.api_key)
