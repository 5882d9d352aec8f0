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

import logging
import re
import traceback
from collections.abc import Iterable, Mapping
from time import perf_counter
from typing import TYPE_CHECKING, Any, Literal, final, get_args

from ._exceptions import DispatchError, SessionErrorRaised
from ._patterns import compile_pattern, validate_pattern
from ._types import Middleware, Next

if TYPE_CHECKING:
    from ._context import Context
    from .events import Event

__all__ = [
    "ErrorEscalation",
    "LoggingMiddleware",
    "Middleware",
    "Next",
    "ToolNameFilter",
    "redact",
    "redact_text",
]

REDACTED = "[REDACTED]"
_SECRET_KEYS = frozenset(
    {"authorization", "proxy_authorization", "x_api_key", "api_key", "apikey", "token"}
    | {"access_token", "refresh_token", "secret", "client_secret", "password", "cookie"}
    | {"set_cookie", "private_key"}
)
_SECRET_SUFFIXES = ("_api_key", "_apikey", "_secret", "_password", "_token")
# Anthropic keys, and bearer credentials written out in free text.
_SECRET_TEXT = re.compile(r"sk-ant-[\w-]+|\b[Bb]earer\s+[\w.~+/=-]{8,}")
# "x-api-key: VALUE", "api_key=VALUE", "Authorization: Basic VALUE" written out in text.
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)\b((?:x-)?api[-_]?key|authorization|password|secret)(['\"]?\s*[:=]\s*['\"]?)"
    r"(?:(?:basic|bearer)\s+)?[^\s'\",;&]+"
)


def _secret_key(key: str) -> bool:
    norm = key.lower().replace("-", "_")
    return norm in _SECRET_KEYS or norm.endswith(_SECRET_SUFFIXES)


def redact_text(text: str) -> str:
    """``text`` with credentials replaced by ``[REDACTED]``.

    Covers Anthropic keys (``sk-ant-…``), ``Bearer …`` tokens and values written after a
    secret-sounding name (``x-api-key: …``, ``api_key=…``, ``Authorization: Basic …``).
    """
    text = _SECRET_TEXT.sub(REDACTED, text)
    return _SECRET_ASSIGNMENT.sub(rf"\1\2{REDACTED}", text)


def redact(value: Any) -> Any:
    """A copy of ``value`` safe to log: secret-looking keys and key-like strings replaced.

    Mappings have the values of keys such as ``x-api-key``, ``Authorization``, ``api_key``,
    ``password`` or ``*_token`` replaced by ``"[REDACTED]"``, recursively; strings go
    through :func:`redact_text`; pydantic models are dumped to JSON data first.
    """
    if isinstance(value, Mapping):
        return {
            k: REDACTED if isinstance(k, str) and _secret_key(k) else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return redact(dump(mode="json"))
    return value


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
            "processed_at": event.processed_at,
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


TOOL_USE_TYPES = frozenset({"agent.tool_use", "agent.custom_tool_use", "agent.mcp_tool_use"})
"""Events that call a tool; their ``tool_name`` is the tool's name."""

TOOL_REPLY_FIELDS: Mapping[str, str] = {
    "agent.tool_result": "tool_use_id",
    "agent.mcp_tool_result": "mcp_tool_use_id",
    "user.tool_result": "tool_use_id",
    "user.custom_tool_result": "custom_tool_use_id",
    "user.tool_confirmation": "tool_use_id",
}
"""Events that answer a tool call, and the field holding the id of that call's event."""

# "" for a tool call (its own name counts), else the field naming the call it answers.
_TOOL_EVENT_KINDS: dict[str, str] = {**dict.fromkeys(TOOL_USE_TYPES, ""), **TOOL_REPLY_FIELDS}


@final
class ToolNameFilter:
    """Keep tool events whose tool name does not pass from reaching the handlers.

    ``allow`` and ``deny`` are glob patterns (or lists of them) for tool names; ``deny``
    wins, and ``allow=None`` allows every name not denied. Tool calls
    (``agent.tool_use``, ``agent.custom_tool_use``, ``agent.mcp_tool_use``) are judged by
    their ``name``; results and confirmations by the name of the call they answer, when
    that call is known to ``ctx.event_by_id`` (the run loop remembers every event).
    Everything else passes. Filtering hides events from handlers only: it does not
    answer or refuse the calls.
    """

    def __init__(
        self, allow: str | Iterable[str] | None = None, deny: str | Iterable[str] = ()
    ) -> None:
        self.allow = None if allow is None else _patterns(allow, "allow")
        self.deny = _patterns(deny, "deny")
        self._allow = None if self.allow is None else [compile_pattern(p) for p in self.allow]
        self._deny = [compile_pattern(p) for p in self.deny]
        self._decided: dict[str, bool] = {}
        self._logger = logging.getLogger("agentflow.middleware")

    def allows(self, tool_name: str) -> bool:
        """True when ``tool_name`` passes ``allow`` and is not denied."""
        decided = self._decided.get(tool_name)
        if decided is None:
            decided = not any(m(tool_name) for m in self._deny) and (
                self._allow is None or any(m(tool_name) for m in self._allow)
            )
            if len(self._decided) < 1024:
                self._decided[tool_name] = decided
        return decided

    async def __call__(self, event: Event, ctx: Context, call_next: Next) -> None:
        event_type = event.type
        kind = _TOOL_EVENT_KINDS.get(event_type)
        if kind is None:  # not a tool event: the common case, one dict lookup
            await call_next(event, ctx)
            return
        if kind:
            call_id = getattr(event, kind, None)
            call = ctx.event_by_id(call_id) if isinstance(call_id, str) else None
            name = None if call is None else call.tool_name
        else:
            name = event.tool_name
        if name is None or self.allows(name):
            await call_next(event, ctx)
        elif self._logger.isEnabledFor(logging.DEBUG):
            self._logger.debug("filtered %s %s (tool %r)", event_type, event.id, name)

    def __repr__(self) -> str:
        return f"ToolNameFilter(allow={self.allow!r}, deny={self.deny!r})"


def _patterns(value: str | Iterable[str], what: str) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    for item in items:
        try:
            validate_pattern(item)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"ToolNameFilter {what}: {exc}") from None
    return items


Action = Literal["ignore", "log", "interrupt", "stop", "raise"]
"""What :class:`ErrorEscalation` does about an error."""

_ACTIONS = frozenset(get_args(Action))


@final
class ErrorEscalation:
    """Decide what a handler exception or a ``session.error`` event leads to.

    Actions: ``"ignore"`` (nothing), ``"log"`` (log it and carry on), ``"interrupt"``
    (log, then ``await ctx.interrupt()``), ``"stop"`` (log, then ``ctx.stop()``: the run
    ends after this event), ``"raise"`` (end the run with an exception).

    Exceptions. Error handlers registered with ``@app.on_error(ExceptionType)`` always
    come first; ``on_exception`` applies to what none of them handled, whether a handler
    or a middleware raised. With ``"log"``, ``"interrupt"`` or ``"stop"`` a handler's
    failure does not keep the event's other handlers from running. ``"raise"`` raises
    :class:`~agentflow.DispatchError` (the original as ``__cause__``) out of
    ``app.dispatch`` and ``app.run``. Default: ``"log"``. Without an ErrorEscalation the
    app behaves as if ``on_exception="raise"``.

    ``session.error`` events (after their handlers ran) get the action for their
    ``error.retry_status.type``:

    ==============  =============  =====================================================
    retry_status    default        why
    ==============  =============  =====================================================
    ``retrying``    ``"log"``      the server retries by itself; wait
    ``exhausted``   ``"log"``      the turn is over and the session idles; a new prompt
                                   works
    ``terminal``    ``"raise"``    the session is terminating; nothing more will happen
    other/absent    as terminal    an unknown status is treated as the worst case
    ==============  =============  =====================================================

    ``"raise"`` raises :class:`~agentflow.SessionErrorRaised`. Install one per app, with
    ``app.use(ErrorEscalation(...))``; where it sits among the middleware only matters
    for when session errors are acted on.
    """

    def __init__(
        self,
        *,
        on_exception: Action = "log",
        retrying: Action = "log",
        exhausted: Action = "log",
        terminal: Action = "raise",
        logger: logging.Logger | None = None,
    ) -> None:
        for label, action in (
            ("on_exception", on_exception),
            ("retrying", retrying),
            ("exhausted", exhausted),
            ("terminal", terminal),
        ):
            if action not in _ACTIONS:
                raise ValueError(
                    f"ErrorEscalation {label}: expected one of {sorted(_ACTIONS)}, got {action!r}"
                )
        self.on_exception: Action = on_exception
        self.retry_actions: dict[str, Action] = {
            "retrying": retrying,
            "exhausted": exhausted,
            "terminal": terminal,
        }
        self.logger = logging.getLogger("agentflow.errors") if logger is None else logger

    def action_for(self, retry_status: str | None) -> Action:
        """The action for a ``session.error`` with this ``retry_status`` type."""
        return self.retry_actions.get(retry_status or "", self.retry_actions["terminal"])

    async def __call__(self, event: Event, ctx: Context, call_next: Next) -> None:
        await call_next(event, ctx)
        if event.type == "session.error":
            await self.escalate_session_error(event, ctx)

    async def escalate_session_error(self, event: Event, ctx: Context) -> None:
        """Apply the action for a ``session.error`` event."""
        error = event.error
        error_type = _field(error, "type")
        status = _field(_field(error, "retry_status"), "type")
        action = self.action_for(status if isinstance(status, str) else None)
        if action == "ignore":
            return
        message = (
            f"session.error {error_type!r} (retry_status {status!r}) in event {event.id!r}: "
            f"{redact_text(str(_field(error, 'message') or ''))}"
        )
        if action == "raise":
            raise SessionErrorRaised(message, event=event)
        extra = {"event_type": event.type, "event_id": event.id, "session_id": ctx.session_id}
        self.logger.warning("%s; action: %s", message, action, extra=extra)
        await self._act(action, ctx)

    async def escalate_exception(
        self, exc: Exception, event: Event, ctx: Context, message: str
    ) -> None:
        """Apply ``on_exception`` to an exception no error handler took.

        ``message`` says where it was raised; it becomes the ``DispatchError`` message.
        """
        action = self.on_exception
        if action == "raise":
            raise DispatchError(message, event=event) from exc
        if action == "ignore":
            return
        extra = {"event_type": event.type, "event_id": event.id, "session_id": ctx.session_id}
        # The traceback goes into the message, redacted, rather than as exc_info: a
        # formatter would print the exception's own text verbatim.
        trace = redact_text("".join(traceback.format_exception(exc)).rstrip())
        self.logger.error("%s; action: %s\n%s", message, action, trace, extra=extra)
        await self._act(action, ctx)

    @staticmethod
    async def _act(action: Action, ctx: Context) -> None:
        if action == "interrupt":
            await ctx.interrupt()
        elif action == "stop":
            ctx.stop()

    def __repr__(self) -> str:
        statuses = ", ".join(f"{k}={v!r}" for k, v in self.retry_actions.items())
        return f"ErrorEscalation(on_exception={self.on_exception!r}, {statuses})"


def _field(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)
