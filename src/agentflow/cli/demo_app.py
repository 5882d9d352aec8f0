"""The example app ``agentflow demo`` runs: tools, confirmation policies, middleware, handlers.

It lives in the package (not in ``examples/``) so that ``agentflow demo`` works after a plain
``pip install``. It is also an ordinary app you can replay a recorded session through::

    agentflow replay demo.jsonl --app agentflow.cli.demo_app:app

Every handler appends ``"<handler> <event type> <event id>"`` to :data:`TRACE` (the app's
list; :func:`make_app` takes your own), which is how the tests check that a replay calls the
same handlers in the same order as the live run.
"""

from __future__ import annotations

from typing import Any

import anyio

from ..app import App
from ..core.context import Context
from ..core.events import Event
from ..middleware import ErrorEscalation, LoggingMiddleware
from ..plugins import Allow, Deny

__all__ = ["PROMPT", "TRACE", "app", "make_app"]

PROMPT = (
    "Check the build host and clear its cache, then tell me the weather in Paris "
    "and where my order A-1042 is."
)
"""The user message the demo sends."""

TRACE: list[str] = []
"""Handler calls of the module-level :data:`app`, in order."""

_WEATHER = {"paris": "sunny, 21 C", "london": "light rain, 14 C", "tokyo": "cloudy, 18 C"}
_ORDERS = {"A-1042": {"status": "shipped", "shipped": "yesterday", "eta": "Friday"}}


def make_app(trace: list[str] | None = None) -> App:
    """Build the demo app; its handlers record their calls in ``trace``."""
    calls: list[str] = TRACE if trace is None else trace
    app = App(name="demo")
    app.load_entrypoints = False  # the demo shows its own policies, whatever is installed
    # The logging middleware is the outermost layer: one structured line per event
    # (``agentflow demo -v`` shows them). ErrorEscalation logs a retrying session.error
    # and carries on; a terminal one would end the run with SessionErrorRaised.
    app.use(LoggingMiddleware(), ErrorEscalation())

    def note(handler: str, event: Event) -> None:
        calls.append(f"{handler} {event.type} {event.id}")

    # -- handlers -------------------------------------------------------------------------

    @app.on("agent.message")
    def on_text(event: Event, ctx: Context) -> None:
        note("on_text", event)
        ctx.state.setdefault("transcript", []).append(event.text)

    @app.on("agent.*tool_use")
    def on_tool_call(event: Event, ctx: Context) -> None:
        note("on_tool_call", event)
        ctx.state.setdefault("tools_called", []).append(event.tool_name)

    @app.on("user.tool_confirmation")
    def on_decision(event: Event) -> None:
        note("on_decision", event)

    @app.on("*tool_result")
    def on_result(event: Event) -> None:
        note("on_result", event)

    @app.on("session.error")
    def on_session_error(event: Event, ctx: Context) -> None:
        note("on_session_error", event)
        ctx.state["errors"] = ctx.state.get("errors", 0) + 1

    @app.on("session.status_*")
    def on_status(event: Event) -> None:
        note("on_status", event)

    # -- custom tools: the agent calls them, the app runs them ------------------------------

    @app.tool
    def get_weather(city: str) -> str:
        """Current weather for a city (canned data for the demo).

        Args:
            city: The city, e.g. "Paris".
        """
        return _WEATHER.get(city.lower(), "no weather data for that city")

    @app.tool
    async def lookup_order(order_id: str) -> dict[str, Any]:
        """Shipping status of an order.

        Args:
            order_id: The order number, e.g. "A-1042".
        """
        await anyio.sleep(0.05)  # pretend to ask a backend
        order = _ORDERS.get(order_id)
        if order is None:
            raise LookupError(f"no order {order_id!r}")
        return {"order_id": order_id, **order}

    # -- confirmation policies for always_ask built-in tools --------------------------------

    @app.confirm("read*")
    def allow_reading(event: Event) -> Allow:
        return Allow()

    @app.confirm("bash")
    def no_shell(event: Event) -> Deny:
        return Deny("Shell commands are not allowed in this demo.")

    return app


app = make_app()
"""The demo app (its handlers record into :data:`TRACE`)."""
