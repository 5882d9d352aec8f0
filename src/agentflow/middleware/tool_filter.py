"""``ToolNameFilter``: tool events whose tool name does not pass never reach the handlers."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, final

from ..core.patterns import compile_pattern, validate_pattern

if TYPE_CHECKING:
    from ..core.chain import Next
    from ..core.context import Context
    from ..core.events import Event

__all__ = ["ToolNameFilter"]

_CALL_KINDS = frozenset({"tool.started", "tool.args_delta"})
"""Kinds of the events that make a tool call: judged by their own ``tool_name``."""

_ANSWER_KINDS = frozenset(
    {"tool.completed", "tool.failed", "approval.requested", "approval.resolved"}
)
"""Kinds of the events about a call made earlier: judged by the name of that call."""


@final
class ToolNameFilter:
    """Keep tool events whose tool name does not pass from reaching the handlers.

    ``allow`` and ``deny`` are glob patterns (or lists of them) for tool names; ``deny``
    wins, and ``allow=None`` allows every name not denied. Tool calls (``kind`` is
    ``tool.started`` or ``tool.args_delta``: ``agent.tool_use``, ``content_block_start``,
    ``tool-call-start``, ...) are judged by their ``tool_name``; results, approvals and
    confirmations by their own ``tool_name`` or else the name of the call they refer to
    (``event.call_id``), when that call is known to ``ctx.event_by_id`` (the run loop
    remembers every event). Everything else passes, in every dialect. Filtering hides events
    from handlers only: it does not answer or refuse the calls.
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
        kind = event.kind
        if kind in _CALL_KINDS:
            name = event.tool_name
        elif kind in _ANSWER_KINDS:
            name = event.tool_name
            if name is None:
                call_id = event.call_id
                call = ctx.event_by_id(call_id) if isinstance(call_id, str) else None
                name = None if call is None else call.tool_name
        else:  # not a tool event: the common case
            await call_next(event, ctx)
            return
        if name is None or self.allows(name):
            await call_next(event, ctx)
        elif self._logger.isEnabledFor(logging.DEBUG):
            self._logger.debug("filtered %s %s (tool %r)", event.type, event.id, name)

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
