"""Middleware: the layers every event passes through on its way to the handlers.

A middleware is ``async def middleware(event, ctx, call_next)``. It calls
``await call_next(event, ctx)`` to pass the event inward, and may act before and after;
not calling ``call_next`` stops the event there (the handlers never see it). The first
middleware given to ``app.use(...)`` is the outermost::

    app.use(LoggingMiddleware(), ToolNameFilter(deny="bash"), ErrorEscalation())

    async def timing(event, ctx, call_next):
        started = time.perf_counter()
        await call_next(event, ctx)
        ctx.state["busy"] = ctx.state.get("busy", 0.0) + time.perf_counter() - started

    app.use(timing)

Built in: :class:`LoggingMiddleware` (one structured log line per event),
:class:`ToolNameFilter` (tool events by tool name) and :class:`ErrorEscalation` (what a
handler exception or a ``session.error`` event leads to).
"""

from __future__ import annotations

from ..core.chain import Middleware, Next
from .escalation import Action, ErrorEscalation
from .logging import LoggingMiddleware
from .redact import REDACTED, redact, redact_text
from .tool_filter import ToolNameFilter

__all__ = [
    "REDACTED",
    "Action",
    "ErrorEscalation",
    "LoggingMiddleware",
    "Middleware",
    "Next",
    "ToolNameFilter",
    "redact",
    "redact_text",
]
