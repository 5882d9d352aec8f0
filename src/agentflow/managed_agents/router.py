"""``RequiresActionRouter``: the actions router for one Managed Agents session, built from
plain ``send`` and ``history`` functions (for tests and programs that drive it by hand).

It is :class:`~agentflow.core.actions.router.ActionsRouter` with the Managed Agents dialect
and a pluggy plugin manager for the policies; ``app.run`` builds the same router from the
session's channel.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..core.actions.router import ActionsRouter
from ..core.config import DEFAULT_POLICY_TIMEOUT
from ..plugins import PluginPolicies
from .dialect import MANAGED_AGENTS, needs_confirmation

if TYPE_CHECKING:
    import pluggy

    from ..core.actions.protocols import ToolProvider
    from ..core.checkpoint import CheckpointStore
    from ..core.config import UnknownTools
    from ..core.verdicts import Verdict

__all__ = ["RequiresActionRouter", "needs_confirmation"]

Send = Callable[[list[dict[str, Any]]], Awaitable[Any]]
History = Callable[[], AsyncIterator[Any]]


class RequiresActionRouter(ActionsRouter):
    """Answers ``requires_action`` for one session, posting through ``send``.

    ``send`` posts a batch of client events (``client.events.send`` bound to the session);
    ``history`` returns an async iterator over the session's stored events (typed events).
    ``plugins`` holds the confirmation policies, each bounded by ``policy_timeout`` seconds.
    The other options are those of :class:`~agentflow.core.actions.router.ActionsRouter`.
    """

    def __init__(
        self,
        *,
        session_id: str,
        tools: ToolProvider,
        plugins: pluggy.PluginManager,
        send: Send,
        history: History | None = None,
        checkpoint: CheckpointStore | None = None,
        default_confirmation: Verdict | None = None,
        max_concurrency: int = 16,
        send_attempts: int = 5,
        retry_delay: float = 0.5,
        early_start: bool = True,
        unknown_tools: UnknownTools = "error",
        policy_timeout: float | None = DEFAULT_POLICY_TIMEOUT,
    ) -> None:
        super().__init__(
            session_id=session_id,
            dialect=MANAGED_AGENTS,
            answer=send,
            history=history,
            tools=tools,
            policies=PluginPolicies(plugins, timeout=policy_timeout),
            checkpoint=checkpoint,
            default_confirmation=default_confirmation,
            max_concurrency=max_concurrency,
            send_attempts=send_attempts,
            retry_delay=retry_delay,
            early_start=early_start,
            unknown_tools=unknown_tools,
        )
