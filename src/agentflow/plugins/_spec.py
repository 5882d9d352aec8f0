"""The hook specification of agentflow plugins (pluggy project name ``"agentflow"``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from ..core.context import Context

__all__ = ["ENTRY_POINT_GROUP", "PROJECT_NAME", "AgentflowSpec", "hookimpl", "hookspec"]

#: The pluggy project name; hook implementations must use :data:`hookimpl` (or a marker
#: made with ``pluggy.HookimplMarker("agentflow")``).
PROJECT_NAME = "agentflow"
#: Installed packages register plugins under this entry-point group.
ENTRY_POINT_GROUP = "agentflow"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class AgentflowSpec:
    """The hooks an agentflow plugin may implement."""

    @hookspec(firstresult=True)
    def agentflow_confirm_tool(self, event: Any, ctx: Context) -> Any:
        """Decide an ``ask``-gated ``agent.tool_use`` or ``agent.mcp_tool_use``.

        Return ``Allow()``, ``Deny(message)``, ``None`` (no opinion: the next policy is
        asked), ``True``/``False`` (short for allow/deny) or an awaitable of one of these.
        The first policy that answers decides. Hooks are synchronous: a policy that needs to
        wait (ask a person, call a service) returns a coroutine, which agentflow awaits.
        """
