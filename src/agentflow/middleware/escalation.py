"""``ErrorEscalation``: what a handler exception or an error event leads to."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, final, get_args

from ..core.events import dialect_of
from ..core.exceptions import DispatchError, SessionErrorRaised
from .redact import redact_text

if TYPE_CHECKING:
    from ..core.chain import Next
    from ..core.context import Context
    from ..core.events import Event

__all__ = ["Action", "ErrorEscalation"]

Action = Literal["ignore", "log", "interrupt", "stop", "raise"]
"""What :class:`ErrorEscalation` does about an error."""

_ACTIONS = frozenset(get_args(Action))


@final
class ErrorEscalation:
    """Decide what a handler exception or an error event (``session.error``, ...) leads to.

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

    Error events (``kind == "error"``, after their handlers ran) get the action for their
    severity, which their dialect reports (Managed Agents: the ``session.error``'s
    ``error.retry_status.type``; an error event of a dialect that does not say is treated as
    terminal; one the dialect calls no error to escalate, such as ``workflow_run.error``, is
    left alone):

    ==============  =============  =====================================================
    severity        default        why
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
        """The action for an error event of this severity (``retry_status`` type)."""
        return self.retry_actions.get(retry_status or "", self.retry_actions["terminal"])

    async def __call__(self, event: Event, ctx: Context, call_next: Next) -> None:
        await call_next(event, ctx)
        if event.kind == "error":
            await self.escalate_session_error(event, ctx)

    async def escalate_session_error(self, event: Event, ctx: Context) -> None:
        """Apply the action for an error event (see the class docstring)."""
        dialect = dialect_of(event)
        severity = dialect.severity(event) if dialect is not None else "terminal"
        if severity is None:
            return  # the dialect says this error event is not one to escalate
        error = event.error
        error_type = _field(error, "type")
        status = _field(_field(error, "retry_status"), "type")
        if not isinstance(status, str):
            status = severity
        action = self.action_for(severity)
        if action == "ignore":
            return
        message = (
            f"{event.type} {error_type!r} (retry_status {status!r}) in event {event.id!r}: "
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
