"""``LoggingMiddleware``: one structured log line per event, secrets never logged."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from time import perf_counter
from typing import TYPE_CHECKING, Any, final

from .redact import redact, redact_text

if TYPE_CHECKING:
    from ..core.chain import Next
    from ..core.context import Context
    from ..core.events import Event

__all__ = ["LoggingMiddleware"]

_RECORD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


@final
class LoggingMiddleware:
    """Log one structured line per event, after its handlers ran.

    The line's ``extra`` carries ``event_type``, ``event_id``, ``processed_at``,
    ``tool_name``, ``session_id``, ``handler_ms`` (time spent inside this layer, in
    milliseconds) and ``outcome`` (``"ok"`` or ``"error"``); the message is a compact
    ``"agent.tool_use sevt_… tool=bash 0.412 ms"``. Event bodies, tool inputs and
    ``ctx.state`` are never logged. ``fields`` names extra event attributes to add to
    ``extra`` (say ``("stop_reason",)``); their values are passed through :func:`redact`,
    and a name a log record already uses gets an ``event_`` prefix (``name`` →
    ``event_name``).

    Put it first in ``app.use(...)`` to time everything inside it.
    """

    def __init__(
        self,
        logger: logging.Logger | None = None,
        *,
        level: int = logging.INFO,
        fields: Iterable[str] = (),
    ) -> None:
        self.logger = logging.getLogger("agentflow.events") if logger is None else logger
        self.level = level
        self.fields = tuple(fields)
        # A LogRecord refuses ``extra`` keys that clash with its own attributes ("name").
        self._fields = [(f, f"event_{f}" if f in _RECORD_ATTRS else f) for f in self.fields]

    async def __call__(self, event: Event, ctx: Context, call_next: Next) -> None:
        logger = self.logger
        if not logger.isEnabledFor(self.level):
            await call_next(event, ctx)
            return
        started = perf_counter()
        outcome = "error"
        try:
            await call_next(event, ctx)
            outcome = "ok"
        finally:
            self._log(event, ctx, (perf_counter() - started) * 1000.0, outcome)

    def _log(self, event: Event, ctx: Context, elapsed_ms: float, outcome: str) -> None:
        tool_name = event.tool_name
        extra: dict[str, Any] = {
            "event_type": event.type,
            "event_id": event.id,
            "processed_at": getattr(event, "processed_at", None),
            "tool_name": tool_name,
            "session_id": ctx.session_id,
            "handler_ms": round(elapsed_ms, 3),
            "outcome": outcome,
        }
        for name, key in self._fields:
            extra.setdefault(key, redact(getattr(event, name, None)))
        tool = "" if tool_name is None else f" tool={redact_text(tool_name)}"
        self.logger.log(
            self.level, "%s %s%s %.3f ms %s", event.type, event.id, tool, elapsed_ms, outcome,
            extra=extra,
        )  # fmt: skip
